"""Coordinate decoders: encode a small image once, predict the colour of any point.

The network: ``encoder`` (CNN feature pyramid + global latent), ``decoder``
(residual FiLM MLP), ``reference`` (TTSR's texture transfer from a
reference photo), ``model`` (the network, its config and presets).
Training: ``data`` (image sources), ``store`` (the images as one uint8
array and the reads an example makes), ``examples`` (what a training
example is, :class:`Examples`, and :func:`draw_batch`), ``masking``
(FranNet's masking augmentation), ``batches`` (the device and host
pipelines over that one draw), ``losses`` (TTSR's optional perceptual and
adversarial terms), ``step`` (the pure training step), ``options`` (the
recipe, :class:`TrainConfig`, and the default optimiser) and ``training``
(:func:`train_restorator`).  After training: ``inference`` (a trained
model: restore, save, load, the pretrained weights), ``ensemble`` (averages
over flips and transposes), ``convert`` (a diffusion model, or a deeper
encoder, that starts as a trained model) and ``frannet`` (FranNet's CelebA
protocol and table rows).  ``ARCHITECTURE.md`` draws how they import each other.
"""

from inr.restorator.convert import deepen, to_diffusion
from inr.restorator.data import load_images
from inr.restorator.decoder import Decoder
from inr.restorator.encoder import ACTIVATIONS, Encoder
from inr.restorator.ensemble import ENSEMBLES
from inr.restorator.examples import Examples, draw_batch
from inr.restorator.frannet import frannet_row, protocol_example
from inr.restorator.inference import PRETRAINED, Restorator, load_restorator, save_restorator
from inr.restorator.losses import Adversarial, Critic, Loss, Perceptual
from inr.restorator.masking import Masking
from inr.restorator.model import (
    COLOR_SPACES,
    DECODINGS,
    PRESETS,
    TASKS,
    RestoratorConfig,
    RestoratorNet,
)
from inr.restorator.options import (
    PIPELINES,
    Checkpoints,
    TrainConfig,
    restorator_optimizer,
)
from inr.restorator.reference import TextureExtractor, Transfer
from inr.restorator.step import init_state, train_step
from inr.restorator.store import ImageStore, image_store
from inr.restorator.training import train_restorator

__all__ = [
    "ACTIVATIONS",
    "COLOR_SPACES",
    "DECODINGS",
    "ENSEMBLES",
    "PIPELINES",
    "PRESETS",
    "PRETRAINED",
    "TASKS",
    "Adversarial",
    "Checkpoints",
    "Critic",
    "Decoder",
    "Encoder",
    "Examples",
    "ImageStore",
    "Loss",
    "Masking",
    "Perceptual",
    "Restorator",
    "RestoratorConfig",
    "RestoratorNet",
    "TextureExtractor",
    "TrainConfig",
    "Transfer",
    "deepen",
    "draw_batch",
    "frannet_row",
    "image_store",
    "init_state",
    "load_images",
    "load_restorator",
    "protocol_example",
    "restorator_optimizer",
    "save_restorator",
    "to_diffusion",
    "train_restorator",
    "train_step",
]

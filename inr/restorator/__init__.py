"""Coordinate decoders: encode a small image once, predict the colour of any point.

``encoder`` (CNN feature pyramid + global latent), ``decoder`` (residual
FiLM MLP), ``model`` (the network, its config and presets), ``data``
(image sources, host-built examples, prefetch), ``masking`` (FranNet's
masking augmentation, on the host and in ``jit``), ``stream``
(batches built on the device), ``reference`` (TTSR's texture transfer from a
reference photo), ``frannet`` (FranNet's CelebA protocol and table rows),
``losses`` (TTSR's optional perceptual and adversarial terms),
``options`` (the training recipe and
checkpoint settings), ``checkpoint`` (orbax I/O), ``step`` (the pure
training step), ``train`` (the loop),
``trained`` (a trained model: render, save, load), ``convert`` (a diffusion
model, or a deeper encoder, that starts as a trained model) and ``ensemble`` (averages over
flips and transposes at render time).
"""

from inr.restorator.convert import deepen, to_diffusion
from inr.restorator.data import load_images, make_batch
from inr.restorator.decoder import Decoder
from inr.restorator.encoder import ACTIVATIONS, Encoder
from inr.restorator.ensemble import ENSEMBLES
from inr.restorator.frannet import evaluate, protocol_example
from inr.restorator.losses import Adversarial, Critic, Perceptual
from inr.restorator.masking import Masking
from inr.restorator.model import COLOR_SPACES, PRESETS, TASKS, RestoratorConfig, RestoratorNet
from inr.restorator.options import LOSSES, PIPELINES, Checkpoints, TrainConfig
from inr.restorator.reference import TextureExtractor, Transfer
from inr.restorator.step import init_state, make_optimizer, train_step
from inr.restorator.stream import ImageStore, StreamSpec, device_batch, image_store
from inr.restorator.train import train_restorator
from inr.restorator.trained import PRETRAINED, Restorator, load_restorator, save_restorator

__all__ = [
    "ACTIVATIONS",
    "COLOR_SPACES",
    "ENSEMBLES",
    "LOSSES",
    "PIPELINES",
    "PRESETS",
    "PRETRAINED",
    "TASKS",
    "Adversarial",
    "Checkpoints",
    "Critic",
    "Decoder",
    "Encoder",
    "ImageStore",
    "Masking",
    "Perceptual",
    "Restorator",
    "RestoratorConfig",
    "RestoratorNet",
    "StreamSpec",
    "TextureExtractor",
    "TrainConfig",
    "Transfer",
    "deepen",
    "device_batch",
    "evaluate",
    "image_store",
    "init_state",
    "load_images",
    "load_restorator",
    "make_batch",
    "make_optimizer",
    "protocol_example",
    "save_restorator",
    "to_diffusion",
    "train_restorator",
    "train_step",
]

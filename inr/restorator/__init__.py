"""Coordinate decoders: encode a small image once, predict the colour of any point.

``encoder`` (CNN feature pyramid + global latent), ``decoder`` (residual
FiLM MLP), ``model`` (the network and its config), ``sampling`` (point
samplers with pixel centres aligned), ``data`` (image sources, examples,
masking, prefetch), ``checkpoint`` (orbax), ``train`` (the loop) and
``restorator`` (a trained model: render, save, load).
"""

from inr.restorator.data import Masking, load_images, make_batch
from inr.restorator.decoder import Decoder
from inr.restorator.encoder import ACTIVATIONS, Encoder
from inr.restorator.model import COLOR_SPACES, TASKS, RestoratorConfig, RestoratorNet
from inr.restorator.restorator import PRETRAINED, Restorator, load_restorator, save_restorator
from inr.restorator.train import init_state, make_optimizer, train_restorator, train_step

__all__ = [
    "ACTIVATIONS",
    "COLOR_SPACES",
    "Decoder",
    "Encoder",
    "Masking",
    "PRETRAINED",
    "Restorator",
    "RestoratorConfig",
    "RestoratorNet",
    "TASKS",
    "init_state",
    "load_images",
    "load_restorator",
    "make_batch",
    "make_optimizer",
    "save_restorator",
    "train_restorator",
    "train_step",
]

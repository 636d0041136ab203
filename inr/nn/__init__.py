"""Network building blocks: SIREN, encodings (positional, Fourier, hash grid), baselines."""

from inr.nn.encodings import FourierFeatures, PositionalEncoding, SphericalHarmonics
from inr.nn.hashgrid import HashGrid
from inr.nn.mlp import MLP
from inr.nn.sine import fast_cos, fast_sin
from inr.nn.siren import (
    SineLayer,
    Siren,
    siren_bias_init,
    siren_first_init,
    siren_hidden_init,
)

__all__ = [
    "MLP",
    "FourierFeatures",
    "HashGrid",
    "PositionalEncoding",
    "SineLayer",
    "Siren",
    "SphericalHarmonics",
    "fast_cos",
    "fast_sin",
    "siren_bias_init",
    "siren_first_init",
    "siren_hidden_init",
]

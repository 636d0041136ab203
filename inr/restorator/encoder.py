"""The restorator's encoder: a small CNN giving a feature pyramid and a global latent.

``image (B, h, w, c) -> (maps, latent)``: ``maps`` is one feature map per
scale, ``(B, h / 2^s, w / 2^s, features[s])``, each from two 3x3
convolutions, with 2x2 average pooling between scales; ``latent (B,
latent)`` is a dense layer on the spatial mean of the coarsest map.  The
network is fully convolutional, so any input size works.

With ``residual_blocks > 0`` the finest scale also carries EDSR's body (Lim
et al. 2017, "Enhanced Deep Residual Networks for Single Image
Super-Resolution"): that many residual blocks ``x + conv(relu(conv(x)))``
without batch norm, a closing convolution and a skip around them all.
Upscaling needs deep features at the input's full resolution (LIIF's
encoders are EDSR's and RDN's bodies); the pyramid alone has a 5x5
receptive field there.  Each block's second kernel starts at zero (Fixup,
Zhang et al. 2019), so every block starts as the identity and no residual
scaling is needed at any depth.  The coarser scales pool the deep map.

The activation is selectable, to rerun the experiment of putting sines in
a colorization CNN:

* ``"relu"``: ReLU everywhere, He-normal kernels;
* ``"sine"``: ``sin(w0 z)`` everywhere with SIREN's initialisation (Sitzmann
  et al. 2020): the first convolution ``U(-1/fan_in, 1/fan_in)``, later
  ones ``U(-sqrt(6/fan_in)/w0, sqrt(6/fan_in)/w0)``, ``fan_in = 9 c``;
* ``"sine-relu-sine"``: sines in the first and last convolutions only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

import flax.linen as nn
import jax
import jax.numpy as jnp

from inr.nn.sine import fast_sin
from inr.nn.siren import siren_bias_init, siren_first_init, siren_hidden_init

__all__ = ["ACTIVATIONS", "Body", "Encoder", "ResidualBlock"]

ACTIVATIONS = ("relu", "sine", "sine-relu-sine")


def _uses_sine(activation: str, index: int, count: int) -> bool:
    if activation == "sine":
        return True
    if activation == "sine-relu-sine":
        return index in (0, count - 1)
    return False


class SineConv(nn.Module):
    """A 3x3 convolution followed by ``sin(w0 z)``, SIREN-initialised."""

    features: int
    w0: float = 30.0
    is_first: bool = False

    @nn.compact
    def __call__(self, x: Annotated[jax.Array, "b h w c"]) -> Annotated[jax.Array, "b h w f"]:
        fan_in = 9 * x.shape[-1]
        init = siren_first_init(fan_in) if self.is_first else siren_hidden_init(fan_in, self.w0)
        z = nn.Conv(self.features, (3, 3), kernel_init=init, bias_init=siren_bias_init(fan_in))(x)
        return fast_sin(self.w0 * z)


class ResidualBlock(nn.Module):
    """EDSR's block ``x + conv(relu(conv(x)))``, ReLU, no batch norm; starts as the identity."""

    @nn.compact
    def __call__(self, x: Annotated[jax.Array, "b h w c"]) -> Annotated[jax.Array, "b h w c"]:
        width = x.shape[-1]
        h = nn.relu(nn.Conv(width, (3, 3), kernel_init=nn.initializers.he_normal())(x))
        return x + nn.Conv(width, (3, 3), kernel_init=nn.initializers.zeros)(h)


class Body(nn.Module):
    """EDSR's body: ``blocks`` residual blocks and a closing convolution, with a skip.

    ``h + conv(blocks(h))``.  With a zero closing convolution it is the
    identity, which :func:`inr.restorator.deepen` uses to add a body to a
    trained encoder without changing what it computes.
    """

    blocks: int

    @nn.compact
    def __call__(self, h: Annotated[jax.Array, "b h w c"]) -> Annotated[jax.Array, "b h w c"]:
        x = h
        for _ in range(self.blocks):
            x = ResidualBlock()(x)
        return h + nn.Conv(h.shape[-1], (3, 3), kernel_init=nn.initializers.he_normal())(x)


class Encoder(nn.Module):
    """Feature pyramid and global latent of an image batch (see the module docstring).

    Attributes:
      features: channels per scale (one scale per entry, finest first).
      latent: width of the global latent.
      activation: one of :data:`ACTIVATIONS`.
      w0: frequency of the sine convolutions.
      residual_blocks: EDSR residual blocks at the finest scale (ReLU
        whatever ``activation`` is).
    """

    features: Sequence[int] = (32, 64, 128)
    latent: int = 64
    activation: str = "relu"
    w0: float = 30.0
    residual_blocks: int = 0

    @nn.compact
    def __call__(
        self, image: Annotated[jax.Array, "b h w c"]
    ) -> tuple[tuple[jax.Array, ...], Annotated[jax.Array, "b latent"]]:
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {ACTIVATIONS}; got {self.activation!r}")
        count = 2 * len(self.features)
        h = 2.0 * image - 1.0  # centre the [0, 1] input
        maps = []
        for scale, width in enumerate(self.features):
            if scale:
                h = nn.avg_pool(h, (2, 2), strides=(2, 2), padding="SAME")
            for k in range(2):
                index = 2 * scale + k
                if _uses_sine(self.activation, index, count):
                    h = SineConv(width, self.w0, is_first=index == 0)(h)
                else:
                    conv = nn.Conv(width, (3, 3), kernel_init=nn.initializers.he_normal())
                    h = nn.relu(conv(h))
            if scale == 0 and self.residual_blocks:
                h = Body(self.residual_blocks, name="body")(h)
            maps.append(h)
        latent = nn.relu(nn.Dense(self.latent)(jnp.mean(h, axis=(1, 2))))
        return tuple(maps), latent

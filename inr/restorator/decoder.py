"""The restorator's decoder: an MLP from one point's context to its colour.

``(B, n, d) point inputs, (B, latent) -> (B, n, out)``.  Per point the
input holds the sampled features, the point's offset from its feature
cell, an encoding of its position and the base colour (see
:mod:`inr.restorator.model`).  The MLP is

    h = act(W_in x)
    h = h + act(W_2 film(act(W_1 h)))      (``blocks`` residual blocks)
    y = W_out h

with ``film(z) = z (1 + gamma) + beta``, ``(gamma, beta)`` a dense function
of the image's global latent (feature-wise linear modulation, Perez et al.
2018).  ``W_out`` starts at zero, so an untrained model returns its base
(the bicubic upscale of its input) and training learns a residual.

``activation="sine"`` makes every hidden layer a SIREN layer (Sitzmann et
al. 2020) with its initialisation; ``"relu"`` uses He-normal kernels.
"""

from __future__ import annotations

from typing import Annotated

import flax.linen as nn
import jax
import jax.numpy as jnp

from inr.nn.siren import SineLayer

__all__ = ["Decoder"]


class Decoder(nn.Module):
    """Residual, FiLM-modulated point decoder (see the module docstring).

    Attributes:
      hidden: width of the hidden layers.
      blocks: number of residual blocks.
      out_features: output channels.
      activation: ``"relu"`` or ``"sine"``.
      film: modulate each block by the global latent.
      w0: frequency of the sine layers.
    """

    hidden: int = 192
    blocks: int = 2
    out_features: int = 3
    activation: str = "relu"
    film: bool = True
    w0: float = 30.0

    def _layer(self, x: jax.Array, first: bool = False) -> jax.Array:
        """A dense layer and the activation."""
        if self.activation == "sine":
            return SineLayer(self.hidden, self.w0, is_first=first)(x)
        return nn.relu(nn.Dense(self.hidden, kernel_init=nn.initializers.he_normal())(x))

    @nn.compact
    def __call__(
        self,
        x: Annotated[jax.Array, "b n d"],
        latent: Annotated[jax.Array, "b latent"],
    ) -> Annotated[jax.Array, "b n out"]:
        if self.activation not in ("relu", "sine"):
            raise ValueError(f"activation must be 'relu' or 'sine'; got {self.activation!r}")
        h = self._layer(x, first=True)
        for _ in range(self.blocks):
            z = self._layer(h)
            if self.film:
                gamma, beta = jnp.split(nn.Dense(2 * self.hidden)(latent)[:, None, :], 2, axis=-1)
                z = z * (1.0 + gamma) + beta
            h = h + self._layer(z)
        return nn.Dense(self.out_features, kernel_init=nn.initializers.zeros)(h)

"""Coordinate encodings for ReLU baselines.

* :class:`PositionalEncoding`: NeRF's deterministic frequencies
  (Mildenhall et al., ECCV 2020), ``gamma(p) = (p, sin(2^k pi p),
  cos(2^k pi p))`` for ``k = 0 .. num_frequencies - 1``.
* :class:`FourierFeatures`: Gaussian random Fourier features (Tancik et al.,
  NeurIPS 2020), ``gamma(v) = (cos(2 pi B v), sin(2 pi B v))`` with
  ``B ~ N(0, scale^2)`` drawn once and kept as a non-trainable variable.
"""

from __future__ import annotations

from typing import Annotated

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["FourierFeatures", "PositionalEncoding"]


class PositionalEncoding(nn.Module):
    """``(..., d) -> (..., d * (2 * num_frequencies + include_input))``.

    Attributes:
      num_frequencies: number of octaves ``L``; the highest is ``2^(L-1) pi``.
      include_input: also pass the raw coordinates through (as NeRF does).
    """

    num_frequencies: int = 10
    include_input: bool = True

    def __call__(self, x: Annotated[jax.Array, "... d"]) -> Annotated[jax.Array, "... e"]:
        freqs = jnp.asarray(np.pi * 2.0 ** np.arange(self.num_frequencies), x.dtype)
        angles = (x[..., None, :] * freqs[:, None]).reshape(*x.shape[:-1], -1)
        parts = [jnp.sin(angles), jnp.cos(angles)]
        if self.include_input:
            parts.insert(0, x)
        return jnp.concatenate(parts, axis=-1)


class FourierFeatures(nn.Module):
    """``(..., d) -> (..., 2 * num_features)`` Gaussian Fourier features.

    Attributes:
      num_features: number of random frequencies ``m`` (rows of ``B``).
      scale: standard deviation ``sigma`` of ``B``; Tancik et al. found
        10 for images on [0, 1] coordinates (about 5 on [-1, 1]).
    """

    num_features: int = 256
    scale: float = 10.0

    @nn.compact
    def __call__(self, x: Annotated[jax.Array, "... d"]) -> Annotated[jax.Array, "... e"]:
        b = self.variable(
            "constants",
            "B",
            lambda: (
                self.scale
                * jax.random.normal(self.make_rng("params"), (x.shape[-1], self.num_features))
            ),
        ).value
        angles = 2.0 * np.pi * jnp.dot(x, b)
        return jnp.concatenate([jnp.cos(angles), jnp.sin(angles)], axis=-1)

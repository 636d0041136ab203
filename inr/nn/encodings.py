"""Coordinate encodings for ReLU baselines.

* :class:`PositionalEncoding`: NeRF's deterministic frequencies
  (Mildenhall et al., ECCV 2020), ``gamma(p) = (p, sin(2^k pi p),
  cos(2^k pi p))`` for ``k = 0 .. num_frequencies - 1``.
* :class:`FourierFeatures`: Gaussian random Fourier features (Tancik et al.,
  NeurIPS 2020), ``gamma(v) = (cos(2 pi B v), sin(2 pi B v))`` with
  ``B ~ N(0, scale^2)`` drawn once and kept as a non-trainable variable.
* :class:`SphericalHarmonics`: real spherical harmonics of a unit direction
  up to band ``degree - 1`` (instant-ngp's view-direction encoding, degree 4:
  16 values), orthonormal on the sphere.
"""

from __future__ import annotations

from typing import Annotated

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["FourierFeatures", "PositionalEncoding", "SphericalHarmonics"]


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


class SphericalHarmonics(nn.Module):
    """``(..., 3) -> (..., degree**2)``: the real spherical harmonics of unit directions.

    Bands ``l = 0 .. degree - 1`` (``degree`` 1 to 4), each of its ``2l + 1``
    functions orthonormal over the sphere (``int Y_i Y_j dOmega = delta_ij``),
    in the order and signs of tiny-cuda-nn's encoding.
    """

    degree: int = 4

    def __post_init__(self):
        if isinstance(self.degree, bool) or self.degree not in (1, 2, 3, 4):
            raise ValueError(f"degree must be 1 to 4; got {self.degree!r}")
        super().__post_init__()

    def __call__(self, d: Annotated[jax.Array, "... 3"]) -> Annotated[jax.Array, "... e"]:
        x, y, z = d[..., 0], d[..., 1], d[..., 2]
        xx, yy, zz = x * x, y * y, z * z
        bands = [[jnp.full_like(x, 0.28209479177387814)],
                 [-0.48860251190291987 * y, 0.48860251190291987 * z, -0.48860251190291987 * x],
                 [1.0925484305920792 * x * y, -1.0925484305920792 * y * z,
                  0.94617469575755997 * zz - 0.31539156525251999, -1.0925484305920792 * x * z,
                  0.54627421529603959 * (xx - yy)],
                 [0.59004358992664352 * y * (yy - 3 * xx), 2.8906114426405538 * x * y * z,
                  0.45704579946446572 * y * (1 - 5 * zz), 0.3731763325901154 * z * (5 * zz - 3),
                  0.45704579946446572 * x * (1 - 5 * zz), 1.4453057213202769 * z * (xx - yy),
                  0.59004358992664352 * x * (3 * yy - xx)]]  # fmt: skip
        return jnp.stack([f for band in bands[: self.degree] for f in band], axis=-1)

"""A field decoded from multiresolution latent grids by a pointwise network.

The codec's signal model (Cool-chic's, Ladune et al. 2023, without its
convolutions, so that it is a field of points): ``L`` latent grids, grid
``l`` of ``ceil(N_i / 2^l)`` cells along each axis ``i`` of the signal, a
cell of grid ``l`` covering ``2^l`` of the signal's cells from the
signal's first corner (so every grid's cells nest in the next coarser
grid's, and a grid may reach a little past the signal's far border); at a
point ``x`` every grid is read by separable Keys cubic interpolation
(:func:`inr.interpolation.cubic_taps`: taps past the grid's ends get no
weight, the others renormalised) and a small MLP maps the ``L`` values to
the signal's channels:

    f(x) = MLP(z_0(x), z_1(x), ..., z_{L-1}(x)).

Rendering ``f`` on a grid of any size, or over any box, is the same
function at other points (:meth:`LatentField.__call__`).  On the signal's
own grid, where training evaluates it, each grid's interpolation is a
fixed five-tap filter per output sample (:meth:`LatentField.native`):
shifted copies of the grid, each repeated ``2^l`` times, weighted and
summed, with no gathers, so training's gradient needs no scatters.  The
latents are the parameters ``latent_l``; the synthesis's are
``synthesis_w{i}`` / ``synthesis_b{i}``, and the entropy model's
(:mod:`inr.codec.entropy`) ride along as ``context_*`` so that one fit
trains both.
"""

from __future__ import annotations

import math
from typing import Annotated

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from inr.codec import entropy
from inr.interpolation import cubic_taps

__all__ = ["LatentField", "latent_shapes", "native_taps", "sample_points", "upsample"]


def latent_shapes(grid: tuple[int, ...], channels: tuple[int, ...]) -> list[tuple[int, ...]]:
    """The latent grids' shapes, finest first: ``ceil(N_i / 2^l)`` along each axis, then the
    level's channels."""
    return [(*(math.ceil(n / 2**level) for n in grid), c) for level, c in enumerate(channels)]


def _cell_index(sample, level: int, cells: int, xp=jnp):
    """Continuous cell index on grid ``level`` (``cells`` cells of ``2^level`` samples) of a
    position ``sample`` samples from the first corner (border clamped)."""
    return xp.clip(sample / 2**level - 0.5, -0.5, cells - 0.5)


def _position(coordinate, size: int, level: int, cells: int):
    """:func:`_cell_index` of coordinates in [-1, 1] along an axis of ``size`` samples."""
    return _cell_index((coordinate + 1.0) * (size / 2.0), level, cells)


def native_taps(size: int, level: int, cells: int) -> np.ndarray:
    """``(size, 5)`` weights of grid cells ``j // 2^level + o``, ``o = -2..2``, at the samples'
    centres: :func:`~inr.interpolation.cubic_taps` as a fixed filter."""
    scale = 2**level
    own = np.arange(size) // scale
    taps, weights = cubic_taps(_cell_index(np.arange(size) + 0.5, level, cells, np), cells, np)
    filt = np.zeros((size, 5))
    np.add.at(filt, (np.arange(size)[:, None], taps - own[:, None] + 2), weights)
    return filt


def upsample(latent, size: int, level: int, axis: int):
    """``latent`` along ``axis`` at the centres of ``size`` samples: :func:`native_taps` applied
    to shifted copies, each repeated ``2^level`` times (equal to :func:`sample_points`)."""
    cells, scale = latent.shape[axis], 2**level
    if scale == 1:  # the finest grid, one cell per sample: its filter is the identity
        return latent
    filt = native_taps(size, level, cells)
    padded = jnp.pad(latent, [(2, 2) if a == axis else (0, 0) for a in range(latent.ndim)])
    shape = [1] * latent.ndim
    shape[axis] = size
    out = 0.0
    for o in range(5):
        shifted = jax.lax.slice_in_dim(padded, o, o + cells, axis=axis)
        spread = jnp.repeat(shifted, scale, axis=axis, total_repeat_length=cells * scale)
        out = out + jax.lax.slice_in_dim(spread, 0, size, axis=axis) * filt[:, o].reshape(shape)
    return out


def sample_points(latent, points: Annotated[jax.Array, "n d"], grid: tuple[int, ...], level: int):
    """``latent`` ``(m_1, .., m_d, C)``, grid ``level`` of a signal of ``grid`` samples, at
    ``points``: ``(n, C)``."""
    d = latent.ndim - 1
    index, weight = [], None
    for i in range(d):
        axis = d - 1 - i
        cells = latent.shape[axis]
        pos = _position(points[:, i], grid[axis], level, cells)
        taps, w = cubic_taps(pos, cells, jnp)
        shape = [points.shape[0]] + [1] * d
        shape[1 + axis] = 4
        index.append((axis, taps.reshape(shape)))
        w = w.reshape(shape).astype(latent.dtype)
        weight = w if weight is None else weight * w
    taps = [t for _, t in sorted(index)]
    return jnp.sum(latent[tuple(taps)] * weight[..., None], axis=tuple(range(1, d + 1)))


class LatentField(nn.Module):
    """Latent grids and a pointwise synthesis: a field of ``channels`` values (module docstring).

    Attributes:
      grid: the signal's grid, array order (static; its size fixes the latents').
      channels: output channels.
      latents: channels of each latent grid, finest first (one entry per grid).
      hidden: the synthesis MLP's hidden widths (ReLU between).
      context: the entropy model's hidden width (:mod:`inr.codec.entropy`).
    """

    grid: tuple[int, ...]
    channels: int = 3
    latents: tuple[int, ...] = (1,) * 7
    hidden: tuple[int, ...] = (24, 24)
    context: int = 8

    def setup(self):
        shapes = latent_shapes(self.grid, self.latents)
        self.grids = [self.param(f"latent_{i}", nn.initializers.zeros, s, jnp.float32)
                      for i, s in enumerate(shapes)]  # fmt: skip
        widths = (sum(self.latents), *self.hidden, self.channels)
        # Orthogonal: the synthesis's gain sets how far the latents must move (each move
        # costing bits), and Gaussian weights spread that gain from seed to seed.
        init = nn.initializers.orthogonal()
        # Hidden biases start positive: at zero latents a ReLU with a zero bias passes no
        # gradient back, and the latents would never start to move.
        hidden = nn.initializers.constant(0.1)
        self.synthesis = [
            (self.param(f"synthesis_w{i}", init, (a, b), jnp.float32),
             self.param(f"synthesis_b{i}", hidden if i < len(widths) - 2 else nn.initializers.zeros,
                        (b,), jnp.float32))
            for i, (a, b) in enumerate(zip(widths[:-1], widths[1:], strict=True))
        ]  # fmt: skip
        features = entropy.feature_count(len(self.grid))
        entropy.init_params(self, features, self.context, sum(self.latents))

    def _synthesise(self, z):
        """The MLP on ``(..., sum(latents))`` interpolated latents."""
        for i, (w, b) in enumerate(self.synthesis):
            z = z @ w + b
            if i < len(self.synthesis) - 1:
                z = jax.nn.relu(z)
        return z

    def __call__(self, x: Annotated[jax.Array, "n d"]) -> Annotated[jax.Array, "n C"]:
        z = [sample_points(latent, x, self.grid, level) for level, latent in enumerate(self.grids)]
        return self._synthesise(jnp.concatenate(z, axis=-1))

    def native(self) -> jax.Array:
        """The field at the centres of the signal's own grid: ``(*grid, C)`` (array order)."""
        z = []
        for level, latent in enumerate(self.grids):
            for axis, size in enumerate(self.grid):
                latent = upsample(latent, size, level, axis)
            z.append(latent)
        return self._synthesise(jnp.concatenate(z, axis=-1))

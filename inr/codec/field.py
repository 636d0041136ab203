"""A field decoded from multiresolution latent grids by a pointwise network.

The codec's signal model (Cool-chic's, Ladune et al. 2023, its
convolutions recast as sums over shifted points, so that it is a field of
points): ``L`` latent grids, grid
``l`` of ``ceil(N_i / 2^l)`` cells along each axis ``i`` of the signal, a
cell of grid ``l`` covering ``2^l`` of the signal's cells from the
signal's first corner (so every grid's cells nest in the next coarser
grid's, and a grid may reach a little past the signal's far border); at a
point ``x`` every grid is read by separable Keys cubic interpolation
(:func:`inr.interpolation.cubic_taps`: taps past the grid's ends get no
weight, the others renormalised) and a small MLP maps the ``L`` values to
the signal's channels:

    h(x) = MLP(z_0(x), z_1(x), ..., z_{L-1}(x)).

With ``refine`` a residual filter follows, channel by channel (Cool-chic
ends its synthesis with ``3^d`` convolutions, Leguay et al. 2023):

    f(x) = h(x) + sum_k w_k * h(clip(x + delta_k)),

over the ``3^d`` offsets ``delta_k`` of one of the signal's samples along
each axis (``-1, 0, 1`` samples), clipped to the box of the first and last
samples' centres, ``w_k`` a weight per channel.  On the signal's own grid
it is a ``3^d`` convolution of the MLP's values, their edge repeated; it
sharpens what the smooth interpolation blurs for ``3^d C`` weights.

Rendering ``f`` on a grid of any size, or over any box, is the same
function at other points (:meth:`LatentField.__call__`).  On the signal's
own grid, where training evaluates it, each grid's interpolation is a
fixed five-tap filter per output sample (:meth:`LatentField.native`):
shifted copies of the grid, each repeated ``2^l`` times, weighted and
summed, with no gathers, so training's gradient needs no scatters.  The
latents are the parameters ``latent_l``; the synthesis's are
``synthesis_w{i}`` / ``synthesis_b{i}`` and ``synthesis_refine``, and the
entropy model's (:mod:`inr.codec.entropy`) ride along as ``context_*`` so
that one fit trains both.
"""

from __future__ import annotations

import itertools
import math
from typing import Annotated

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from inr.codec import entropy
from inr.interpolation import cubic_taps

__all__ = ["LatentField", "latent_shapes", "native_taps", "refinement", "sample_points",
           "upsample"]  # fmt: skip


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


def refinement(h, weights, xp=jnp):
    """``sum_k w_k h(. + delta_k)`` of ``h`` ``(*grid, C)`` on its own grid, its edges repeated:
    the refining filter's residual (module docstring), ``weights`` ``(3^d, C)``."""
    grid = h.shape[:-1]
    padded = xp.pad(h, [(1, 1)] * len(grid) + [(0, 0)], mode="edge")
    near = [padded[tuple(slice(o, o + n) for o, n in zip(offset, grid, strict=True))]
            for offset in itertools.product((0, 1, 2), repeat=len(grid))]  # fmt: skip
    return sum(v * w for v, w in zip(near, weights, strict=True))


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
      refine: whether the residual ``3^d`` filter follows the MLP (module docstring).
    """

    grid: tuple[int, ...]
    channels: int = 3
    latents: tuple[int, ...] = (1,) * 7
    hidden: tuple[int, ...] = (24, 24)
    context: int = 8
    refine: bool = False

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
        if self.refine:  # zero: the fit starts from the MLP alone
            self.filter = self.param("synthesis_refine", nn.initializers.zeros,
                                     (3 ** len(self.grid), self.channels), jnp.float32)  # fmt: skip
        features = entropy.feature_count(len(self.grid))
        entropy.init_params(self, features, self.context, sum(self.latents))

    def _synthesise(self, z):
        """The MLP on ``(..., sum(latents))`` interpolated latents."""
        for i, (w, b) in enumerate(self.synthesis):
            z = z @ w + b
            if i < len(self.synthesis) - 1:
                z = jax.nn.relu(z)
        return z

    def _mlp_at(self, x):
        z = [sample_points(latent, x, self.grid, level) for level, latent in enumerate(self.grids)]
        return self._synthesise(jnp.concatenate(z, axis=-1))

    def __call__(self, x: Annotated[jax.Array, "n d"]) -> Annotated[jax.Array, "n C"]:
        if not self.refine:
            return self._mlp_at(x)
        d, n = len(self.grid), x.shape[0]
        size = np.array(self.grid[::-1], np.float32)  # the points' axes: array axes reversed
        shifts = np.array(list(itertools.product((-1, 0, 1), repeat=d)), np.float32)[:, ::-1]
        near = x[None] + (2.0 / size) * shifts[:, None]  # (3^d, n, d): one sample away
        near = jnp.clip(near, -1.0 + 1.0 / size, 1.0 - 1.0 / size)  # the edge's own sample
        h = self._mlp_at(jnp.concatenate([x, near.reshape(-1, d)]))
        h = h.reshape(1 + len(shifts), n, self.channels)
        return h[0] + jnp.einsum("knc,kc->nc", h[1:], self.filter)

    def native(self) -> jax.Array:
        """The field at the centres of the signal's own grid: ``(*grid, C)`` (array order)."""
        z = []
        for level, latent in enumerate(self.grids):
            for axis, size in enumerate(self.grid):
                latent = upsample(latent, size, level, axis)
            z.append(latent)
        h = self._synthesise(jnp.concatenate(z, axis=-1))
        return h + refinement(h, self.filter) if self.refine else h

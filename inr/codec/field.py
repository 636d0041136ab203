"""A field decoded from multiresolution latent grids by a pointwise network.

The codec's signal model (Cool-chic's, Ladune et al. 2023, without its
convolutions, so that it is a field of points): ``L`` latent grids, grid
``l`` of ``ceil(N_i / 2^l)`` cells along each axis ``i`` of the signal, each
covering the whole of [-1, 1]^d (cell centres as :mod:`inr.coords` places
them); at a point ``x`` every grid is read by separable Keys cubic
interpolation (:func:`inr.interpolation.cubic_taps`, the border extended)
and a small MLP maps the ``L`` values to the signal's channels:

    f(x) = MLP(z_0(x), z_1(x), ..., z_{L-1}(x)).

Rendering ``f`` on a grid of any size, or over any box, is the same
function at other points: :meth:`LatentField.grid` evaluates it on a grid
axis by axis (the interpolation is separable), :meth:`LatentField.__call__`
at any points.  The latents are the parameters ``latent_l``; the
synthesis's are ``synthesis_w{i}`` / ``synthesis_b{i}``, and the entropy
model's (:mod:`inr.codec.entropy`) ride along as ``context_*`` so that one
fit trains both.
"""

from __future__ import annotations

import math
from typing import Annotated

import flax.linen as nn
import jax
import jax.numpy as jnp

from inr.codec import entropy
from inr.interpolation import cubic_taps

__all__ = ["LatentField", "latent_shapes", "sample_grid", "sample_points"]


def latent_shapes(grid: tuple[int, ...], channels: tuple[int, ...]) -> list[tuple[int, ...]]:
    """The latent grids' shapes, finest first: ``ceil(N_i / 2^l)`` along each axis, then the
    level's channels."""
    return [(*(math.ceil(n / 2**level) for n in grid), c) for level, c in enumerate(channels)]


def _position(coordinate, cells: int):
    """Continuous cell index of coordinates in [-1, 1] on ``cells`` centres (border clamped)."""
    pos = (coordinate + 1.0) * (cells / 2.0) - 0.5
    return jnp.clip(pos, -0.5, cells - 0.5)


def sample_grid(latent, axes):
    """``latent`` ``(m_1, .., m_d, C)`` on the product grid of ``axes`` (coordinate order).

    Returns ``(len(axes[-1]), .., len(axes[0]), C)``, array order: separable
    cubic interpolation, one axis at a time.
    """
    out = latent
    d = latent.ndim - 1
    for i, coordinates in enumerate(axes):  # coordinate i runs along array axis d - 1 - i
        axis = d - 1 - i
        taps, weights = cubic_taps(_position(coordinates, latent.shape[axis]),
                                   latent.shape[axis], jnp)  # fmt: skip
        gathered = jnp.take(out, taps, axis=axis)  # the axis becomes (n, 4)
        shape = [1] * gathered.ndim
        shape[axis], shape[axis + 1] = weights.shape
        out = jnp.sum(gathered * weights.reshape(shape).astype(out.dtype), axis=axis + 1)
    return out


def sample_points(latent, points: Annotated[jax.Array, "n d"]):
    """``latent`` ``(m_1, .., m_d, C)`` at ``points``: ``(n, C)``, the same interpolation."""
    d = latent.ndim - 1
    index, weight = [], None
    for i in range(d):
        axis = d - 1 - i
        taps, w = cubic_taps(_position(points[:, i], latent.shape[axis]), latent.shape[axis], jnp)
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
    context: int = 16

    def setup(self):
        shapes = latent_shapes(self.grid, self.latents)
        self.grids = [self.param(f"latent_{i}", nn.initializers.zeros, s, jnp.float32)
                      for i, s in enumerate(shapes)]  # fmt: skip
        widths = (sum(self.latents), *self.hidden, self.channels)
        init = nn.initializers.lecun_normal()
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
        z = jnp.concatenate([sample_points(latent, x) for latent in self.grids], axis=-1)
        return self._synthesise(z)

    def grid_values(self, axes) -> jax.Array:
        """The field on the product grid of ``axes`` (coordinate order): ``(*sizes, C)``."""
        z = jnp.concatenate([sample_grid(latent, axes) for latent in self.grids], axis=-1)
        return self._synthesise(z)

"""The multiresolution hash encoding as pure functions (Muller et al., SIGGRAPH 2022).

Level ``l`` of ``L`` is a grid of resolution ``N_l = floor(N_min * b^l)``
(``N_min`` the base resolution, ``b`` the growth factor) over the unit cube;
a point ``u`` in [0, 1]^d sits in the cell with corners ``floor(N_l u)``
and ``floor(N_l u) + 1``.  Each corner's ``F`` features are read from the
level's table of ``T`` rows: directly (row ``sum_i v_i (N_l + 1)^i``) when
the level's ``(N_l + 1)^d`` vertices fit, else at the spatial hash

    h(v) = (v_1 pi_1  XOR  v_2 pi_2  XOR  ...  XOR  v_d pi_d)  mod T,

with ``pi = (1, 2654435761, 805459861)`` (the paper's Eq. 4), in uint32
arithmetic.  The ``2^d`` corner features are blended with d-linear weights
and the ``L`` levels concatenated: ``(..., d) -> (..., L F)``.  Inputs are
coordinates in [-1, 1] (this library's convention), mapped to [0, 1] and
clamped there.

Derivatives.  With the paper's linear interpolation the encoding is
piecewise linear in each axis: its first derivatives jump at cell edges
and its second derivatives vanish inside cells (only mixed terms such as
``d^2/dx dy`` survive), so a Laplacian of the field sees the MLP's
curvature alone.  ``interpolation="smoothstep"`` blends with
``s(t) = t^2 (3 - 2t)`` instead: C1 across cell edges, with second
derivatives that are meaningful everywhere, at the price of a zero first
derivative of each level at its vertices.

All levels are read with one gather from one table (the levels' tables
concatenated), so the backward pass is one scatter-add.
:class:`~inr.HashGrid` is the Flax module over these functions.
"""

from __future__ import annotations

import itertools
from typing import Annotated, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

__all__ = [
    "PRIMES",
    "GridSpec",
    "corners",
    "encode",
    "grid_layout",
    "hash_coordinates",
    "spatial_hash",
]

PRIMES = (1, 2654435761, 805459861)


def spatial_hash(vertices, table_size: int):
    """The paper's hash of integer ``vertices (..., d)``, ``d <= 3``, into ``[0, table_size)``.

    ``table_size`` a power of two takes the low bits (as the ``mod`` does).
    """
    v = jnp.asarray(vertices).astype(jnp.uint32)
    return hash_coordinates([v[..., i] for i in range(v.shape[-1])], table_size)


def hash_coordinates(coordinates, table_size: int):
    """:func:`spatial_hash` of a vertex given as a list of ``d`` uint32 arrays, one per axis."""
    h = coordinates[0] * jnp.uint32(PRIMES[0])
    for i in range(1, len(coordinates)):
        h = h ^ (coordinates[i] * jnp.uint32(PRIMES[i]))
    return h % jnp.uint32(table_size)


def grid_layout(dims: int, levels: int, table_size: int, base_resolution: int, growth: float):
    """Per level: ``(resolution, rows, dense, offset)`` as NumPy arrays ``(L,)``.

    ``rows`` is the level's table length: ``(N_l + 1)^d`` for a dense level
    (all its vertices fit in ``table_size``), else ``table_size``; ``offset``
    is where the level starts in the concatenated table.
    """
    res = np.floor(base_resolution * growth ** np.arange(levels)).astype(np.int64)
    vertices = (res + 1) ** dims
    dense = vertices <= table_size
    rows = np.where(dense, vertices, table_size)
    offset = np.concatenate([[0], np.cumsum(rows)[:-1]])
    return res, rows, dense, offset


class GridSpec(NamedTuple):
    """What :func:`encode` needs to know of a grid, hashable (a static argument)."""

    resolution: tuple[int, ...]  # N_l per level
    dense: tuple[bool, ...]  # whether level l is stored directly
    offset: tuple[int, ...]  # where level l starts in the concatenated table
    table_size: int  # T, the hashed levels' rows
    smooth: bool  # smoothstep interpolation


def corners(dims: int) -> np.ndarray:
    """The ``2^d`` corner offsets of a cell, ``(2^d, d)``, in ``itertools.product`` order."""
    return np.array(list(itertools.product((0, 1), repeat=dims)))


def encode(
    x: Annotated[jax.Array, "n d"], table: Annotated[jax.Array, "rows F"], spec: GridSpec
) -> Annotated[jax.Array, "n LF"]:
    """The encoding of points ``x`` in [-1, 1] with ``table``, by one XLA gather.

    The pure function behind :class:`HashGrid`; every derivative of it is
    exact (JAX differentiates the gather and the interpolation weights).
    """
    n, d = x.shape
    res = np.asarray(spec.resolution)
    u = jnp.clip((x.astype(jnp.float32) + 1.0) / 2.0, 0.0, 1.0)
    pos = u[:, None, :] * jnp.asarray(res, jnp.float32)[:, None]  # (n, L, d)
    cell = jnp.clip(jnp.floor(pos), 0, jnp.asarray(res - 1, jnp.float32)[:, None])
    t = pos - cell
    if spec.smooth:
        t = t * t * (3.0 - 2.0 * t)
    corner = corners(d)
    vertex = cell.astype(jnp.uint32)[..., None, :] + jnp.asarray(corner, jnp.uint32)
    # Wrapped to uint32 like the products: only dense levels' rows are used.
    strides = jnp.asarray(((res[:, None] + 1) ** np.arange(d)) % 2**32, jnp.uint32)
    direct = jnp.sum(vertex * strides[:, None, :], axis=-1, dtype=jnp.uint32)
    hashed = spatial_hash(vertex, spec.table_size)
    row = jnp.where(jnp.asarray(spec.dense)[:, None], direct, hashed)
    row = row.astype(jnp.int32) + jnp.asarray(spec.offset, jnp.int32)[:, None]
    weight = jnp.prod(jnp.where(corner == 1, t[..., None, :], 1.0 - t[..., None, :]), -1)
    feats = table[row].astype(jnp.float32)  # (n, L, 2^d, F)
    if _blend_by_contraction():
        out = jnp.einsum("nlc,nlcf->nlf", weight, feats, precision=jax.lax.Precision.HIGHEST)
    else:
        out = jnp.sum(weight[..., None] * feats, axis=-2)
    return out.reshape(n, len(spec.resolution) * table.shape[1])


def _blend_by_contraction() -> bool:
    """Whether :func:`encode` blends the corners by ``einsum`` rather than a sum.

    The same numbers either way.  On a CPU, XLA compiles the sum over the
    ``2^d`` corners (a short axis that is not the minor one) to a slow loop:
    at the tiny-cuda-nn sample's size the encoding took 0.66 s forward and
    0.51 s with its table gradient, against 0.25 s and 0.43 s as a
    contraction.  Accelerators keep the sum, the form timed on them.
    """
    return jax.default_backend() == "cpu"

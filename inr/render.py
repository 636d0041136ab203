"""Chunked evaluation of a pointwise field over many points.

A field ``f: (n, 2) -> (n, C)`` evaluated on a 4096x4096 grid would hold
16.7 M x hidden activations at once.  Instead the points are padded to a
whole number of fixed-size chunks and evaluated with ``lax.map``, so peak
memory is one chunk's activations, the compiled program is the same for
every chunk, and a point's value does not depend on which chunk it is in.
Given a mesh, the points are first split over its ``"data"`` axis and each
device evaluates its share in chunks, so the values are the same on any
number of devices.  Call inside ``jit``.
"""

from __future__ import annotations

from collections.abc import Callable

import chex
import jax
from jax.sharding import Mesh

from inr.distributed import data_sharding, data_size, pad_rows

__all__ = ["DEFAULT_CHUNK", "evaluate_chunked"]

# 65536 points x 256 features x 4 bytes = 64 MiB per activation tensor.
DEFAULT_CHUNK = 65536


def _chunked(fn, points, chunk):
    n = jax.tree.leaves(points)[0].shape[0]
    chunk = max(1, min(chunk, n))
    n_chunks = -(-n // chunk)
    split = lambda x: pad_rows(x, n_chunks * chunk).reshape(n_chunks, chunk, *x.shape[1:])
    out = jax.lax.map(fn, jax.tree.map(split, points))
    return jax.tree.map(lambda y: y.reshape(n_chunks * chunk, *y.shape[2:])[:n], out)


def evaluate_chunked(
    fn: Callable,
    points,
    chunk: int = DEFAULT_CHUNK,
    mesh: Mesh | None = None,
):
    """``fn(points)`` computed ``chunk`` points at a time; ``fn`` must be pointwise.

    ``points`` is an ``(n, ...)`` array or a pytree of them sharing ``n``
    (say coordinates with per-point noise and PRNG keys).  Returns
    ``(n, ...)`` as ``fn`` would.  Padding repeats the last point, so it is
    finite, and is discarded.  With ``mesh``, each of the ``D`` devices of
    its ``"data"`` axis evaluates ``ceil(n / D)`` points (``chunk`` at a
    time) and the result is split over ``"data"``; whatever ``fn`` closes
    over is replicated.
    """
    chex.assert_equal_shape_prefix(jax.tree.leaves(points), 1)
    if mesh is None:
        return _chunked(fn, points, chunk)
    # A leading device axis split over "data": XLA's SPMD partitioner gives each
    # device its own loop over its own chunks (no collectives), and unlike
    # shard_map, ``fn`` may close over arrays of any sharding.
    n, d = jax.tree.leaves(points)[0].shape[0], data_size(mesh)
    per_device = -(-n // d)
    split = data_sharding(mesh)

    def to_devices(x):
        x = pad_rows(x, per_device * d).reshape(d, per_device, *x.shape[1:])
        return jax.lax.with_sharding_constraint(x, split)

    def from_devices(y):
        y = jax.lax.with_sharding_constraint(y, split)
        return y.reshape(d * per_device, *y.shape[2:])[:n]

    out = jax.vmap(lambda p: _chunked(fn, p, chunk))(jax.tree.map(to_devices, points))
    return jax.tree.map(from_devices, out)

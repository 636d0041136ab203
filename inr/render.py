"""Chunked evaluation of a pointwise field over many points.

A field ``f: (n, 2) -> (n, C)`` evaluated on a 4096x4096 grid would hold
16.7 M x hidden activations at once.  Instead the points are padded to a
whole number of fixed-size chunks and evaluated with ``lax.map``, so peak
memory is one chunk's activations, the compiled program is the same for
every chunk, and a point's value does not depend on which chunk it is in.
Call inside ``jit``.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp

__all__ = ["evaluate_chunked", "DEFAULT_CHUNK"]

# 65536 points x 256 features x 4 bytes = 64 MiB per activation tensor.
DEFAULT_CHUNK = 65536


def evaluate_chunked(
    fn: Callable,
    points,
    chunk: int = DEFAULT_CHUNK,
):
    """``fn(points)`` computed ``chunk`` points at a time; ``fn`` must be pointwise.

    ``points`` is an ``(n, ...)`` array or a pytree of them sharing ``n``
    (say coordinates with per-point noise and PRNG keys).  Returns
    ``(n, ...)`` as ``fn`` would.  Padding repeats the last point, so it is
    finite, and is discarded.
    """
    leaves = jax.tree.leaves(points)
    n = leaves[0].shape[0]
    chunk = max(1, min(chunk, n))
    n_chunks = -(-n // chunk)
    pad = n_chunks * chunk - n

    def split(x):
        if pad:
            x = jnp.concatenate([x, jnp.broadcast_to(x[-1:], (pad,) + x.shape[1:])])
        return x.reshape(n_chunks, chunk, *x.shape[1:])

    out = jax.lax.map(fn, jax.tree.map(split, points))
    return jax.tree.map(lambda y: y.reshape(n_chunks * chunk, *y.shape[2:])[:n], out)

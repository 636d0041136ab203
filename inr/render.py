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
from typing import Annotated

import jax
import jax.numpy as jnp

__all__ = ["evaluate_chunked", "DEFAULT_CHUNK"]

# 65536 points x 256 features x 4 bytes = 64 MiB per activation tensor.
DEFAULT_CHUNK = 65536


def evaluate_chunked(
    fn: Callable[[jax.Array], jax.Array],
    points: Annotated[jax.Array, "n d"],
    chunk: int = DEFAULT_CHUNK,
) -> jax.Array:
    """``fn(points)`` computed ``chunk`` points at a time; ``fn`` must be pointwise.

    Returns ``(n, ...)`` as ``fn`` would.  Padding points repeat the last
    point, so they are finite and discarded.
    """
    n = points.shape[0]
    chunk = max(1, min(chunk, n))
    n_chunks = -(-n // chunk)
    pad = n_chunks * chunk - n
    if pad:
        points = jnp.concatenate([points, jnp.broadcast_to(points[-1:], (pad,) + points.shape[1:])])
    out = jax.lax.map(fn, points.reshape(n_chunks, chunk, *points.shape[1:]))
    return out.reshape(n_chunks * chunk, *out.shape[2:])[:n]

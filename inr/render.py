"""Chunked evaluation of a pointwise field over many points.

A field ``f: (n, 2) -> (n, C)`` evaluated on a 4096x4096 grid would hold
16.7 M x hidden activations at once.  Instead the points are padded to a
whole number of fixed-size chunks and evaluated with ``lax.map``, so peak
memory is one chunk's activations, the compiled program is the same for
every chunk, and a point's value does not depend on which chunk it is in.
From the host (:func:`evaluate`, :func:`evaluate_grid`) any number of
points travels in fixed-size blocks, so one program serves every count;
a block runs only the chunks that hold points, so a small render does
not pay for a large block.  Given a mesh, the points are first split over
its ``"data"`` axis and each device evaluates its share in chunks, so the
values are the same on any number of devices.  Call
:func:`evaluate_chunked` inside ``jit``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import chex
import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh

from inr._by_value import ByValue
from inr._validate import as_positive_int
from inr.distributed import data_sharding, data_size, pad_rows, to_host

__all__ = ["DEFAULT_CHUNK", "evaluate", "evaluate_chunked", "evaluate_grid"]

# Points per device per block; on a CPU a block runs in SLICES chunks: 4096 points x 256
# features x 4 bytes = 4 MiB per activation tensor.
DEFAULT_CHUNK = 65536


def _chunked(fn, points, chunk, count=None):
    n = jax.tree.leaves(points)[0].shape[0]
    chunk = max(1, min(chunk, n))
    n_chunks = -(-n // chunk)
    split = lambda x: pad_rows(x, n_chunks * chunk).reshape(n_chunks, chunk, *x.shape[1:])
    xs = jax.tree.map(split, points)
    if count is None:
        out = jax.lax.map(fn, xs)
    else:
        out = _leading_chunks(fn, xs, -(-jnp.clip(count, 0, n) // chunk))
    return jax.tree.map(lambda y: y.reshape(n_chunks * chunk, *y.shape[2:])[:n], out)


def _leading_chunks(fn, xs, needed):
    """``lax.map(fn, xs)`` over the first ``needed`` chunks alone (a traced count), zeros after.

    The trip count is data, so one program serves every count, and a block
    that holds a few points runs a few chunks, not all of them.
    """
    shapes = jax.eval_shape(fn, jax.tree.map(lambda x: x[0], xs))
    zeros = jax.tree.map(lambda s: jnp.zeros((jax.tree.leaves(xs)[0].shape[0], *s.shape),
                                             s.dtype), shapes)  # fmt: skip

    def body(i, out):
        y = fn(jax.tree.map(lambda x: jax.lax.dynamic_index_in_dim(x, i, keepdims=False), xs))
        return jax.tree.map(lambda o, v: jax.lax.dynamic_update_index_in_dim(o, v, i, 0), out, y)

    return jax.lax.fori_loop(0, needed, body, zeros)


def evaluate_chunked(
    fn: Callable,
    points,
    chunk: int = DEFAULT_CHUNK,
    mesh: Mesh | None = None,
    count: jax.Array | int | None = None,
):
    """``fn(points)`` computed ``chunk`` points at a time; ``fn`` must be pointwise.

    ``points`` is an ``(n, ...)`` array or a pytree of them sharing ``n``
    (say coordinates with per-point noise and PRNG keys).  Returns
    ``(n, ...)`` as ``fn`` would.  Padding repeats the last point, so it is
    finite, and is discarded.  With ``mesh``, each of the ``D`` devices of
    its ``"data"`` axis evaluates ``ceil(n / D)`` points (``chunk`` at a
    time) and the result is split over ``"data"``; whatever ``fn`` closes
    over is replicated.  Given ``count`` (an integer, traced or not), only
    the first ``count`` points are wanted: chunks that hold none of them do
    not run (on a mesh, each device runs as many as the first), rows past
    ``count`` are zeros or values at padding, and one program serves every
    count.
    """
    chex.assert_equal_shape_prefix(jax.tree.leaves(points), 1)
    if mesh is None:
        return _chunked(fn, points, chunk, count)
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

    # Every device runs as many chunks as the first, which holds the most points: one
    # trip count for all (a count per device would make each step's test a collective).
    out = jax.vmap(lambda p: _chunked(fn, p, chunk, count))(jax.tree.map(to_devices, points))
    return jax.tree.map(from_devices, out)


# --------------------------------------------------------------------------
# Any number of points, one compiled program: fixed-size blocks from the host.
# --------------------------------------------------------------------------


# On a CPU a block runs in this many slices, and only those that hold points: a small
# render in a block sized for a large one costs its own points, not the block's.  An
# accelerator runs a block whole: a slice launches as many kernels as a block, and
# there a block's padding costs less than its launches.
SLICES = 16


def _blocks(chunk: int, mesh: Mesh | None, slices: int | None) -> tuple[int, int]:
    """``(points per block, points per slice)``: ``chunk`` per device, up to whole slices."""
    if slices is None:
        slices = SLICES if jax.default_backend() == "cpu" else 1
    piece = -(-chunk // as_positive_int(slices, "slices"))
    per_device = piece * -(-chunk // piece)
    return per_device * (1 if mesh is None else data_size(mesh)), piece


@partial(jax.jit, static_argnums=(0, 1, 2))
def _points_block(fn, piece: int, mesh, args, x, count):
    return evaluate_chunked(lambda p: fn(args, p), x, piece, mesh, count)


@partial(jax.jit, static_argnums=(0, 1, 2))
def _grid_block(fn, piece: int, mesh, args, tables, ints, count):
    """The block's points from the axes' tables: ``ints`` is ``(4, d)``, rows
    ``offset, phase, period, stride`` (see :func:`evaluate_grid`); the first
    ``count`` are wanted."""
    r = jnp.arange(tables.shape[1], dtype=jnp.int32)[:, None]
    offset, phase, period, stride = ints
    index = (offset + (phase + r) // stride) % period
    x = jnp.take_along_axis(tables.T, index, axis=0)
    return evaluate_chunked(lambda p: fn(args, p), x, piece, mesh, count)


def _count(left: int, size: int) -> np.ndarray:
    """A block's wanted points as data (an int32 scalar), so every count runs one program."""
    return np.int32(min(left, size))


def _gather(blocks: list, n: int):
    """Host arrays of the first ``n`` rows of the blocks' outputs (pytrees of ``(B, ...)``)."""
    return jax.tree.map(lambda *b: np.concatenate([to_host(x) for x in b])[:n], *blocks)


def evaluate(fn: Callable, args, points, *, chunk: int = DEFAULT_CHUNK, mesh: Mesh | None = None,
             slices: int | None = None):  # fmt: skip
    """``fn(args, points)`` for any number of points ``(n, d)``, compiled once for every ``n``.

    ``fn(args, x)`` maps a pytree of arrays ``args`` and points ``(m, d)``
    to a pytree of ``(m, ...)``, pointwise; it is a static argument
    compared by value (:mod:`inr._by_value`), so pass a module-level
    function or a ``functools.partial`` of one.  The points travel in
    blocks of ``chunk`` per device of ``mesh`` (the last padded), each
    evaluated in ``slices`` chunks of which only those holding points run
    (``None``: :data:`SLICES` on a CPU, 1 on an accelerator; 1 for a ``fn``
    that skips its own padding): one program serves every point count, and
    a few points cost a few chunks.  Returns host arrays ``(n, ...)``.
    """
    x = np.asarray(points, np.float32)
    fn, n = ByValue(fn), x.shape[0]
    size, piece = _blocks(chunk, mesh, slices)
    blocks = []
    for start in range(0, max(n, 1), size):
        part = x[start : start + size]
        if part.shape[0] < size:
            part = np.concatenate([part, np.repeat(part[-1:], size - part.shape[0], 0)])
        blocks.append(_points_block(fn, piece, mesh, args, part, _count(n - start, size)))
    return _gather(blocks, n)


def evaluate_grid(fn: Callable, args, axes, *, chunk: int = DEFAULT_CHUNK,
                  mesh: Mesh | None = None, slices: int | None = None):  # fmt: skip
    """``fn`` (as :func:`evaluate`'s) on the grid of ``axes``: ``(prod(sizes), ...)`` host arrays.

    ``axes`` are the coordinates along each axis, in coordinate order (the
    first varies fastest: ``(xs, ys)`` for an image's rows of pixels), as
    :func:`inr.coords.cell_axes` gives them; the points are their
    row-major product, the values of :func:`inr.coords.points_from_axes`
    exactly.  The points are built on the device block by block from the
    axes' tables (sent once; an axis longer than a block sends the window a
    block reads), so one program serves every grid of ``len(axes)`` axes.
    ``slices`` as :func:`evaluate`'s.
    """
    axes = [np.asarray(a, np.float32).reshape(-1) for a in axes]
    sizes = [len(a) for a in axes]
    (size, piece), n = _blocks(chunk, mesh, slices), int(np.prod(sizes))
    strides = np.cumprod([1, *sizes[:-1]]).tolist()
    full = [s <= size for s in sizes]
    table = np.stack([np.resize(a, size) if f else np.zeros(size, np.float32)
                      for a, f in zip(axes, full, strict=True)])  # fmt: skip
    fixed = jnp.asarray(table)
    fn, blocks = ByValue(fn), []
    for start in range(0, max(n, 1), size):
        first = [(start // st) % s for st, s in zip(strides, sizes, strict=True)]
        windows, rows = table, []
        for i, (a, f) in enumerate(zip(axes, full, strict=True)):
            if not f:  # this block's stretch of a long axis
                windows = windows if windows is not table else table.copy()
                windows[i] = a[(first[i] + np.arange(size)) % sizes[i]]
            rows.append((first[i] if f else 0, start % strides[i], sizes[i] if f else size,
                         strides[i]))  # fmt: skip
        ints = np.asarray(rows, np.int32).T
        tables = fixed if windows is table else jnp.asarray(windows)
        blocks.append(_grid_block(fn, piece, mesh, args, tables, ints, _count(n - start, size)))
    return _gather(blocks, n)

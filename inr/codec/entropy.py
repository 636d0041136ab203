"""The latents' entropy model: parent and causal-neighbour contexts, a Laplace per latent.

Order, stated once.  A latent grid of ``C`` channels is ``C`` *planes*.
Grids are coded from the coarsest to the finest, a grid's planes in
channel order, and each plane in ``2^d`` passes, one per parity pattern
of a position's indices (:func:`phase`): in 2-D (even, even), then
(odd, odd), then (even, odd) and (odd, even), so that three quarters of
the latents see decoded neighbours on every side.  A latent's context is
what is decoded before it: the ``3^d`` values around its parent
(position ``p // 2``) in the same channel of the next coarser grid (its
last channel if that grid has fewer; none for the coarsest grid), the
previous channel's value at the same position (none for channel 0), its
``3^d - 1`` neighbours where an earlier pass decoded them (mirrored at
the border; zero where not yet decoded), and its pass, one-hot.  A small
MLP maps the context to a Laplace distribution of the latent, location
``mu`` and log-scale ``log b``, plus a learned pair per plane.  Every
latent of a pass depends only on earlier passes, so a pass is decoded at
once, as one array: ``2^d`` vectorised steps per plane, not one per
latent.

Two evaluations of one model:

* :func:`predict` in floating point, differentiable, for training, with
  :func:`bits`, the Laplace's mass on ``[q - 1/2, q + 1/2]`` in bits;
* :func:`predict_int` in integers (weights in fixed point of :data:`FRACTION`
  bits, floor shifts, int64), for coding: encoder and decoder compute the
  same probabilities bit for bit on any machine.  Its location and scale
  pick a row of the quantized tables of :mod:`inr.codec.tables`.
"""

from __future__ import annotations

import functools
import itertools

import jax
import jax.numpy as jnp
import numpy as np

from inr.codec import tables

__all__ = [
    "FRACTION",
    "NAMES",
    "bits",
    "contexts",
    "feature_count",
    "init_params",
    "phase",
    "planes",
    "predict",
    "predict_int",
    "quantize_params",
]  # fmt: skip

FRACTION = 8
"""Fixed-point bits of the integer entropy model's weights and activations."""

NAMES = ("w0", "b0", "w1", "b1", "w2", "b2", "grids")
"""The entropy model's parameters (``context_<name>`` of a field's)."""


def feature_count(dims: int) -> int:
    """Inputs of the context MLP: the previous channel, the parent's neighbourhood, the
    neighbours, the pass."""
    return 1 + 3**dims + (3**dims - 1) + 2**dims


def planes(latents: list) -> list[tuple]:
    """``[(plane, grid, parent, previous)]`` in coding order, for latents ``(*m_l, C_l)``.

    ``plane`` numbers the planes finest first (the entropy model's per-plane
    parameters); ``grid``, ``parent`` and ``previous`` are ``(*m,)`` arrays (or
    ``None``: no coarser grid, or channel 0).
    """
    offsets = np.cumsum([0] + [z.shape[-1] for z in latents])
    out = []
    for level in reversed(range(len(latents))):
        z = latents[level]
        coarser = latents[level + 1] if level + 1 < len(latents) else None
        for c in range(z.shape[-1]):
            parent = None if coarser is None else coarser[..., min(c, coarser.shape[-1] - 1)]
            previous = z[..., c - 1] if c else None
            out.append((int(offsets[level] + c), z[..., c], parent, previous))
    return out


def init_params(module, features: int, hidden: int, planes: int) -> dict:
    """The entropy model's parameters as ``module``'s (``context_<name>``)."""
    lecun = jax.nn.initializers.lecun_normal()
    zeros = jax.nn.initializers.zeros
    shapes = {"w0": ((features, hidden), lecun), "b0": ((hidden,), zeros),
              "w1": ((hidden, hidden), lecun), "b1": ((hidden,), zeros),
              "w2": ((hidden, 2), zeros), "b2": ((2,), zeros),
              "grids": ((planes, 2), zeros)}  # fmt: skip
    return {name: module.param(f"context_{name}", init, shape, jnp.float32)
            for name, (shape, init) in shapes.items()}  # fmt: skip


def _shifted(padded, axis: int, start: int, size: int, xp):
    """``size`` entries of ``padded`` from ``start`` along ``axis``."""
    index = [slice(None)] * padded.ndim
    index[axis] = slice(start, start + size)
    return padded[tuple(index)]


def _pad(grid, axis: int, mode: str, xp):
    return xp.pad(grid, [(1, 1) if a == axis else (0, 0) for a in range(grid.ndim)], mode=mode)


def _pass_order(dims: int) -> np.ndarray:
    """Each parity pattern's pass (patterns numbered in binary, axis 0 the high bit): patterns
    of even sum first, then odd, each in binary order."""
    patterns = list(itertools.product((0, 1), repeat=dims))
    order = sorted(range(len(patterns)), key=lambda k: (sum(patterns[k]) % 2, k))
    return np.argsort(order)


@functools.lru_cache(maxsize=64)
def _pattern(shape) -> np.ndarray:
    """Every position's parity pattern, numbered in binary (axis 0 the high bit)."""
    d = len(shape)
    bits = [(np.arange(n) % 2).reshape([-1 if a == i else 1 for a in range(d)]) << (d - 1 - i)
            for i, n in enumerate(shape)]  # fmt: skip
    return np.broadcast_to(sum(bits), shape)


@functools.lru_cache(maxsize=64)
def _phase(shape: tuple[int, ...]) -> np.ndarray:
    passes = _pass_order(len(shape))[_pattern(shape)]
    passes.flags.writeable = False  # shared by every caller of this shape
    return passes


def phase(shape) -> np.ndarray:
    """Every position's pass, ``(*shape,)`` int (the module's order)."""
    return _phase(tuple(shape))


def _offsets(dims: int) -> list[tuple[int, ...]]:
    return [o for o in itertools.product((-1, 0, 1), repeat=dims) if any(o)]


@functools.lru_cache(maxsize=64)
def _decoded(shape) -> np.ndarray:
    """``(*shape, 3^d - 1)``: whether each neighbour is decoded before its position.

    A neighbour's parity pattern is the position's with the offset's odd
    axes flipped (mirroring keeps parity); across an axis of one cell there
    is no neighbour.
    """
    d, passes, pattern = len(shape), phase(shape), _pattern(shape)
    order = _pass_order(d)
    columns = []
    for offset in _offsets(d):
        flip = sum((o % 2) << (d - 1 - a) for a, o in enumerate(offset))
        exists = all(o == 0 or n > 1 for o, n in zip(offset, shape, strict=True))
        columns.append(np.broadcast_to((order[pattern ^ flip] < passes) & exists, shape))
    decoded = np.stack(columns, axis=-1)
    decoded.flags.writeable = False  # shared by every caller of this shape
    return decoded


def contexts(grid, parent, previous=None, xp=jnp, rows=None):
    """Every position's context ``(*grid.shape, F)`` (the module's order).

    ``grid`` holds at least what earlier passes decoded (a position reads
    only those); ``parent`` is the plane of the next coarser grid, or
    ``None`` for the coarsest; ``previous`` the previous channel's plane, or
    ``None``.  With ``rows`` (flat positions), only theirs: ``(len(rows), F)``.
    """
    shape, d = grid.shape, grid.ndim
    columns = [xp.zeros(shape, grid.dtype) if previous is None else previous.astype(grid.dtype)]
    if parent is None:
        columns += [xp.zeros(shape, grid.dtype)] * 3**d
    else:
        # The parent grid, its border repeated once, each cell spread over the two of this
        # grid it holds: offset o of position p's parent p // 2 sits at p + 2 o + 2.
        spread = parent
        for axis in range(d):
            spread = xp.repeat(_pad(spread, axis, "edge", xp), 2, axis=axis)
        for offset in itertools.product((-1, 0, 1), repeat=d):
            column = spread
            for axis, o in enumerate(offset):
                column = _shifted(column, axis, 2 * o + 2, shape[axis], xp)
            columns.append(column)
    # Mirrored about the border's sample (-1 reads 1, n reads n - 2); an axis of one cell
    # is repeated instead, and its neighbours masked out.
    padded = grid
    for axis in range(d):
        padded = _pad(padded, axis, "reflect" if shape[axis] > 1 else "edge", xp)
    decoded = _decoded(shape).astype(grid.dtype)
    for k, offset in enumerate(_offsets(d)):
        column = padded
        for axis, o in enumerate(offset):
            column = _shifted(column, axis, 1 + o, shape[axis], xp)
        columns.append(column * decoded[..., k])
    passes = phase(shape)
    columns += [(passes == k).astype(grid.dtype) for k in range(2**d)]
    if rows is not None:
        columns = [xp.reshape(c, -1)[rows] for c in columns]
    return xp.stack(columns, axis=-1)


def predict(params: dict, features, level: int):
    """``(mu, log_b)`` of the latents of plane ``level`` from their contexts (floating point)."""
    h = jax.nn.relu(features @ params["w0"] + params["b0"])
    h = jax.nn.relu(h @ params["w1"] + params["b1"])
    out = h @ params["w2"] + params["b2"] + params["grids"][level]
    return out[..., 0], jnp.clip(out[..., 1], tables.LOG_B_MIN, tables.LOG_B_MAX)


def bits(q, mu, log_b):
    """``-log2 P(q)`` of integers (or their relaxations) ``q`` under Laplace(mu, b).

    With ``c = |q - mu|``, the mass of ``[q - 1/2, q + 1/2]`` is
    ``1 - (exp(-(1/2 - c) / b) + exp(-(1/2 + c) / b)) / 2`` when the interval holds
    ``mu`` (``c < 1/2``) and ``exp(-(c - 1/2) / b) (1 - exp(-1 / b)) / 2`` beyond it:
    two exponentials and an ``expm1`` per latent, and no difference of two CDFs
    that cancels to zero in a tail.
    """
    b = jnp.exp(log_b)
    c = jnp.abs(q - mu)
    near = jnp.exp(-jnp.abs(c - 0.5) / b)
    inside = 1.0 - 0.5 * (near + jnp.exp(-(c + 0.5) / b))
    beyond = -0.5 * near * jnp.expm1(-1.0 / b)
    p = jnp.where(c < 0.5, inside, beyond)
    return -jnp.log2(jnp.maximum(p, tables.SMALLEST))


def quantize_params(params: dict, step: int = FRACTION) -> dict:
    """The entropy model in fixed point: ``{name: int64}``, :data:`FRACTION` fractional bits.

    Each weight is rounded to a multiple of ``2^-step`` (``step <= FRACTION``): a
    coarser step costs fewer bits in the file and moves the predictions a little;
    the arithmetic is the same.
    """
    if not 0 <= step <= FRACTION:
        raise ValueError(f"step must be in [0, {FRACTION}]; got {step}")
    unit = 2 ** (FRACTION - step)
    return {k: np.round(np.asarray(params[k], np.float64) * 2.0**step).astype(np.int64) * unit
            for k in NAMES}  # fmt: skip


def dequantize_params(qparams: dict) -> dict:
    """The floating-point model the fixed-point one computes (what training should see)."""
    return {k: jnp.asarray(np.asarray(v, np.float64) / 2.0**FRACTION, jnp.float32)
            for k, v in qparams.items()}  # fmt: skip


def _product(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` of int64 matrices, exactly: in float64 (BLAS) when no sum can reach 2^53,
    where every partial sum is an integer float64 holds exactly in any order."""

    def largest(x):
        return max(-int(x.min(initial=0)), int(x.max(initial=0)))

    bound = largest(a) * largest(b) * a.shape[-1]
    if bound < 2**53:
        return (a.astype(np.float64) @ b.astype(np.float64)).astype(np.int64)
    return a @ b


def predict_int(qparams: dict, features: np.ndarray, level: int) -> tuple[np.ndarray, np.ndarray]:
    """``(mu, log_b)`` in fixed point (int64, :data:`FRACTION` bits) from integer contexts.

    The same network as :func:`predict`, every product of two fixed-point
    numbers shifted back by an arithmetic (floor) shift: exact, and the
    same on every machine.
    """
    x = np.asarray(features, np.int64)
    h = np.maximum(_product(x, qparams["w0"]) + qparams["b0"], 0)
    h = np.maximum((_product(h, qparams["w1"]) >> FRACTION) + qparams["b1"], 0)
    out = (_product(h, qparams["w2"]) >> FRACTION) + qparams["b2"] + qparams["grids"][level]
    low, high = (int(round(v * 2**FRACTION)) for v in (tables.LOG_B_MIN, tables.LOG_B_MAX))
    return out[..., 0], np.clip(out[..., 1], low, high)

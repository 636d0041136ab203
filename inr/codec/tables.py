"""Quantized Laplace tables: the probabilities every latent and weight is coded with.

A latent's distribution is a Laplace of location ``mu`` and scale ``b``,
each quantized: ``mu = m + (f + 1/2) / FRACTIONS`` with ``m`` an integer and
``f`` one of :data:`FRACTIONS` fractions, ``log b`` one of :data:`SCALES`
levels evenly spaced over ``[LOG_B_MIN, LOG_B_MAX]``.  Its table row gives
the symbols ``m - K .. m + K`` (``K`` the scale's *support*, at least six
scales wide, so that the rest is rare) and one *escape* symbol for the rest,
whose value then follows in 32 raw bits.  Each probability is an integer
count out of ``2^16`` (at least 1), computed in decimal arithmetic
(Python's :mod:`decimal`, the same result on every machine): the coder's
probabilities, and so the bits it writes, cannot differ between the
machine that encodes and the one that decodes.
"""

from __future__ import annotations

import decimal
import functools
import math

import numpy as np

__all__ = ["FRACTIONS", "LOG_B_MAX", "LOG_B_MIN", "PRECISION", "SCALES", "SMALLEST", "SUPPORTS",
           "row", "scale_index", "support"]  # fmt: skip

FRACTIONS = 32
SCALES = 48
LOG_B_MIN = math.log(0.05)
LOG_B_MAX = math.log(40.0)
PRECISION = 16
SUPPORTS = (8, 32, 128, 256)
"""The supports a scale may have; a row is ``2 K + 2`` symbols long."""
SMALLEST = 2.0**-PRECISION
"""The smallest probability a symbol gets: what training's rate is clamped at."""
_CONTEXT = decimal.Context(prec=30)  # its own: a caller's decimal context must not move a table


def log_scale(s: int) -> float:
    return LOG_B_MIN + s * (LOG_B_MAX - LOG_B_MIN) / (SCALES - 1)


def support(s: int) -> int:
    """The support ``K`` of scale ``s``: the first of :data:`SUPPORTS` past 6 b + 2."""
    wanted = 6.0 * math.exp(log_scale(s)) + 2.0
    return next(k for k in SUPPORTS if k >= wanted)


def scale_index(log_b_fixed: np.ndarray, fraction_bits: int) -> np.ndarray:
    """The scale level of fixed-point ``log b`` values (nearest, clipped): integers only."""
    low = round(LOG_B_MIN * 2**fraction_bits)
    span = round(LOG_B_MAX * 2**fraction_bits) - low
    s = ((np.asarray(log_b_fixed, np.int64) - low) * (SCALES - 1) + span // 2) // span
    return np.clip(s, 0, SCALES - 1)


@functools.cache
def _powers(s: int) -> tuple[decimal.Decimal, list[decimal.Decimal]]:
    """``(b, [r^0, .., r^(K+1)])`` of scale ``s``, ``r = exp(-1 / b)``: shared by its fractions."""
    with decimal.localcontext(_CONTEXT):
        b = decimal.Decimal(repr(log_scale(s))).exp()
        r = (-1 / b).exp()
        powers = [decimal.Decimal(1)]
        for _ in range(support(s) + 1):
            powers.append(powers[-1] * r)
    return b, powers


@functools.cache
def row(s: int, f: int) -> np.ndarray:
    """The counts of scale ``s`` and fraction ``f``: ``(2 K + 2,)`` int64 summing to ``2^16``.

    Entry ``j < 2 K + 1`` is the symbol ``m - K + j``; the last, the escape.
    The bin of ``j`` spans the edges ``j - d`` and ``j + 1 - d`` of the
    Laplace centred at 0, ``d = 1/2 + mu`` in ``(1/2, 3/2)``; an edge's tail
    mass is ``exp(-|j - d| / b) / 2``, which is ``exp(-d / b) r^-j`` for
    ``j <= 0`` and ``exp(-(2 - d) / b) r^(j-2)`` for ``j >= 2``: three
    exponentials a row, the rest products.
    """
    k = support(s)
    b, powers = _powers(s)
    with decimal.localcontext(_CONTEXT):
        d = decimal.Decimal(1) / 2 + (decimal.Decimal(f) + decimal.Decimal(1) / 2) / FRACTIONS
        below, one, above = ((-x / b).exp() for x in (d, abs(1 - d), 2 - d))
        tails = [below * powers[-j] for j in range(-k, 1)]
        tails += [one] + [above * powers[j - 2] for j in range(2, k + 2)]
        edges = [t / 2 if j < d else 1 - t / 2
                 for j, t in zip(range(-k, k + 2), tails, strict=True)]  # fmt: skip
        mass = [hi - lo for lo, hi in zip(edges[:-1], edges[1:], strict=True)]
        mass.append(1 - (edges[-1] - edges[0]))  # the escape: both tails
        total = 2**PRECISION
        counts = [max(1, int((m * total).to_integral_value(decimal.ROUND_HALF_EVEN)))
                  for m in mass]  # fmt: skip
    counts[int(np.argmax(counts))] += total - sum(counts)  # the largest absorbs the rounding
    return np.asarray(counts, np.int64)


@functools.cache
def bucket(k: int) -> tuple[np.ndarray, np.ndarray]:
    """``(scales of support k, their rows (S_k, FRACTIONS, 2k + 2) as probabilities)``."""
    scales = np.array([s for s in range(SCALES) if support(s) == k], np.int64)
    rows = np.stack([[row(int(s), f) for f in range(FRACTIONS)] for s in scales]) if len(
        scales) else np.zeros((0, FRACTIONS, 2 * k + 2), np.int64)  # fmt: skip
    return scales, rows.astype(np.float64) / 2**PRECISION

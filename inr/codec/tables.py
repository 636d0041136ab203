"""Quantized Laplace tables: the probabilities every latent and weight is coded with.

A latent's distribution is a Laplace of location ``mu`` and scale ``b``,
each quantized: ``mu = m + (f + 1/2) / FRACTIONS`` with ``m`` an integer and
``f`` one of :data:`FRACTIONS` fractions, ``log b`` one of :data:`SCALES`
levels evenly spaced over ``[LOG_B_MIN, LOG_B_MAX]``.  Its table row gives
the symbols ``m - K .. m + K`` (``K`` the scale's *support*, at least six
scales wide, so that the rest is rare) and one *escape* symbol for the rest,
whose value then follows in 16 raw bits.  Each probability is an integer
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

FRACTIONS = 8
SCALES = 48
LOG_B_MIN = math.log(0.05)
LOG_B_MAX = math.log(40.0)
PRECISION = 16
SUPPORTS = (8, 32, 128, 256)
"""The supports a scale may have; a row is ``2 K + 2`` symbols long."""
SMALLEST = 2.0**-PRECISION
"""The smallest probability a symbol gets: what training's rate is clamped at."""


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


def _cdf(x: decimal.Decimal, b: decimal.Decimal, context) -> decimal.Decimal:
    half = decimal.Decimal(1) / 2
    if x < 0:
        return half * context.exp(x / b)
    return 1 - half * context.exp(-x / b)


@functools.cache
def row(s: int, f: int) -> np.ndarray:
    """The counts of scale ``s`` and fraction ``f``: ``(2 K + 2,)`` int64 summing to ``2^16``.

    Entry ``j < 2 K + 1`` is the symbol ``m - K + j``; the last, the escape.
    """
    context = decimal.Context(prec=30)
    k = support(s)
    b = context.exp(decimal.Decimal(repr(log_scale(s))))
    mu = (decimal.Decimal(f) + decimal.Decimal(1) / 2) / FRACTIONS
    edges = [_cdf(decimal.Decimal(j) - decimal.Decimal(1) / 2 - mu, b, context)
             for j in range(-k, k + 2)]  # fmt: skip
    mass = [hi - lo for lo, hi in zip(edges[:-1], edges[1:], strict=True)]
    mass.append(1 - (edges[-1] - edges[0]))  # the escape: both tails
    total = 2**PRECISION
    counts = [max(1, int((m * total).to_integral_value(decimal.ROUND_HALF_EVEN))) for m in mass]
    counts[int(np.argmax(counts))] += total - sum(counts)  # the largest absorbs the rounding
    return np.asarray(counts, np.int64)


@functools.cache
def bucket(k: int) -> tuple[np.ndarray, np.ndarray]:
    """``(scales of support k, their rows (S_k, FRACTIONS, 2k + 2) as probabilities)``."""
    scales = np.array([s for s in range(SCALES) if support(s) == k], np.int64)
    rows = np.stack([[row(int(s), f) for f in range(FRACTIONS)] for s in scales]) if len(
        scales) else np.zeros((0, FRACTIONS, 2 * k + 2), np.int64)  # fmt: skip
    return scales, rows.astype(np.float64) / 2**PRECISION

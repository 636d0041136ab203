"""A fast, accurate sine for SIREN activations.

XLA's CPU ``sin`` is a general-purpose library call that does not fuse: it
costs more per element than the matrix product feeding it in a 256-wide
SIREN (``benchmarks/siren_fit.py``, the ``jnp.sin`` row).  Pre-activations
are moderate (|x| < 1e4 in SIREN fits), so a classic two-step scheme is
enough:

1. Cody-Waite range reduction: ``k = round(x / pi)``, ``r = x - k*pi`` with
   pi split into three float32 parts, so ``r`` in [-pi/2, pi/2] is exact to a
   few ulp for |x| < 12867 (beyond, the error grows slowly with |x|).
2. An odd polynomial of degree 11 in ``r`` whose coefficients are a
   least-squares fit on Chebyshev nodes, computed once in float64 with NumPy
   (near-minimax; truncation error ~1e-9, below float32 rounding).

``sin(x) = (-1)^k p(r)``; the sign is applied with an integer XOR so the
whole function is branch-free and fuses into the matmul epilogue.  Its
maximum absolute error against float64 ``sin`` is ~1.5e-7 (tested).

Derivatives are defined with ``custom_jvp`` (``sin' = cos``, ``cos' = -sin``)
so any order of forward or reverse autodiff works, which gradient- and
Laplacian-supervised fits need.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["fast_cos", "fast_sin"]


def _sin_coefficients(degree: int = 11) -> np.ndarray:
    # Chebyshev nodes on [0, pi/2] approximate the minimax fit well enough.
    nodes = np.cos(np.linspace(0.0, np.pi / 2, 4096)) * (np.pi / 2)
    powers = np.stack([nodes ** (2 * k + 1) for k in range(degree // 2 + 1)], axis=1)
    return np.linalg.lstsq(powers, np.sin(nodes), rcond=None)[0]


_COEFFS = tuple(np.float32(c) for c in _sin_coefficients())
_INV_PI = np.float32(1.0 / np.pi)


def _truncate(x: float, zero_bits: int = 12) -> np.float32:
    bits = np.array(x, np.float32).view(np.uint32) & np.uint32(0xFFFFFFFF ^ ((1 << zero_bits) - 1))
    return bits.view(np.float32)[()]


# pi = _PI_A + _PI_B + _PI_C; the first two keep 12 trailing zero bits so
# m * _PI_A and m * _PI_B are exact for |m| < 2^12 (|x| < 12867) whether or
# not the compiler contracts them into FMAs (eager and jit then agree).
_PI_A = _truncate(np.pi)
_PI_B = _truncate(np.pi - np.float64(_PI_A))
_PI_C = np.float32(np.pi - np.float64(_PI_A) - np.float64(_PI_B))


def _reduced_sin(x: jax.Array, m: jax.Array, k: jax.Array) -> jax.Array:
    """``(-1)^k * sin(x - m*pi)`` for ``x - m*pi`` in [-pi/2, pi/2]."""
    r = ((x - m * _PI_A) - m * _PI_B) - m * _PI_C
    r2 = r * r
    p = _COEFFS[-1]
    for c in _COEFFS[-2::-1]:
        p = p * r2 + c
    s = p * r
    sign = jnp.left_shift(k.astype(jnp.int32), 31)
    bits = jax.lax.bitcast_convert_type(s, jnp.int32) ^ sign
    return jax.lax.bitcast_convert_type(bits, jnp.float32)


@jax.custom_jvp
def fast_sin(x: jax.Array) -> jax.Array:
    """Elementwise ``sin(x)``; float32 only, other dtypes use ``jnp.sin``.

    The constants and the sign trick are float32-specific, so float64 (or
    bfloat16) input takes the library routine rather than a wrong answer.
    """
    x = jnp.asarray(x)
    if x.dtype != jnp.float32:
        return jnp.sin(x)
    k = jnp.round(x * _INV_PI)
    return _reduced_sin(x, k, k)


@jax.custom_jvp
def fast_cos(x: jax.Array) -> jax.Array:
    """Elementwise ``cos(x)`` for float32, as ``sin(x + pi/2)`` reduced exactly.

    With ``k = round(x/pi + 1/2)``, ``x + pi/2 - k*pi = x - (k - 1/2)*pi`` and
    ``k - 1/2`` is exact in float32, so no precision is lost adding pi/2.
    """
    x = jnp.asarray(x)
    if x.dtype != jnp.float32:
        return jnp.cos(x)
    k = jnp.round(x * _INV_PI + np.float32(0.5))
    return _reduced_sin(x, k - np.float32(0.5), k)


@fast_sin.defjvp
def _fast_sin_jvp(primals, tangents):
    (x,), (dx,) = primals, tangents
    return fast_sin(x), fast_cos(x) * dx


@fast_cos.defjvp
def _fast_cos_jvp(primals, tangents):
    (x,), (dx,) = primals, tangents
    return fast_cos(x), -fast_sin(x) * dx

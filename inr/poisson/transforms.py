"""DCT-II/III and DST-I along one axis, built on real FFTs.

``jax.scipy.fft.dctn`` pads to a complex FFT of twice the length; on a CPU
that is about 4x SciPy's time for a full-frame Poisson solve.  Makhoul's
algorithm (IEEE TASSP 1980) needs one real FFT of the same length:
reorder ``v = (x_0, x_2, x_4, ..., x_5, x_3, x_1)``, take ``V = rfft(v)``,
then with ``Z_k = exp(-i pi k / 2N) V_k``

    X_k     =  2 Re Z_k,        k = 0 .. N/2
    X_{N-k} = -2 Im Z_k,        k = 1 .. ceil(N/2) - 1

which is SciPy's unnormalised type-2 DCT, ``X_k = 2 sum_n x_n
cos(pi k (2n + 1) / 2N)``.  The inverse runs the same steps backwards:
``V_k = conj(W_k) (X_k - i X_{N-k}) / 2`` (``X_N = 0``), ``v = irfft(V)``,
undo the reordering.  DST-I comes from one rfft of length ``2(N + 1)`` of
``(0, x, 0, ..., 0)``: its imaginary part at ``k + 1`` is
``-sum_n x_n sin(pi (n + 1)(k + 1) / (N + 1))``, half the unnormalised
DST-I.  (The odd extension ``(0, x, 0, -reverse(x))`` gives the same
numbers at the price of building it, a second copy of the input.)

:func:`dct_filter_2d` applies a diagonal operator in the 2-D DCT-II basis,
``idctn(dctn(x) * scale)``, in one 2-D real FFT each way: with ``A(k1, m) =
W2_m V(k1, m)`` and ``B = conj(A(-k1, m))`` (``V = rfft2`` of the array
reordered along both axes),

    X(k1, m)      =  2 Re(W1_k1 (A + B)),         m = 0 .. N2/2
    X(k1, N2 - m) = -2 Im(W1_k1 (A - B)),         m = 1 .. ceil(N2/2) - 1

and back, ``V'(k1, m) = conj(W1_k1 W2_m) (U(k1, m) - i U(k1, N2-m)
- i U(N1-k1, m) - U(N1-k1, N2-m)) / 4`` with ``U`` zero at index ``N``.
That avoids the transposes of two separable passes
(``benchmarks/poisson.py`` compares it with ``jax.scipy.fft.dctn``).

All functions are pure ``jnp``: differentiable, ``jit``- and ``vmap``-able.
Index tables and twiddles are NumPy constants computed in float64.
"""

from __future__ import annotations

from functools import cache

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["dct2", "dct_filter_2d", "dst1", "idct2", "idst1"]


@cache
def _tables(n: int):
    order = np.concatenate([np.arange(0, n, 2), np.arange(1, n, 2)[::-1]])
    unorder = np.argsort(order)
    k = np.arange(n // 2 + 1)
    twiddle = np.exp(-1j * np.pi * k / (2 * n)).astype(np.complex64)
    return order, unorder, twiddle


def _last(x, axis):
    return jnp.moveaxis(x, axis, -1)


def dct2(x, axis: int = -1):
    """Unnormalised DCT-II along ``axis`` (equals ``scipy.fft.dct(x, 2, axis=axis)``)."""
    x = _last(x, axis)
    n = x.shape[-1]
    order, _, twiddle = _tables(n)
    z = twiddle * jnp.fft.rfft(x[..., order], axis=-1)
    out = jnp.concatenate([2 * z.real, -2 * z.imag[..., 1 : n - n // 2][..., ::-1]], axis=-1)
    return jnp.moveaxis(out, -1, axis)


def idct2(y, axis: int = -1):
    """The inverse of :func:`dct2` (SciPy's ``idct(y, 2)``, i.e. a scaled DCT-III)."""
    y = _last(y, axis)
    n = y.shape[-1]
    _, unorder, twiddle = _tables(n)
    half = n // 2 + 1
    # X_{N-k} for k = 0 .. N/2, with X_N = 0.
    mirrored = jnp.concatenate([jnp.zeros_like(y[..., :1]), y[..., ::-1][..., : half - 1]], -1)
    spectrum = jnp.conj(twiddle) * (y[..., :half] - 1j * mirrored) / 2
    v = jnp.fft.irfft(spectrum, n=n, axis=-1)
    return jnp.moveaxis(v[..., unorder], -1, axis)


def dst1(x, axis: int = -1):
    """Unnormalised DST-I along ``axis`` (equals ``scipy.fft.dst(x, 1, axis=axis)``)."""
    x = _last(x, axis)
    n = x.shape[-1]
    padded = jnp.pad(x, [(0, 0)] * (x.ndim - 1) + [(1, n + 1)])
    out = -2 * jnp.fft.rfft(padded, axis=-1).imag[..., 1 : n + 1]
    return jnp.moveaxis(out, -1, axis)


def idst1(y, axis: int = -1):
    """The inverse of :func:`dst1`: DST-I is its own inverse up to ``2 (N + 1)``."""
    n = jnp.shape(y)[axis]
    return dst1(y, axis) / (2 * (n + 1))


def _reorder(x, axis):
    """``(x_0, x_2, x_4, ..., x_5, x_3, x_1)`` along ``axis`` (static slices)."""
    n = x.shape[axis]
    even = jax.lax.slice_in_dim(x, 0, n, 2, axis)
    odd = jnp.flip(jax.lax.slice_in_dim(x, 1, n, 2, axis), axis)
    return jnp.concatenate([even, odd], axis)


def _unreorder(v, axis):
    """The inverse of :func:`_reorder`: interleave the halves back."""
    axis = axis % v.ndim
    n = v.shape[axis]
    h = (n + 1) // 2
    first = jax.lax.slice_in_dim(v, 0, h, 1, axis)
    second = jnp.flip(jax.lax.slice_in_dim(v, h, n, 1, axis), axis)
    if n % 2:
        pad = [(0, 0)] * v.ndim
        pad[axis] = (0, 1)
        second = jnp.pad(second, pad)
    shape = list(v.shape)
    shape[axis] = 2 * h
    out = jnp.stack([first, second], axis + 1).reshape(shape)
    return jax.lax.slice_in_dim(out, 0, n, 1, axis)


@cache
def _full_twiddle(n: int) -> np.ndarray:
    return np.exp(-1j * np.pi * np.arange(n) / (2 * n)).astype(np.complex64)


def dct_filter_2d(x, scale):
    """``idctn(dctn(x, type=2) * scale, type=2)`` over the last two axes.

    Args:
      x: ``(..., N1, N2)`` real.
      scale: ``(N1, N2)`` real multipliers on the DCT-II coefficients.
    """
    n1, n2 = x.shape[-2:]
    half = n2 // 2 + 1
    w1 = _full_twiddle(n1)[:, None]
    w2 = _full_twiddle(n2)[:half]
    a = w2 * jnp.fft.rfft2(_reorder(_reorder(x, -2), -1))
    b = jnp.conj(jnp.roll(jnp.flip(a, -2), 1, -2))  # conj(A(-k1, m))
    low = 2 * jnp.real(w1 * (a + b))
    high = -2 * jnp.imag(w1 * (a - b))[..., 1 : n2 - n2 // 2]
    u = jnp.concatenate([low, jnp.flip(high, -1)], -1) * scale
    zero_col, zero_row = jnp.zeros_like(u[..., :1]), jnp.zeros_like(u[..., :1, :])
    u_c = jnp.concatenate([zero_col, jnp.flip(u, -1)[..., : half - 1]], -1)  # U(k1, N2-m)
    u_r = jnp.concatenate([zero_row, jnp.flip(u, -2)[..., : n1 - 1, :]], -2)  # U(N1-k1, .)
    u_rc = jnp.concatenate([zero_col, jnp.flip(u_r, -1)[..., : half - 1]], -1)
    spectrum = jnp.conj(w1 * w2) * (u[..., :half] - 1j * u_c - 1j * u_r[..., :half] - u_rc) / 4
    v = jnp.fft.irfft2(spectrum, s=(n1, n2))
    return _unreorder(_unreorder(v, -2), -1)

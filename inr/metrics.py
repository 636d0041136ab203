"""Quality metrics: MSE and PSNR of any signal, SSIM of images in [0, 1].

:func:`mse` and :func:`psnr` compare two same-shaped signals of any number
of axes (audio, images, video, volumes; :mod:`inr.signal`), in float64,
their values in the units of ``value_range`` (uint8 and uint16 mean
``n / 255`` and ``n / 65535``, as everywhere): a PSNR is relative to the
range's width, ``10 log10((hi - lo)^2 / MSE)``.

SSIM is the standard one of Wang et al. (IEEE TIP 2004): an 11x11 Gaussian
window with sigma 1.5, ``K1 = 0.01``, ``K2 = 0.03``, population
(co)variances, averaged over the positions where the window fits inside
the image (the same as scikit-image's ``gaussian_weights=True,
use_sample_covariance=False``, which filters with reflection and then crops
the window's radius) and over channels.
"""

from __future__ import annotations

import numpy as np

from inr._validate import as_image

__all__ = ["mse", "psnr", "ssim"]

_WIN, _SIGMA, _K1, _K2 = 11, 1.5, 0.01, 0.03


def _pair(a, b):
    a, b = as_image(a, "a"), as_image(b, "b")
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape; got a {a.shape} and b {b.shape}")
    return a, b


def _values(x, name: str) -> np.ndarray:
    """A signal's values as float64, uint8/uint16 scaled to [0, 1]; checked."""
    x = np.asarray(x)
    if x.dtype == np.bool_ or x.dtype.kind not in "fiu":
        raise ValueError(f"{name} must be an array of numbers; got dtype {x.dtype}")
    if x.size == 0:
        raise ValueError(f"{name} is empty: shape {x.shape}")
    scale = {np.dtype(np.uint8): 255.0, np.dtype(np.uint16): 65535.0}.get(x.dtype, 1.0)
    x = x.astype(np.float64) / scale
    if not np.isfinite(x).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return x


def _width(value_range) -> float:
    try:
        lo, hi = (float(v) for v in value_range)
    except (TypeError, ValueError):
        raise ValueError(f"value_range must be two numbers (lo, hi); got {value_range!r}") from None
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise ValueError(f"value_range must be finite with lo < hi; got {value_range!r}")
    return hi - lo


def mse(a, b) -> float:
    """Mean squared error of two same-shaped signals of any shape (float64)."""
    a, b = _values(a, "a"), _values(b, "b")
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape; got a {a.shape} and b {b.shape}")
    return float(np.mean((a - b) ** 2))


def psnr(a, b, value_range=(0.0, 1.0)) -> float:
    """``10 log10((hi - lo)^2 / MSE)`` in dB of two same-shaped signals; ``inf`` when equal.

    ``a`` and ``b`` are any signals (audio ``(T, C)``, an image, a video, a
    volume); ``value_range`` ``(lo, hi)`` is the range their values span:
    ``(0, 1)`` for images (the default), ``(-1, 1)`` for audio, a CT
    volume's own range, what a :class:`~inr.FitResult`'s ``value_range`` is.
    """
    width = _width(value_range)
    err = mse(a, b)
    return float("inf") if err == 0 else float(10.0 * np.log10(width**2 / err))


def _gaussian_window() -> np.ndarray:
    r = np.arange(_WIN) - _WIN // 2
    g = np.exp(-(r**2) / (2 * _SIGMA**2))
    return g / g.sum()


def _filter_valid(x: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Separable 'valid' filtering of (H, W, C) in float64: 2 x 11 shifted sums."""
    n = len(g)
    h, w = x.shape[0] - n + 1, x.shape[1] - n + 1
    rows = sum(g[k] * x[k : k + h] for k in range(n))
    return sum(g[k] * rows[:, k : k + w] for k in range(n))


def ssim(a, b) -> float:
    """Mean structural similarity of two same-shaped images in [0, 1].

    Computed in float64.  Colour images: the mean over channels.  Both sides
    must be at least 11x11 (the window).
    """
    a, b = _pair(a, b)
    if min(a.shape[:2]) < _WIN:
        raise ValueError(f"ssim needs images of at least {_WIN}x{_WIN}; got shape {a.shape}")
    a = a.reshape(*a.shape[:2], -1).astype(np.float64)
    b = b.reshape(*b.shape[:2], -1).astype(np.float64)
    g = _gaussian_window()
    mu_a, mu_b = _filter_valid(a, g), _filter_valid(b, g)
    s_aa = _filter_valid(a * a, g) - mu_a**2
    s_bb = _filter_valid(b * b, g) - mu_b**2
    s_ab = _filter_valid(a * b, g) - mu_a * mu_b
    c1, c2 = _K1**2, _K2**2
    num = (2 * mu_a * mu_b + c1) * (2 * s_ab + c2)
    den = (mu_a**2 + mu_b**2 + c1) * (s_aa + s_bb + c2)
    return float(np.mean(num / den))

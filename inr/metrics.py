"""Image quality metrics: PSNR and SSIM, for images in [0, 1].

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


def mse(a, b) -> float:
    """Mean squared error of two same-shaped images in [0, 1]."""
    a, b = _pair(a, b)
    return float(np.mean((a.astype(np.float64) - b) ** 2))


def psnr(a, b) -> float:
    """``10 log10(1 / MSE)`` in dB for images in [0, 1]; ``inf`` when equal."""
    err = mse(a, b)
    return float("inf") if err == 0 else float(-10.0 * np.log10(err))


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

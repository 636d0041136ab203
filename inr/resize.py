"""Resizing images (the baselines SIREN upscaling is compared with).

A thin, validated wrapper over ``jax.image.resize``: ``"nearest"``,
``"bilinear"``, ``"bicubic"`` (Keys' cubic, a = -0.5) and ``"lanczos3"``,
all with pixel centres aligned (half-pixel convention) and, when shrinking,
anti-aliased by widening the kernel (as PIL and ``torchvision`` do).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from inr._validate import as_image, as_size

__all__ = ["resize", "resize_weights", "keys_cubic"]

_METHODS = {"nearest": "nearest", "bilinear": "linear", "bicubic": "cubic", "lanczos3": "lanczos3"}


def keys_cubic(x, xp=np):
    """Keys' cubic convolution kernel with a = -1/2 at distances ``x >= 0``."""
    a = -0.5
    near = ((a + 2) * x - (a + 3)) * x * x + 1
    far = ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    return xp.where(x < 1, near, xp.where(x < 2, far, 0.0))


def resize_weights(in_size: int, out_size: int, antialias: bool = True) -> np.ndarray:
    """The ``(out_size, in_size)`` float64 matrix of a 1-D bicubic resize.

    Output pixel ``i`` samples input position ``(i + 1/2) in/out - 1/2``;
    when shrinking with ``antialias`` the kernel is widened by ``in/out``.
    Weights are renormalised over the taps inside the input, as in
    ``jax.image.resize(..., "cubic")``, which ``W_y @ image @ W_x.T``
    reproduces on the host without JAX (the data pipeline's resize).
    """
    scale = out_size / in_size
    widen = max(1.0 / scale, 1.0) if antialias else 1.0
    pos = (np.arange(out_size) + 0.5) / scale - 0.5
    w = keys_cubic(np.abs(pos[:, None] - np.arange(in_size)[None, :]) / widen)
    return w / w.sum(axis=1, keepdims=True)


def resize(image, size, method: str = "bicubic", *, antialias: bool = True) -> np.ndarray:
    """Resize ``image`` (H, W[, C]) in [0, 1] to ``size = (height, width)``.

    Returns float32 NumPy clipped to [0, 1] (cubic kernels overshoot).
    """
    if method not in _METHODS:
        raise ValueError(f"method must be one of {tuple(_METHODS)}; got {method!r}")
    img = as_image(image)
    h, w = as_size(*size)
    out = jax.image.resize(
        jnp.asarray(img), (h, w, *img.shape[2:]), _METHODS[method], antialias=antialias
    )
    return np.clip(np.asarray(out), 0.0, 1.0)

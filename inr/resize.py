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

__all__ = ["resize"]

_METHODS = {"nearest": "nearest", "bilinear": "linear", "bicubic": "cubic", "lanczos3": "lanczos3"}


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

"""Colour spaces, as pure array functions (NumPy or JAX, any leading shape).

* ``rgb_to_gray``: luma ``Y = 0.299 R + 0.587 G + 0.114 B`` (ITU-R BT.601
  weights, full range), the grayscale used everywhere in ``inr``.
* ``rgb_to_ycbcr`` / ``ycbcr_to_rgb``: the full-range YCbCr of JPEG (JFIF),
  ``Cb = 0.5 + 0.564 (B - Y)``, ``Cr = 0.5 + 0.713 (R - Y)``; a gray pixel
  has ``Cb = Cr = 0.5``.  The pair are exact inverses.
* ``luma_bt601``: the studio-swing ``Y`` in [16/255, 235/255] that the
  super-resolution literature measures PSNR on (MATLAB's ``rgb2ycbcr``).

All take and return float arrays in [0, 1] with the channel last.
"""

from __future__ import annotations

import numpy as np

__all__ = ["luma_bt601", "rgb_to_gray", "rgb_to_ycbcr", "ycbcr_to_rgb"]

_LUMA = np.array([0.299, 0.587, 0.114])
_CB = 0.5 / (1.0 - 0.114)  # scales B - Y into [-0.5, 0.5]
_CR = 0.5 / (1.0 - 0.299)
# (R, G, B) -> (Y, Cb - 1/2, Cr - 1/2) as one matrix, and its exact inverse.
_TO_YCC = np.stack([_LUMA, _CB * (np.eye(3)[2] - _LUMA), _CR * (np.eye(3)[0] - _LUMA)])
_FROM_YCC = np.linalg.inv(_TO_YCC)
_CHROMA_OFFSET = np.array([0.0, 0.5, 0.5])


def _apply(matrix: np.ndarray, x):
    return x @ matrix.T.astype(np.float32)


def rgb_to_gray(rgb):
    """``(..., 3) -> (...)`` BT.601 luma."""
    return rgb @ _LUMA.astype(np.float32)


def rgb_to_ycbcr(rgb):
    """``(..., 3) -> (..., 3)`` full-range YCbCr (JFIF)."""
    return _apply(_TO_YCC, rgb) + _CHROMA_OFFSET.astype(np.float32)


def ycbcr_to_rgb(ycc):
    """``(..., 3) -> (..., 3)``, the inverse of :func:`rgb_to_ycbcr` (not clipped)."""
    return _apply(_FROM_YCC, ycc - _CHROMA_OFFSET.astype(np.float32))


def luma_bt601(rgb):
    """``(..., 3) -> (...)`` studio-swing luma ``(16 + 65.481 R + 128.553 G + 24.966 B) / 255``."""
    return (16.0 + rgb @ np.array([65.481, 128.553, 24.966], np.float32)) / 255.0

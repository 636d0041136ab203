"""Reading and writing images, in the package's one convention.

:func:`load_image` returns float32 in [0, 1] shaped (H, W) for grayscale
files and (H, W, C) otherwise; :func:`save_image` takes the same and writes
8-bit files atomically (a temporary file in the same folder, then a rename),
so an interrupted save never leaves a truncated image behind.
"""

from __future__ import annotations

from pathlib import Path

import imageio.v3 as iio
import numpy as np

from inr._atomic import atomic_write
from inr._validate import as_image

__all__ = ["FORMATS", "load_image", "save_image"]

FORMATS = (".bmp", ".gif", ".jpeg", ".jpg", ".png", ".tif", ".tiff", ".webp")
"""File extensions :func:`save_image` writes."""


def load_image(path) -> np.ndarray:
    """Read an image file as float32 in [0, 1]: (H, W) or (H, W, C)."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"path {str(path)!r} is not a file")
    try:
        # Bytes in hand, so that no failed decoder leaves the file open.
        data = iio.imread(path.read_bytes(), extension=path.suffix.lower() or None)
    except Exception as exc:  # imageio raises many types for bad files
        raise ValueError(f"path {str(path)!r} is not a readable image: {exc}") from exc
    if data.ndim == 3 and data.shape[-1] == 1:
        data = data[..., 0]
    return as_image(data, f"image read from {str(path)!r}")


def save_image(path, image) -> Path:
    """Write ``image`` ((H, W[, C]) in [0, 1], or uint8) as an 8-bit file.

    The format follows the extension, one of :data:`FORMATS` (no extension
    writes PNG).  Returns the path written.  A failed save leaves no file.
    """
    path = Path(path)
    if path.suffix and path.suffix.lower() not in FORMATS:
        raise ValueError(f"path must end in one of {FORMATS}; got {path.suffix!r}")
    img = as_image(image)
    data = np.round(img * 255.0).astype(np.uint8)
    if data.ndim == 3 and data.shape[-1] == 1:
        data = data[..., 0]
    return atomic_write(path, lambda tmp: iio.imwrite(tmp, data, extension=path.suffix or ".png"))

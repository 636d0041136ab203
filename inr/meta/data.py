"""Folders of images as one array of training signals.

Meta-learning draws its batches on the device from one array of signals
(:func:`inr.meta.meta_train`); :func:`image_folder` builds it from a folder
of photos the way learnit and FranNet prepare CelebA: the centred square
crop (rows 20..197 of a 178x218 CelebA photo), resized bilinearly to
``size``, kept as uint8 (a quarter of float32 on the device).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from inr._validate import as_positive_int
from inr.interpolation import centre_square, resize
from inr.io import FORMATS, load_image

__all__ = ["image_folder"]


def image_folder(folder, size: int = 64, *, limit: int | None = None) -> np.ndarray:
    """Every RGB image of ``folder`` (sorted by name), as uint8 ``(N, size, size, 3)``.

    ``limit`` keeps the first ``limit`` files.  Gray images are repeated to
    three channels.  ``ValueError`` names the folder when it holds no image.
    """
    folder = Path(folder)
    size = as_positive_int(size, "size")
    if not folder.is_dir():
        raise ValueError(f"folder {str(folder)!r} is not a folder")
    files = sorted(f for f in folder.iterdir() if f.suffix.lower() in FORMATS)
    if limit is not None:
        files = files[: as_positive_int(limit, "limit")]
    if not files:
        raise ValueError(f"folder {str(folder)!r} holds no image ({', '.join(FORMATS)})")
    out = np.empty((len(files), size, size, 3), np.uint8)
    for i, path in enumerate(files):
        image = load_image(path)
        image = np.repeat(image[..., None], 3, -1) if image.ndim == 2 else image[..., :3]
        small = resize(centre_square(image), (size, size), "bilinear", antialias=False)
        out[i] = np.round(small * 255.0).astype(np.uint8)
    return out

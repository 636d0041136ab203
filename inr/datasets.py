"""Built-in sample images from scikit-image (the ``examples`` extra).

Nothing here downloads: these are the images scikit-image installs with
itself.  Names: ``camera`` (512x512 gray), ``astronaut``, ``coffee``,
``chelsea``, ``rocket``, ``coins`` (gray), ``moon`` (gray).
"""

from __future__ import annotations

import numpy as np

from inr._validate import as_image

__all__ = ["SAMPLE_IMAGES", "sample_image"]

SAMPLE_IMAGES = ("camera", "astronaut", "coffee", "chelsea", "rocket", "coins", "moon")


def sample_image(name: str) -> np.ndarray:
    """A built-in image as float32 in [0, 1], (H, W) or (H, W, 3)."""
    if name not in SAMPLE_IMAGES:
        raise ValueError(f"name must be one of {SAMPLE_IMAGES}; got {name!r}")
    try:
        import skimage.data
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ImportError(
            "built-in images come from scikit-image: pip install 'inr[examples]'"
        ) from exc
    return as_image(getattr(skimage.data, name)(), name)

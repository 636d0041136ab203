"""NeRF synthetic scenes: images and cameras of a ``transforms_<split>.json`` folder.

The Blender scenes of Mildenhall et al. (2020), as they ship: RGBA PNGs and
a ``transforms_<split>.json`` per split (:func:`inr.load_transforms`).
Smaller sizes are box averages of the premultiplied colour (the tiny-NeRF
notebook's 100x100 lego is the 2x box of 200x200), so edges against the
background blend as a camera of that resolution would see them.
"""

from __future__ import annotations

from pathlib import Path

import imageio.v3 as iio
import numpy as np

from inr._validate import as_shape
from inr.cameras import load_transforms
from inr.interpolation import resize

__all__ = ["load_blender"]


def _downsized(rgba: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``(H, W, 4)`` floats at ``size``: premultiplied, box-averaged (or resized), divided back."""
    h, w = rgba.shape[:2]
    premultiplied = np.concatenate([rgba[..., :3] * rgba[..., 3:], rgba[..., 3:]], axis=-1)
    if h % size[0] == 0 and w % size[1] == 0:
        fy, fx = h // size[0], w // size[1]
        small = premultiplied.reshape(size[0], fy, size[1], fx, 4).mean(axis=(1, 3))
    else:
        small = np.clip(resize(premultiplied, size), 0.0, 1.0)
    alpha = small[..., 3:]
    return np.concatenate([small[..., :3] / np.maximum(alpha, 1e-8), alpha], axis=-1)


def load_blender(folder, split: str = "train", size=None, background=None):
    """``(images, cameras)`` of one split of a NeRF synthetic scene.

    Args:
      folder: the scene's folder (``transforms_<split>.json`` and the images).
      split: ``"train"``, ``"val"`` or ``"test"``.
      size: ``(H, W)`` (or one side, for square images); ``None`` keeps the
        files' size.  The cameras' intrinsics follow.
      background: ``None`` keeps RGBA (uint8 ``(N, H, W, 4)``: the fit
        composites each ray on its own background); an RGB in [0, 1]
        composites on it here (uint8 ``(N, H, W, 3)``).

    Returns:
      The images and an :class:`inr.Camera` stack.
    """
    path = Path(folder) / f"transforms_{split}.json"
    if not path.is_file():
        raise ValueError(f"folder {str(folder)!r} has no transforms_{split}.json")
    cameras, files = load_transforms(path)
    if size is not None:
        size = as_shape((size, size) if np.ndim(size) == 0 else size, "size")
    images = []
    for file in files:
        rgba = iio.imread(file).astype(np.float32) / 255.0
        if rgba.shape[-1] == 3:
            rgba = np.concatenate([rgba, np.ones_like(rgba[..., :1])], axis=-1)
        if size is not None and rgba.shape[:2] != size:
            rgba = _downsized(rgba, size)
        if background is not None:
            bg = np.asarray(background, np.float32)
            rgba = rgba[..., :3] * rgba[..., 3:] + bg * (1.0 - rgba[..., 3:])
        images.append(np.round(np.clip(rgba, 0, 1) * 255).astype(np.uint8))
    images = np.stack(images)
    return images, cameras.resized(images.shape[1:3]) if size is not None else cameras

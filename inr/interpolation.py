"""Interpolating pixel grids: whole-image resizing and samples at continuous points.

One convention throughout (:mod:`inr.coords`): a map ``(H, W, C)`` covers
[-1, 1]^2 with pixel centres at ``-1 + (2j + 1) / W``, so point ``(x, y)``
sits at pixel position ``((x + 1) W / 2 - 1/2, (y + 1) H / 2 - 1/2)`` and the
centre of pixel ``(i, j)`` samples exactly ``map[i, j]``.

* :func:`resize`: a validated wrapper over ``jax.image.resize``:
  ``"nearest"``, ``"bilinear"``, ``"bicubic"`` (Keys' cubic, a = -1/2) and
  ``"lanczos3"``, anti-aliased when shrinking by widening the kernel (as PIL
  and ``torchvision`` do).  :func:`resize_weights` is the same bicubic
  resize as a matrix, for host code without JAX.
* :func:`sample_bilinear`: bilinear at points, clamped at the border (the
  decoder's feature sampler and the data pipeline's target sampler).
* :func:`sample_bicubic`: Keys' cubic with the taps that fall outside the
  map dropped and the rest renormalised, the convention of
  ``jax.image.resize``: on the pixel centres of a larger grid it reproduces
  ``resize(..., "bicubic", antialias=False)`` exactly.
* :func:`sample_nearest` / :func:`sample_corner`: the features of the cell
  holding the point, or of one of the four around it (LIIF's local
  ensemble), and the point's offset from that cell's centre, in cells.

The point samplers work on NumPy arrays (host data pipeline) and on JAX
arrays (traced, differentiable in the map), for one map and ``(n, 2)``
points; ``vmap`` them for batches.
"""

from __future__ import annotations

from typing import Annotated

import jax
import jax.numpy as jnp
import numpy as np

from inr._validate import as_image, as_size

__all__ = [
    "RESIZE_KERNELS",
    "centre_square",
    "cubic_taps",
    "keys_cubic",
    "pixel_position",
    "resize",
    "resize_valid",
    "resize_weights",
    "sample_bicubic",
    "sample_bilinear",
    "sample_corner",
    "sample_nearest",
]

_METHODS = {"nearest": "nearest", "bilinear": "linear", "bicubic": "cubic", "lanczos3": "lanczos3"}


def keys_cubic(x, xp=np):
    """Keys' cubic convolution kernel with a = -1/2 at distances ``x >= 0``."""
    a = -0.5
    near = ((a + 2) * x - (a + 3)) * x * x + 1
    far = ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    return xp.where(x < 1, near, xp.where(x < 2, far, 0.0))


def triangle(x, xp=np):
    """The linear-interpolation (tent) kernel at distances ``x >= 0``."""
    return xp.maximum(1.0 - x, 0.0)


# The separable kernels of resize_weights, each f(distance, array module).
RESIZE_KERNELS = {"bicubic": keys_cubic, "bilinear": triangle}


def resize_weights(
    in_size: int, out_size: int, antialias: bool = True, method: str = "bicubic"
) -> np.ndarray:
    """The ``(out_size, in_size)`` float64 matrix of a 1-D resize.

    Output pixel ``i`` samples input position ``(i + 1/2) in/out - 1/2``
    with Keys' cubic (``method="bicubic"``) or the triangle (``"bilinear"``)
    kernel; when shrinking with ``antialias`` the kernel is widened by
    ``in/out``.  Weights are renormalised over the taps inside the input, as
    in ``jax.image.resize``, which ``W_y @ image @ W_x.T`` reproduces on the
    host without JAX (the data pipeline's resize).  ``"bilinear"`` without
    antialiasing is TensorFlow's default resize.
    """
    if method not in RESIZE_KERNELS:
        raise ValueError(f"method must be one of {tuple(RESIZE_KERNELS)}; got {method!r}")
    scale = out_size / in_size
    widen = max(1.0 / scale, 1.0) if antialias else 1.0
    pos = (np.arange(out_size) + 0.5) / scale - 0.5
    w = RESIZE_KERNELS[method](np.abs(pos[:, None] - np.arange(in_size)[None, :]) / widen, np)
    return w / w.sum(axis=1, keepdims=True)


def centre_square(image: np.ndarray) -> np.ndarray:
    """The centred ``s x s`` crop of ``image (h, w, ...)``, ``s = min(h, w)``.

    Rows 20..197 of a 178x218 CelebA photo: FranNet's and learnit's crop.
    """
    h, w = image.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    return image[top : top + side, left : left + side]


def resize(image, size, method: str = "bicubic", *, antialias: bool = True) -> np.ndarray:
    """Resize ``image`` (H, W[, C]) in [0, 1] to ``size = (height, width)``.

    Returns float32 NumPy clipped to [0, 1] (cubic kernels overshoot).
    """
    if method not in _METHODS:
        raise ValueError(f"method must be one of {tuple(_METHODS)}; got {method!r}")
    return resize_valid(as_image(image), as_size(*size), method, antialias=antialias)


def resize_valid(image: np.ndarray, size, method: str = "bicubic", *, antialias: bool = True):
    """:func:`resize` of an image and size its caller has already checked."""
    out = jax.image.resize(
        jnp.asarray(image), (*size, *image.shape[2:]), _METHODS[method], antialias=antialias
    )
    return np.clip(np.asarray(out), 0.0, 1.0)


# -- samples at continuous points ----------------------------------------------

Map = Annotated[jnp.ndarray, "h w c"]
Points = Annotated[jnp.ndarray, "n 2"]


def _xp(a):
    return np if isinstance(a, np.ndarray) else jnp


def pixel_position(points: Points, height: int, width: int):
    """Continuous ``(row, col)`` pixel positions of ``(x, y)`` points, ``(n,)`` each."""
    col = (points[..., 0] + 1.0) * (width / 2.0) - 0.5
    row = (points[..., 1] + 1.0) * (height / 2.0) - 0.5
    return row, col


def sample_bilinear(fmap: Map, points: Points) -> Annotated[jnp.ndarray, "n c"]:
    """Bilinear samples of ``fmap`` at ``points``, border values extended outward."""
    xp = _xp(fmap)
    h, w = fmap.shape[:2]
    row, col = pixel_position(points, h, w)
    row = xp.clip(row, 0.0, h - 1.0)
    col = xp.clip(col, 0.0, w - 1.0)
    r0 = xp.clip(xp.floor(row), 0, max(h - 2, 0)).astype(np.int32)
    c0 = xp.clip(xp.floor(col), 0, max(w - 2, 0)).astype(np.int32)
    r1 = xp.minimum(r0 + 1, h - 1)
    c1 = xp.minimum(c0 + 1, w - 1)
    fr = (row - r0)[:, None].astype(fmap.dtype)
    fc = (col - c0)[:, None].astype(fmap.dtype)
    top = fmap[r0, c0] * (1 - fc) + fmap[r0, c1] * fc
    bottom = fmap[r1, c0] * (1 - fc) + fmap[r1, c1] * fc
    return top * (1 - fr) + bottom * fr


def cubic_taps(pos, size: int, xp=np):
    """Four tap indices ``(n, 4)`` and renormalised Keys weights around positions ``pos (n,)``.

    ``pos`` is a continuous index into ``size`` samples (sample ``i`` at
    ``i``); taps past either end get no weight, the others renormalised,
    so the border extends outward.
    """
    base = xp.floor(pos).astype(np.int32)[:, None] + xp.arange(-1, 3, dtype=np.int32)
    weight = keys_cubic(xp.abs(pos[:, None] - base), xp)
    weight = xp.where((base >= 0) & (base < size), weight, 0.0)
    weight = weight / xp.sum(weight, axis=1, keepdims=True)
    return xp.clip(base, 0, size - 1), weight


def sample_bicubic(image: Map, points: Points) -> Annotated[jnp.ndarray, "n c"]:
    """Bicubic samples of ``image`` at ``points`` (see the module docstring)."""
    xp = _xp(image)
    h, w = image.shape[:2]
    row, col = pixel_position(points, h, w)
    # Outside the map, jax.image.resize would give 0; extend the border instead.
    rows, wr = cubic_taps(xp.clip(row, -0.5, h - 0.5), h, xp)
    cols, wc = cubic_taps(xp.clip(col, -0.5, w - 0.5), w, xp)
    patch = image[rows[:, :, None], cols[:, None, :]]  # (n, 4, 4, c)
    weights = (wr[:, :, None] * wc[:, None, :]).astype(image.dtype)
    return xp.einsum("nij,nijc->nc", weights, patch)


def _cell(fmap, row, col, r, c, xp):
    h, w = fmap.shape[:2]
    r = xp.clip(r, 0, h - 1)
    c = xp.clip(c, 0, w - 1)
    return fmap[r, c], xp.stack([col - c, row - r], axis=-1).astype(fmap.dtype)


def sample_nearest(fmap: Map, points: Points):
    """Features of the cell holding each point and the point's offset from its centre.

    Returns ``(features (n, c), offset (n, 2))``; ``offset`` is ``(x, y)`` in
    cells, within [-1/2, 1/2] inside the map.
    """
    xp = _xp(fmap)
    row, col = pixel_position(points, *fmap.shape[:2])
    r, c = (xp.round(v).astype(np.int32) for v in (row, col))
    return _cell(fmap, row, col, r, c, xp)


def sample_corner(fmap: Map, points: Points, corner: tuple[int, int]):
    """One of the four cells around each point (LIIF's local ensemble).

    ``corner = (dx, dy)`` in {0, 1}^2 picks the cell ``dx`` right and ``dy``
    below the one up-left of the point.  Returns ``(features, offset)`` as
    :func:`sample_nearest`, with ``offset`` in [-1, 1]; the bilinear weight
    of the corner is ``prod(1 - |offset|)``.  Points beyond the outer pixel
    centres are clamped onto them, as in :func:`sample_bilinear`.
    """
    xp = _xp(fmap)
    h, w = fmap.shape[:2]
    row, col = pixel_position(points, h, w)
    # Clamped as in sample_bilinear, so the four weights always sum to one.
    row = xp.clip(row, 0.0, h - 1.0)
    col = xp.clip(col, 0.0, w - 1.0)
    r = xp.clip(xp.floor(row), 0, max(h - 2, 0)).astype(np.int32) + corner[1]
    c = xp.clip(xp.floor(col), 0, max(w - 2, 0)).astype(np.int32) + corner[0]
    return _cell(fmap, row, col, r, c, xp)

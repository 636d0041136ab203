"""Training images on the device: a uint8 store and the reads an example makes from it.

The training images are decoded once into an :class:`ImageStore`: every
pixel of every image in one ``(P, 3)`` uint8 array, plus where each image
starts and its size.  It lives on the accelerator (``pipeline="device"``)
or in host memory (``pipeline="host"``, for image sets larger than the
accelerator's), and the two reads an example needs are pure functions of
it with static shapes, to call inside ``jit``:

* :func:`read_resized`: a crop resized to a fixed side.  It reads a fixed
  ``window x window`` block that holds the crop, one contiguous row slice at
  a time (pixels past the crop's edge get zero weight), and resizes it with
  weight matrices built for the crop's traced size, exactly
  :func:`inr.interpolation.resize_weights`.  Cost: two small matmuls, the
  first ``n x window^2 x 3`` multiply-adds, so the window (the largest crop
  the examples can draw) sets it.
* :func:`read_bilinear`: bilinear samples of a crop at points in [-1, 1],
  read from the store pixel by pixel.

What a crop is, and which reads make an example, is
:mod:`inr.restorator.examples`'s business.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from inr.interpolation import RESIZE_KERNELS

__all__ = ["Crops", "ImageStore", "image_store", "read_bilinear", "read_resized"]


class ImageStore(NamedTuple):
    """Training images packed for the device (a pytree of arrays).

    Attributes:
      pixels: ``(P, 3)`` uint8, every image's pixels in row-major order, one
        image after another, then a zero margin.
      starts: ``(N,)`` int32, the row of ``pixels`` where image ``k`` starts.
      heights, widths: ``(N,)`` int32 sizes.
      group_starts, group_sizes: ``(N,)`` int32: image ``k``'s group (the
        photos a reference is drawn from) is images ``group_starts[k]`` to
        ``group_starts[k] + group_sizes[k] - 1``.
      rows: ``(T,)`` int32, the images a batch row is drawn from: all of
        them but those kept only as references.
    """

    pixels: np.ndarray
    starts: np.ndarray
    heights: np.ndarray
    widths: np.ndarray
    group_starts: np.ndarray
    group_sizes: np.ndarray
    rows: np.ndarray

    @property
    def largest_side(self) -> int:
        return int(max(np.max(self.heights), np.max(self.widths)))


def image_store(
    images: list[np.ndarray], groups: list | None = None, trainable: list | None = None
) -> ImageStore:
    """Pack RGB images ``(h, w, 3)`` (uint8, or floats in [0, 1], rounded to uint8).

    ``groups`` names each image's group (default: each its own); the store
    keeps a group's images together.  ``trainable`` says, per image, whether
    batch rows are drawn from it (default: all); the others serve only as
    references of their group.  The store stays on the host (NumPy) until
    the training step moves it.
    """
    if not images:
        raise ValueError("image_store needs at least one image")
    if groups is None:
        groups = list(range(len(images)))
    if len(groups) != len(images):
        raise ValueError(f"groups must name each of the {len(images)} images; got {len(groups)}")
    trainable = [True] * len(images) if trainable is None else [bool(t) for t in trainable]
    if len(trainable) != len(images) or not any(trainable):
        raise ValueError(
            f"trainable must flag each of the {len(images)} images, one of them True; "
            f"got {len(trainable)} flags"
        )
    names = sorted(set(groups), key=str)
    rank = {g: i for i, g in enumerate(names)}
    order = sorted(range(len(images)), key=lambda k: rank[groups[k]])  # stable
    images = [images[k] for k in order]
    ids = np.array([rank[groups[k]] for k in order])
    first = np.searchsorted(ids, ids, side="left")
    size = np.searchsorted(ids, ids, side="right") - first
    flat, sizes = [], []
    for k, image in enumerate(images):
        image = np.asarray(image)
        if image.ndim != 3 or image.shape[-1] != 3:
            raise ValueError(f"images[{k}] must be (h, w, 3); got shape {image.shape}")
        if image.dtype != np.uint8:
            image = np.round(np.clip(image, 0.0, 1.0) * 255).astype(np.uint8)
        flat.append(image.reshape(-1, 3))
        sizes.append(image.shape[:2])
    sizes = np.asarray(sizes, np.int64)
    counts = sizes[:, 0] * sizes[:, 1]
    if counts.sum() + sizes.max() >= 2**31:
        raise ValueError(f"images hold {counts.sum()} pixels; a store holds at most 2^31 - 1")
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int32)
    # A margin as long as the largest side: a row slice of any window from
    # the last image stays inside the array (dynamic_slice would shift it).
    flat.append(np.zeros((int(sizes.max()), 3), np.uint8))
    return ImageStore(
        np.concatenate(flat),
        starts,
        sizes[:, 0].astype(np.int32),
        sizes[:, 1].astype(np.int32),
        first.astype(np.int32),
        size.astype(np.int32),
        np.flatnonzero([trainable[k] for k in order]).astype(np.int32),
    )


class Crops(NamedTuple):
    """One crop per batch row: image index, top-left corner, size, flip (all ``(B,)``)."""

    index: jax.Array
    top: jax.Array
    left: jax.Array
    height: jax.Array
    width: jax.Array
    flip: jax.Array


def _resize_matrix(in_size, out_size: int, window: int, method: str, antialias: bool):
    """:func:`~inr.interpolation.resize_weights` for a traced ``in_size``.

    Zero-padded to ``window`` columns.  Dense: on a CPU it costs less than
    gathering each output's band of taps, which copies every input row
    ``4 * widen`` times.
    """
    size = in_size.astype(jnp.float32)
    widen = jnp.maximum(size / out_size, 1.0) if antialias else 1.0
    pos = (jnp.arange(out_size) + 0.5) * (size / out_size) - 0.5
    j = jnp.arange(window)
    w = RESIZE_KERNELS[method](jnp.abs(pos[:, None] - j[None, :]) / widen, jnp)
    w = jnp.where(j[None, :] < in_size, w, 0.0)
    return w / jnp.sum(w, axis=1, keepdims=True)


def _rows(store: ImageStore, crop: Crops, rows, width: int):
    """Crop rows ``rows`` (any shape), ``width`` pixels from the crop's left edge, as floats.

    Each is one contiguous slice of the store (the store's margin keeps the
    last image's slices in bounds, so none is shifted).
    """
    first = store.starts[crop.index] + (crop.top + rows) * store.widths[crop.index] + crop.left

    def one(start):
        return jax.lax.dynamic_slice(store.pixels, (start, 0), (width, 3))

    flat = jax.vmap(one)(first.reshape(-1))
    return flat.reshape(*rows.shape, width, 3).astype(jnp.float32) / 255.0


def read_resized(
    store: ImageStore,
    crop: Crops,
    n: int,
    window: int,
    method: str = "bicubic",
    antialias: bool = True,
) -> jax.Array:
    """The crop (unflipped) resized to ``(n, n, 3)`` in [0, 1], from a ``window``-square block.

    ``method`` and ``antialias`` are :func:`~inr.interpolation.resize_weights`'.
    """
    block = _rows(store, crop, jnp.minimum(jnp.arange(window), crop.height - 1), window)
    wy = _resize_matrix(crop.height, n, window, method, antialias)
    wx = _resize_matrix(crop.width, n, window, method, antialias)
    rows = jnp.einsum("ij,jkc->ikc", wy, block)
    return jnp.clip(jnp.einsum("lk,ikc->ilc", wx, rows), 0.0, 1.0)


def _corners(height, width, points):
    """Bilinear corners and fractions at ``points`` in a ``(height, width)`` map.

    The arithmetic of :func:`inr.interpolation.sample_bilinear`, for a
    traced size: ``(r0, r1, c0, c1, fr, fc)``.
    """
    h = height.astype(jnp.float32)
    w = width.astype(jnp.float32)
    row = jnp.clip((points[:, 1] + 1.0) * (h / 2.0) - 0.5, 0.0, h - 1.0)
    col = jnp.clip((points[:, 0] + 1.0) * (w / 2.0) - 0.5, 0.0, w - 1.0)
    r0 = jnp.clip(jnp.floor(row), 0, jnp.maximum(h - 2, 0)).astype(jnp.int32)
    c0 = jnp.clip(jnp.floor(col), 0, jnp.maximum(w - 2, 0)).astype(jnp.int32)
    r1 = jnp.minimum(r0 + 1, height - 1)
    c1 = jnp.minimum(c0 + 1, width - 1)
    return r0, r1, c0, c1, (row - r0)[:, None], (col - c0)[:, None]


def _blend(at, corners):
    r0, r1, c0, c1, fr, fc = corners
    top = at(r0, c0) * (1 - fc) + at(r0, c1) * fc
    bottom = at(r1, c0) * (1 - fc) + at(r1, c1) * fc
    return top * (1 - fr) + bottom * fr


def read_bilinear(store: ImageStore, crop: Crops, points) -> jax.Array:
    """Bilinear samples ``(P, 3)`` of the (unflipped) crop at ``points (P, 2)`` in [-1, 1].

    Read from the store pixel by pixel: the same values as
    :func:`inr.interpolation.sample_bilinear` of the cut-out crop.
    """
    start, width = store.starts[crop.index], store.widths[crop.index]

    def at(r, c):
        index = start + (crop.top + r) * width + crop.left + c
        return store.pixels.at[index].get(mode="fill", fill_value=0).astype(jnp.float32) / 255.0

    return _blend(at, _corners(crop.height, crop.width, points))

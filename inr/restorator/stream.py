"""Training batches built on the accelerator, inside ``jit``, from a uint8 image store.

The host pipeline (:mod:`inr.restorator.data`) crops, resizes and samples in
NumPy on one thread; on an accelerator it starves the training step.  Here
the training images are decoded once into an :class:`ImageStore` (every
pixel of every image in one ``(P, 3)`` uint8 array, plus where each image
starts and its size) that lives on the device, and :func:`device_batch` is a
pure function of ``(store, seed, step)`` that builds a whole batch in one
compiled program:

1. per row, draw an image, a crop and a flip (as :mod:`inr.restorator.data`);
2. read a fixed ``window x window`` block that holds the crop, one
   contiguous row slice at a time (static shapes: pixels past the crop's
   edge get zero weight);
3. resize the crop with weight matrices built for its traced size (exactly
   :func:`inr.interpolation.resize_weights` for the spec's ``downscale``),
   and flip the result if drawn (resizing commutes with flipping);
4. draw the query points (uniform, or pixel centres: the spec's ``query``)
   and read their bilinear targets in the crop straight from the store;
5. optionally blank grid cells of the input (FranNet's masking).

A batch depends only on ``(seed, step, process)``: a resumed run replays the
same stream, each host builds its rows from its own store.  The two
pipelines draw different random streams; a run records which it used.

Cost: the resize is two small matmuls per row, ``input_size x window^2 x 3``
multiply-adds for the first: the window (the largest crop the task can draw;
``max_scale * input_size`` for ``upscale``, the whole image otherwise) sets it.
"""

from __future__ import annotations

import dataclasses
import math
from typing import NamedTuple

import chex
import jax
import jax.numpy as jnp
import numpy as np

from inr.color import rgb_to_gray
from inr.interpolation import RESIZE_KERNELS, sample_bilinear
from inr.restorator.data import downscale_kernel, patch_points, pixel_centre
from inr.restorator.masking import Masking, as_masking, mask_cells_device

__all__ = ["ImageStore", "StreamSpec", "device_batch", "draw_crops", "image_store"]


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


@dataclasses.dataclass(frozen=True)
class StreamSpec:
    """What a batch holds (static: one compiled program per spec).

    ``window`` is the side of the block gathered per row; it must hold the
    largest crop the task can draw (:meth:`for_store` computes it).  With
    ``reference_size`` every row also gets a reference (see
    :func:`device_batch`) of that side, absent with probability
    ``reference_dropout`` and the row's own crop with probability
    ``self_reference``.
    """

    task: str
    input_size: int
    batch_size: int
    points_per_image: int
    window: int
    max_scale: float = 4.0
    masking: Masking | None = None
    reference_size: int | None = None
    reference_dropout: float = 0.2
    self_reference: float = 0.0
    crop: str = "random"
    downscale: str = "bicubic"
    query: str = "uniform"

    @classmethod
    def for_store(cls, store: ImageStore, *, task: str, max_scale: float = 4.0, **fields):
        """The spec whose window fits every crop of ``task`` from ``store``."""
        square = int(np.max(np.minimum(store.heights, store.widths)))  # largest square crop
        if fields.get("crop") == "centre":
            window = square
        elif task == "upscale":
            window = min(math.ceil(fields["input_size"] * max_scale), square)
        elif task == "colorize":
            window = square
        else:
            window = store.largest_side
        masking = as_masking(fields.pop("masking", None))
        return cls(task=task, max_scale=max_scale, window=window, masking=masking, **fields)


class Crops(NamedTuple):
    """One crop per batch row: image index, top-left corner, size, flip (all ``(B,)``)."""

    index: jax.Array
    top: jax.Array
    left: jax.Array
    height: jax.Array
    width: jax.Array
    flip: jax.Array


def _randint(key, low, high):
    """An integer in ``[low, high]`` (both traced)."""
    return jax.random.randint(key, (), low, high + 1)


def _draw_crop(key, store: ImageStore, spec: StreamSpec) -> Crops:
    keys = jax.random.split(key, 7)
    index = store.rows[jax.random.randint(keys[0], (), 0, store.rows.shape[0])]
    h, w = store.heights[index], store.widths[index]
    n = spec.input_size
    if spec.crop == "centre":
        ch = cw = jnp.minimum(h, w)
    elif spec.task == "restore":
        # Each side 40-100% of the image's, at least input_size when it fits.
        ch = _randint(keys[1], jnp.minimum(h, jnp.maximum(n, (4 * h) // 10)), h)
        cw = _randint(keys[2], jnp.minimum(w, jnp.maximum(n, (4 * w) // 10)), w)
    elif spec.task == "colorize":
        side = jnp.minimum(h, w)
        ch = cw = _randint(keys[1], jnp.minimum(n, side), side)
    else:
        scale = jax.random.uniform(keys[1], (), minval=1.0, maxval=spec.max_scale)
        side = jnp.round(n * scale).astype(jnp.int32)
        ch = cw = jnp.minimum(jnp.minimum(side, jnp.minimum(h, w)), spec.window)
    if spec.crop == "centre":
        top, left = (h - ch) // 2, (w - cw) // 2
    else:
        top = _randint(keys[3], 0, h - ch)
        left = _randint(keys[4], 0, w - cw)
    flip = jax.random.bernoulli(keys[5])
    return Crops(index, top, left, ch, cw, flip)


def _draw_reference(key, crop: Crops, store: ImageStore) -> Crops:
    """The reference's crop for a row: the same box in another photo of its group.

    A photo alone in its group is its own reference, through another
    random box of the same size (and its own flip).
    """
    k_partner, k_top, k_left, k_flip = jax.random.split(key, 4)
    first, size = store.group_starts[crop.index], store.group_sizes[crop.index]
    step = 1 + jax.random.randint(k_partner, (), 0, jnp.maximum(size - 1, 1))
    partner = jnp.where(size > 1, first + (crop.index - first + step) % size, crop.index)
    h, w = store.heights[partner], store.widths[partner]
    ch, cw = jnp.minimum(crop.height, h), jnp.minimum(crop.width, w)
    alone = size == 1
    top = jnp.where(alone, _randint(k_top, 0, h - ch), jnp.minimum(crop.top, h - ch))
    left = jnp.where(alone, _randint(k_left, 0, w - cw), jnp.minimum(crop.left, w - cw))
    flip = jnp.where(alone, jax.random.bernoulli(k_flip), crop.flip)
    return Crops(partner, top, left, ch, cw, flip)


def draw_crops(key, store: ImageStore, spec: StreamSpec) -> Crops:
    """The crops of a batch keyed by ``key`` (what :func:`device_batch` draws first)."""
    store = ImageStore(*map(jnp.asarray, store))
    keys = jax.random.split(key, spec.batch_size)
    return jax.vmap(lambda k: _draw_crop(jax.random.fold_in(k, 0), store, spec))(keys)


def _resize_matrix(in_size, out_size: int, window: int, downscale: str = "bicubic"):
    """:func:`~inr.interpolation.resize_weights` for a traced ``in_size``.

    Zero-padded to ``window`` columns.  Dense: on a CPU it costs less than
    gathering each output's band of taps, which copies every input row
    ``4 * widen`` times.
    """
    method, antialias = downscale_kernel(downscale)
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


def _resize(store: ImageStore, crop: Crops, n: int, window: int, downscale: str = "bicubic"):
    """The crop (unflipped) resized to ``(n, n, 3)``, from a ``window``-square block."""
    block = _rows(store, crop, jnp.minimum(jnp.arange(window), crop.height - 1), window)
    wy = _resize_matrix(crop.height, n, window, downscale)
    wx = _resize_matrix(crop.width, n, window, downscale)
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


def _store_bilinear(store: ImageStore, crop: Crops, points):
    """Bilinear samples of the (unflipped) crop at ``points``, read from the store."""
    start, width = store.starts[crop.index], store.widths[crop.index]

    def at(r, c):
        index = start + (crop.top + r) * width + crop.left + c
        return store.pixels.at[index].get(mode="fill", fill_value=0).astype(jnp.float32) / 255.0

    return _blend(at, _corners(crop.height, crop.width, points))


def _query(key, spec: StreamSpec, width, height):
    """``(points_per_image, 2)`` query points on a ``width x height`` target (traced sizes)."""
    shape = (spec.points_per_image, 2)
    if spec.query == "uniform":
        return jax.random.uniform(key, shape, minval=-1.0, maxval=1.0)
    if spec.query == "patch":
        side = math.isqrt(spec.points_per_image)
        k_top, k_left = jax.random.split(key)
        top = _randint(k_top, 0, jnp.maximum(height - side, 0))
        left = _randint(k_left, 0, jnp.maximum(width - side, 0))
        return patch_points(top, left, side, width, height, jnp)
    size = jnp.stack([width, height]).astype(jnp.int32)
    return pixel_centre(jax.random.randint(key, shape, 0, size), size.astype(jnp.float32))


def _example(key, crop: Crops, store: ImageStore, spec: StreamSpec):
    n = spec.input_size
    k_points, k_mask = jax.random.split(jax.random.fold_in(key, 1))
    if spec.task == "colorize":
        points = _query(k_points, spec, n, n)
    else:
        points = _query(k_points, spec, crop.width, crop.height)
    # Resizing commutes with a left-right flip, and sampling a flipped crop
    # at x is sampling the crop at -x: flip the results, not the pixels.
    small = _resize(store, crop, n, spec.window, spec.downscale)
    small = jnp.where(crop.flip, small[:, ::-1], small)
    if spec.task == "colorize":
        targets = sample_bilinear(small, points)
        inputs = rgb_to_gray(small)[..., None]
        cell = jnp.ones(2)
    else:
        mirrored = points * jnp.where(crop.flip, jnp.array([-1.0, 1.0]), 1.0)
        targets = _store_bilinear(store, crop, mirrored)
        inputs = rgb_to_gray(small)[..., None] if spec.task == "restore" else small
        cell = n / jnp.stack([crop.width, crop.height]).astype(jnp.float32)
    if spec.masking is not None:
        inputs = mask_cells_device(k_mask, inputs, spec.masking)
    batch = {"inputs": inputs, "points": points, "targets": targets, "cell": cell}
    if spec.reference_size is not None:
        batch.update(_reference(jax.random.fold_in(key, 2), crop, store, spec))
    return batch


def _reference(key, crop: Crops, store: ImageStore, spec: StreamSpec) -> dict:
    """``reference (R, R, 3)`` and ``present`` (0 or 1) for one row."""
    k_crop, k_jitter, k_drop, k_self = jax.random.split(key, 4)
    own = jax.random.bernoulli(k_self, spec.self_reference)
    box = _draw_reference(k_crop, crop, store)
    box = jax.tree.map(lambda mine, other: jnp.where(own, mine, other), crop, box)
    image = _resize(store, box, spec.reference_size, spec.window)
    image = jnp.where(box.flip, image[:, ::-1], image)
    # A photo that is its own reference through another box also gets its
    # colours jittered, so that copying it is not the answer.
    alone = (store.group_sizes[crop.index] == 1) & ~own
    gain = jnp.where(alone, jax.random.uniform(k_jitter, (3,), minval=0.9, maxval=1.1), 1.0)
    present = jax.random.bernoulli(k_drop, 1.0 - spec.reference_dropout).astype(jnp.float32)
    return {"reference": jnp.clip(image * gain, 0.0, 1.0), "present": present}


def device_batch(store: ImageStore, spec: StreamSpec, seed, step, process: int = 0) -> dict:
    """The batch of training step ``step``: a pure function of its arguments, to ``jit``.

    Args:
      store: the training images (:func:`image_store`), on the device.
      spec: the batch's shape and task (static).
      seed, step: the stream and the position in it (may be traced).
      process: on several hosts, this host's index (its own stream).

    Returns:
      ``{"inputs" (B, n, n, c), "points" (B, P, 2), "targets" (B, P, 3),
      "cell" (B, 2)}``, float32, as :func:`inr.restorator.data.make_batch`.
    """
    chex.assert_rank(store.pixels, 2)
    store = ImageStore(*map(jnp.asarray, store))
    key = jax.random.fold_in(jax.random.fold_in(jax.random.PRNGKey(seed), step), process)
    crops = draw_crops(key, store, spec)
    keys = jax.random.split(key, spec.batch_size)
    return jax.vmap(lambda k, c: _example(k, c, store, spec))(keys, crops)

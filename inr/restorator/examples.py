"""What one training example of a restorator is, and how a batch of them is drawn.

An :class:`Examples` object holds every option of the distribution; it is
passed unchanged to whichever pipeline computes the batches
(:mod:`inr.restorator.batches`), and :func:`draw_batch` is the one
implementation: a pure function of ``(store, seed, step)`` to ``jit``.
Per row it draws an image, a crop and a left-right flip, reads the crop's
small input from the store (:mod:`inr.restorator.store`), the query points
and their targets, and optionally blanks grid cells of the input.

By task (see :mod:`inr.restorator.model`):

* ``restore``: a random crop (each side 40-100% of the image's, at least
  ``input_size`` where it fits), squashed to ``input_size^2`` and turned
  gray; the targets are the crop's colours at full resolution.
* ``colorize``: a random square crop resized to ``input_size``; the targets
  come from the resized crop, so input and output have the same size.
* ``upscale``: a scale ``s ~ U(1, max_scale)`` (LIIF's training range), a
  random square crop of side ``s * input_size``, downscaled to
  ``input_size``; targets from the full-resolution crop.

With ``crop="centre"`` every task takes the whole centred square instead
(FranNet's CelebA protocol; ``upscale`` then draws no scale).  Query points
are ``"uniform"`` in the square with bilinear targets, ``"pixels"``
(centres of random target pixels with their exact colours, LIIF's) or
``"patch"`` (a random ``sqrt(P) x sqrt(P)`` block of target pixels,
row-major, so that the outputs form an image for the image terms of
:mod:`inr.restorator.losses`; a block wider than the target repeats its
edge).  Bilinear targets are the image's tent-filtered surface, whose kinks
sit on the pixel centres where a render is scored, so a smooth decoder
fitted to them rounds off exactly the values it is judged on.

Keys, stated here because they are not the core's named streams
(:mod:`inr.objective`): a batch's key is ``fold_in(fold_in(PRNGKey(seed),
step), process)``, split by position into one key per row, and each row's
key is split by position into its draws (and ``fold_in`` of a fixed
number for the points, the mask and the reference).  The positions are
part of every trained model's stream, so they stay: resumed runs and the
shipped weights' recipes replay the same examples.  A new draw takes a
``fold_in`` of a number of its own, never a new position in a split.

A batch is a dict of float32 arrays: ``inputs (B, n, n, c)``, ``points
(B, P, 2)``, ``targets (B, P, 3)``, ``cell (B, 2)`` (input pixels per
output pixel) and, for a reference restorator, ``reference (B, R, R, 3)``
and ``present (B,)``.
"""

from __future__ import annotations

import dataclasses
import math

import jax
import jax.numpy as jnp
import numpy as np

from inr._validate import as_number, as_positive_int
from inr.color import rgb_to_gray
from inr.interpolation import sample_bilinear
from inr.restorator.masking import Masking, as_masking, mask_cells_device
from inr.restorator.store import Crops, ImageStore, read_bilinear, read_resized

__all__ = [
    "CROPS",
    "DOWNSCALES",
    "QUERIES",
    "Examples",
    "draw_batch",
    "draw_crops",
    "patch_points",
    "pixel_centre",
    "window",
]

CROPS = ("random", "centre")
DOWNSCALES = ("bicubic", "bilinear")
QUERIES = ("uniform", "pixels", "patch")


@dataclasses.dataclass(frozen=True)
class Examples:
    """The distribution of training examples (module docstring).

    Attributes:
      task, input_size: the restorator's (``None``: taken from its
        :class:`~inr.restorator.model.RestoratorConfig` by :meth:`for_model`).
      points_per_image: query points per example.
      masking: FranNet's masking of the inputs: ``None``, a grid size,
        ``"uniform"``, ``"dynamic"`` or a :class:`~inr.restorator.masking.Masking`.
      max_scale: largest upscaling factor drawn for ``upscale``.
      crop: ``"random"`` or ``"centre"``.
      downscale: the filter that makes the small input: ``"bicubic"``
        (antialiased, :func:`inr.resize`) or ``"bilinear"`` (TensorFlow's
        default, not antialiased; FranNet's, see :mod:`inr.restorator.frannet`).
      query: ``"uniform"``, ``"pixels"`` or ``"patch"`` (a square number of points).
      reference_size: a reference restorator's reference side (``None``: 4x
        ``input_size``, TTSR's 160 for 40; never more than the largest crop).
      reference_dropout: a reference restorator's share of examples without
        their reference, so that it also works without one.
      self_reference: its share of examples whose reference is their own
        target crop (TTSR's "the reference is the desired output").
    """

    task: str | None = None
    input_size: int | None = None
    points_per_image: int = 1024
    masking: Masking | int | str | None = None
    max_scale: float = 4.0
    crop: str = "random"
    downscale: str = "bicubic"
    query: str = "uniform"
    reference_size: int | None = None
    reference_dropout: float = 0.2
    self_reference: float = 0.0

    def __post_init__(self):
        as_positive_int(self.points_per_image, "points_per_image")
        for name in ("input_size", "reference_size"):
            if getattr(self, name) is not None:
                as_positive_int(getattr(self, name), name)
        for name, allowed in (("crop", CROPS), ("downscale", DOWNSCALES), ("query", QUERIES)):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {allowed}; got {getattr(self, name)!r}")
        as_number(self.max_scale, "max_scale", 1.0)
        as_number(self.reference_dropout, "reference_dropout", 0.0, 1.0)
        as_number(self.self_reference, "self_reference", 0.0, 1.0)
        object.__setattr__(self, "masking", as_masking(self.masking))
        side = math.isqrt(self.points_per_image)
        if self.query == "patch" and side * side != self.points_per_image:
            raise ValueError(
                "points_per_image must be a square number with query='patch'; "
                f"got {self.points_per_image}"
            )

    def for_model(self, config) -> Examples:
        """These examples with the task, input size and reference of ``config`` filled in."""
        for name in ("task", "input_size"):
            mine = getattr(self, name)
            if mine is not None and mine != getattr(config, name):
                raise ValueError(
                    f"examples.{name} is {mine!r} but the restorator's is {getattr(config, name)!r}"
                )
        if self.reference_size is not None and not config.reference:
            raise ValueError("examples.reference_size needs RestoratorConfig(reference=True)")
        size = self.reference_size or 4 * config.input_size
        return dataclasses.replace(
            self,
            task=config.task,
            input_size=config.input_size,
            reference_size=size if config.reference else None,
        )

    def record(self) -> dict:
        """The fields as JSON-ready values (task and input size belong to the model)."""
        out = dataclasses.asdict(self)
        del out["task"], out["input_size"]
        return out


def window(store: ImageStore, examples: Examples) -> int:
    """The side of the block read per row: it holds every crop ``examples`` draws from ``store``."""
    square = int(np.max(np.minimum(store.heights, store.widths)))  # largest square crop
    if examples.crop == "centre" or examples.task == "colorize":
        return square
    if examples.task == "upscale":
        return min(math.ceil(examples.input_size * examples.max_scale), square)
    return int(max(np.max(store.heights), np.max(store.widths)))


def pixel_centre(index, size):
    """The coordinate in [-1, 1] of pixel ``index`` of ``size`` (NumPy or JAX arrays)."""
    return -1.0 + (2.0 * index + 1.0) / size


def patch_points(top, left, side: int, width, height, xp=np):
    """Pixel centres of the ``side x side`` block at ``(top, left)``, row-major, ``(side^2, 2)``.

    Rows and columns past the ``width x height`` target repeat its last
    ones.  ``xp`` is ``np`` or ``jax.numpy`` (traced corners and sizes).
    """
    rows = xp.minimum(top + xp.arange(side), height - 1)
    cols = xp.minimum(left + xp.arange(side), width - 1)
    rows, cols = xp.meshgrid(rows, cols, indexing="ij")
    x, y = pixel_centre(cols, width * 1.0), pixel_centre(rows, height * 1.0)
    return xp.stack([x, y], -1).reshape(side * side, 2).astype(xp.float32)


def _randint(key, low, high):
    """An integer in ``[low, high]`` (both traced)."""
    return jax.random.randint(key, (), low, high + 1)


def _draw_crop(key, store: ImageStore, examples: Examples, side: int) -> Crops:
    """One row's crop; ``side`` is the largest it may be (the window)."""
    keys = jax.random.split(key, 7)
    index = store.rows[jax.random.randint(keys[0], (), 0, store.rows.shape[0])]
    h, w = store.heights[index], store.widths[index]
    n = examples.input_size
    if examples.crop == "centre":
        ch = cw = jnp.minimum(h, w)
    elif examples.task == "restore":
        ch = _randint(keys[1], jnp.minimum(h, jnp.maximum(n, (4 * h) // 10)), h)
        cw = _randint(keys[2], jnp.minimum(w, jnp.maximum(n, (4 * w) // 10)), w)
    elif examples.task == "colorize":
        ch = cw = _randint(keys[1], jnp.minimum(n, jnp.minimum(h, w)), jnp.minimum(h, w))
    else:
        scale = jax.random.uniform(keys[1], (), minval=1.0, maxval=examples.max_scale)
        drawn = jnp.round(n * scale).astype(jnp.int32)
        ch = cw = jnp.minimum(jnp.minimum(drawn, jnp.minimum(h, w)), side)
    if examples.crop == "centre":
        top, left = (h - ch) // 2, (w - cw) // 2
    else:
        top, left = _randint(keys[3], 0, h - ch), _randint(keys[4], 0, w - cw)
    return Crops(index, top, left, ch, cw, jax.random.bernoulli(keys[5]))


def draw_crops(key, store: ImageStore, examples: Examples, rows: int, side: int) -> Crops:
    """The ``rows`` crops of a batch keyed by ``key`` (what :func:`draw_batch` draws first)."""
    store = ImageStore(*map(jnp.asarray, store))
    keys = jax.random.split(key, rows)
    return jax.vmap(lambda k: _draw_crop(jax.random.fold_in(k, 0), store, examples, side))(keys)


def _draw_query(key, examples: Examples, width, height):
    """``(points_per_image, 2)`` query points on a ``width x height`` target (traced sizes)."""
    shape = (examples.points_per_image, 2)
    if examples.query == "uniform":
        return jax.random.uniform(key, shape, minval=-1.0, maxval=1.0)
    if examples.query == "patch":
        side = math.isqrt(examples.points_per_image)
        k_top, k_left = jax.random.split(key)
        top = _randint(k_top, 0, jnp.maximum(height - side, 0))
        left = _randint(k_left, 0, jnp.maximum(width - side, 0))
        return patch_points(top, left, side, width, height, jnp)
    size = jnp.stack([width, height]).astype(jnp.int32)
    return pixel_centre(jax.random.randint(key, shape, 0, size), size.astype(jnp.float32))


def _draw_reference_crop(key, crop: Crops, store: ImageStore) -> Crops:
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


def _reference(key, crop: Crops, store: ImageStore, examples: Examples, side: int) -> dict:
    """``reference (R, R, 3)`` and ``present`` (0 or 1) for one row."""
    k_crop, k_jitter, k_drop, k_self = jax.random.split(key, 4)
    own = jax.random.bernoulli(k_self, examples.self_reference)
    box = _draw_reference_crop(k_crop, crop, store)
    box = jax.tree.map(lambda mine, other: jnp.where(own, mine, other), crop, box)
    image = read_resized(store, box, min(side, examples.reference_size), side)
    image = jnp.where(box.flip, image[:, ::-1], image)
    # A photo that is its own reference through another box also gets its
    # colours jittered, so that copying it is not the answer.
    alone = (store.group_sizes[crop.index] == 1) & ~own
    gain = jnp.where(alone, jax.random.uniform(k_jitter, (3,), minval=0.9, maxval=1.1), 1.0)
    present = jax.random.bernoulli(k_drop, 1.0 - examples.reference_dropout).astype(jnp.float32)
    return {"reference": jnp.clip(image * gain, 0.0, 1.0), "present": present}


def _example(key, crop: Crops, store: ImageStore, examples: Examples, side: int) -> dict:
    n, task = examples.input_size, examples.task
    k_points, k_mask = jax.random.split(jax.random.fold_in(key, 1))
    if task == "colorize":
        points = _draw_query(k_points, examples, n, n)
    else:
        points = _draw_query(k_points, examples, crop.width, crop.height)
    # Resizing commutes with a left-right flip, and sampling a flipped crop
    # at x is sampling the crop at -x: flip the results, not the pixels.
    small = read_resized(store, crop, n, side, examples.downscale, examples.downscale == "bicubic")
    small = jnp.where(crop.flip, small[:, ::-1], small)
    if task == "colorize":
        targets, cell = sample_bilinear(small, points), jnp.ones(2)
    else:
        mirrored = points * jnp.where(crop.flip, jnp.array([-1.0, 1.0]), 1.0)
        targets = read_bilinear(store, crop, mirrored)
        cell = n / jnp.stack([crop.width, crop.height]).astype(jnp.float32)
    inputs = small if task == "upscale" else rgb_to_gray(small)[..., None]
    if examples.masking is not None:
        inputs = mask_cells_device(k_mask, inputs, examples.masking)
    batch = {"inputs": inputs, "points": points, "targets": targets, "cell": cell}
    if examples.reference_size is not None:
        batch.update(_reference(jax.random.fold_in(key, 2), crop, store, examples, side))
    return batch


def draw_batch(
    store: ImageStore, examples: Examples, rows: int, side: int, seed, step, process: int = 0
) -> dict:
    """The batch of training step ``step``: a pure function of its arguments, to ``jit``.

    Args:
      store: the training images (:func:`~inr.restorator.store.image_store`).
      examples: the distribution, with its task and input size filled in
        (:meth:`Examples.for_model`; static).
      rows: examples in the batch (static).
      side: the block read per row, :func:`window` of the store (static).
      seed: the stream (may be traced).
      step: the position in it (may be traced).
      process: on several hosts, this host's index (its own stream).

    Returns:
      The batch (module docstring), a function of ``(seed, step, process)``
      alone: a resumed run replays the same stream.
    """
    if examples.task is None or examples.input_size is None:
        raise ValueError("draw_batch needs examples.for_model(config): task and input_size")
    store = ImageStore(*map(jnp.asarray, store))
    key = jax.random.fold_in(jax.random.fold_in(jax.random.PRNGKey(seed), step), process)
    crops = draw_crops(key, store, examples, rows, side)
    keys = jax.random.split(key, rows)
    return jax.vmap(lambda k, c: _example(k, c, store, examples, side))(keys, crops)

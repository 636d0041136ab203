"""Training data for restorators: image sources, random examples, prefetch.

Pure NumPy and imageio on the host (no TensorFlow or PyTorch).  A batch is a
function of ``(seed, step)`` only (:func:`make_batch` draws from
``np.random.default_rng([seed, step])``), so a resumed run sees exactly the
batches an uninterrupted one would, and the background thread of
:class:`Prefetcher` cannot change the order.

One example, for a task (see :mod:`inr.restorator.model`):

* ``restore``: a random crop (each side 40-100% of the image's), squashed to
  ``input_size^2`` by antialiased bicubic resizing and turned gray; the
  targets are the crop's colours at the query points, at full resolution.
* ``colorize``: a random square crop, resized to ``input_size``; the targets
  come from the resized crop, so input and output have the same size.
* ``upscale``: a scale ``s ~ U(1, max_scale)`` (LIIF's training range), a
  random square crop of side ``s * input_size``, downscaled to
  ``input_size``; targets from the full-resolution crop.

With ``crop="centre"`` every task takes the whole centred square of the
image instead (FranNet's CelebA protocol; ``upscale`` then draws no scale).
``downscale`` picks the filter that makes the small input: antialiased
bicubic (``"bicubic"``) or TensorFlow's plain bilinear (``"bilinear"``).
``query`` picks the points: ``"uniform"`` in the square, their targets
interpolated bilinearly, or ``"pixels"``, centres of random target pixels
with their exact colours (LIIF's sampling), or ``"patch"``, the centres of
a random ``sqrt(P) x sqrt(P)`` block of target pixels in row-major order,
so that the outputs form an image (for image-level losses,
:mod:`inr.restorator.losses`; a block wider than the target repeats its
edge pixels).  Bilinear targets are the
image's tent-filtered surface, whose kinks sit on the pixel centres where
a render is scored, so a smooth decoder fitted to them rounds off exactly
the values it is judged on.
Crops are flipped left-right with probability 1/2.  Batches are dicts of
float32 arrays: ``inputs (B, n_in, n_in, c)``, ``points (B, P, 2)``,
``targets (B, P, 3)`` and ``cell (B, 2)`` (input pixels per output pixel).
"""

from __future__ import annotations

import concurrent.futures
import math
import os
import queue
import threading
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import imageio.v3 as iio
import numpy as np

from inr._validate import as_image
from inr.color import rgb_to_gray
from inr.interpolation import resize_weights, sample_bilinear
from inr.restorator.masking import as_masking, mask_cells

__all__ = [
    "CROPS",
    "DOWNSCALES",
    "IMAGE_SUFFIXES",
    "QUERIES",
    "Prefetcher",
    "downscale_kernel",
    "expand_sources",
    "group_names",
    "load_images",
    "make_batch",
    "patch_points",
    "pixel_centre",
]

CROPS = ("random", "centre")
DOWNSCALES = ("bicubic", "bilinear")
QUERIES = ("uniform", "pixels", "patch")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


# -- sources ------------------------------------------------------------------


def _to_rgb(x: np.ndarray) -> np.ndarray:
    if x.ndim == 2:
        x = x[..., None]
    if x.shape[-1] in (2, 4):  # drop alpha
        x = x[..., :-1]
    return np.repeat(x, 3, axis=-1) if x.shape[-1] == 1 else x


def expand_sources(source) -> list:
    """``source`` as a flat list: folders become their image files (sorted, recursive).

    ``source`` is a folder, or a list of folders, files and arrays, or one
    array ``(N, H, W[, C])`` / ``(H, W[, C])``.  A folder with no image files
    or a path that does not exist is a ``ValueError``.
    """
    if isinstance(source, (str, Path)):
        source = [source]
    elif isinstance(source, np.ndarray):
        source = list(source) if source.ndim == 4 else [source]
    items = []
    for item in source:
        if isinstance(item, (str, Path)) and Path(item).is_dir():
            found = sorted(p for p in Path(item).rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
            if not found:
                raise ValueError(
                    f"data folder {str(item)!r} holds no {'/'.join(IMAGE_SUFFIXES)} files"
                )
            items += found
        elif isinstance(item, (str, Path)) and not Path(item).is_file():
            raise ValueError(f"data path {str(item)!r} is neither a folder nor a file")
        else:
            items.append(item)
    return items


def group_names(items) -> list[str]:
    """The group of each item: a file ``<group>_<name>.jpg`` is in ``<group>``.

    That is the CelebA layout (``<identity>_<file>``), where a group holds
    photos of one person; a file without ``_`` and an array are groups of
    their own.  Reference-based restorators draw references within groups.
    """
    names = []
    for i, item in enumerate(items):
        stem = Path(item).name if isinstance(item, (str, Path)) else f"\0array {i}"
        names.append(stem.split("_", 1)[0] if "_" in stem else f"\0{stem} {i}")
    return names


def _decode(path) -> np.ndarray | Exception:
    """A file's pixels as uint8, or the exception that reading it raised."""
    try:
        data = np.asarray(iio.imread(path))
        return data if data.dtype == np.uint8 else np.round(as_image(data) * 255).astype(np.uint8)
    except Exception as exc:  # imageio raises many types for bad files
        return exc


def load_images(source, *, with_groups: bool = False, groups: list | None = None):
    """RGB training images from folders (recursive), files, or arrays.

    ``source`` is anything :func:`expand_sources` takes.  Files (``.png``,
    ``.jpg``, ``.jpeg``) are kept as uint8; arrays are validated as images
    and kept as float32.  Gray images become three equal channels; alpha is
    dropped.  Unreadable files are skipped with one warning each; no usable
    image at all is a ``ValueError``.  With ``with_groups`` it returns
    ``(images, groups)``: each kept image's entry of ``groups`` (one per
    item of the expanded ``source``), by default its :func:`group_names` entry.
    """
    source = expand_sources(source)
    if groups is None:
        groups = group_names(source)
    elif len(groups) != len(source):
        raise ValueError(f"groups must name each of the {len(source)} items; got {len(groups)}")
    files = [item for item in source if isinstance(item, (str, Path))]
    # Decoders release the GIL: a few threads decode a folder several times faster.
    with concurrent.futures.ThreadPoolExecutor(min(8, os.cpu_count() or 1)) as pool:
        decoded = dict(zip(map(str, files), pool.map(_decode, files), strict=True))
    images, kept = [], []
    for i, item in enumerate(source):
        if isinstance(item, (str, Path)):
            data = decoded[str(item)]
            if isinstance(data, Exception):
                warnings.warn(f"skipping unreadable image {str(item)!r}: {data}", stacklevel=2)
                continue
            images.append(_to_rgb(data))
        else:
            images.append(_to_rgb(as_image(item, f"data[{i}]")))
        kept.append(groups[i])
    if not images:
        raise ValueError("data holds no readable images")
    return (images, kept) if with_groups else images


def _float(x: np.ndarray) -> np.ndarray:
    return x.astype(np.float32) / 255.0 if x.dtype == np.uint8 else x


def downscale_kernel(downscale: str) -> tuple[str, bool]:
    """``(method, antialias)`` of :func:`~inr.interpolation.resize_weights` for a ``downscale``.

    ``"bicubic"`` is antialiased bicubic (:func:`inr.resize`'s default);
    ``"bilinear"`` is bilinear without antialiasing, TensorFlow's default
    resize, which FranNet's CelebA protocol used (:mod:`inr.restorator.frannet`).
    """
    if downscale not in DOWNSCALES:
        raise ValueError(f"downscale must be one of {DOWNSCALES}; got {downscale!r}")
    return downscale, downscale == "bicubic"


def _resize(image: np.ndarray, height: int, width: int, downscale: str = "bicubic") -> np.ndarray:
    """A resize on the host (``"bicubic"`` matches :func:`inr.resize`)."""
    method, antialias = downscale_kernel(downscale)
    wy = resize_weights(image.shape[0], height, antialias, method).astype(np.float32)
    wx = resize_weights(image.shape[1], width, antialias, method).astype(np.float32)
    rows = np.tensordot(wy, image, axes=(1, 0))  # (height, w, c)
    return np.clip(np.matmul(wx, rows), 0.0, 1.0)


# -- examples and batches -----------------------------------------------------


def _crop(image, rng, height, width, centre=False):
    if centre:
        top, left = (image.shape[0] - height) // 2, (image.shape[1] - width) // 2
    else:
        top = int(rng.integers(0, image.shape[0] - height + 1))
        left = int(rng.integers(0, image.shape[1] - width + 1))
    crop = _float(image[top : top + height, left : left + width])
    return crop[:, ::-1] if rng.random() < 0.5 else crop


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


def _query(rng, count, query, width, height):
    """``(count, 2)`` query points on a ``width x height`` target."""
    if query == "uniform":
        return rng.uniform(-1.0, 1.0, (count, 2)).astype(np.float32)
    if query == "patch":
        side = math.isqrt(count)
        top = int(rng.integers(0, max(height - side, 0) + 1))
        left = int(rng.integers(0, max(width - side, 0) + 1))
        return patch_points(top, left, side, width, height)
    cols, rows = rng.integers(0, width, count), rng.integers(0, height, count)
    return np.stack([pixel_centre(cols, width), pixel_centre(rows, height)], -1).astype(np.float32)


def _example(image, rng, task, size, points, max_scale, crop, downscale, query):
    h, w = image.shape[:2]
    centre = crop == "centre"
    if centre:
        target = _crop(image, rng, min(h, w), min(h, w), centre)
        small = _resize(target, size, size, downscale)
        if task == "colorize":
            target = small
        inputs = small if task == "upscale" else rgb_to_gray(small)[..., None]
    elif task == "restore":
        ch = int(rng.integers(min(h, max(size, int(0.4 * h))), h + 1))
        cw = int(rng.integers(min(w, max(size, int(0.4 * w))), w + 1))
        target = _crop(image, rng, ch, cw)
        inputs = rgb_to_gray(_resize(target, size, size, downscale))[..., None]
    elif task == "colorize":
        side = int(rng.integers(min(size, h, w), min(h, w) + 1))
        target = _resize(_crop(image, rng, side, side), size, size, downscale)
        inputs = rgb_to_gray(target)[..., None]
    else:
        side = min(int(round(size * rng.uniform(1.0, max_scale))), h, w)
        target = _crop(image, rng, side, side)
        inputs = _resize(target, size, size, downscale)
    at = _query(rng, points, query, target.shape[1], target.shape[0])
    cell = np.array([size / target.shape[1], size / target.shape[0]], np.float32)
    return inputs, at, sample_bilinear(target, at), cell


def make_batch(
    images: list[np.ndarray],
    step: int,
    *,
    task: str,
    input_size: int,
    batch_size: int,
    points_per_image: int,
    seed: int = 0,
    masking=None,
    max_scale: float = 4.0,
    crop: str = "random",
    downscale: str = "bicubic",
    query: str = "uniform",
    process: int = 0,
) -> dict[str, np.ndarray]:
    """The batch of training step ``step`` (a function of ``seed`` and ``step`` only).

    ``crop``, ``downscale`` and ``query`` are :class:`~inr.restorator.options.TrainConfig`'s.

    On several hosts each builds its own ``batch_size`` rows from its own
    ``images`` and its own stream, ``process`` (its index); process 0 draws
    the stream of a single-host run.
    """
    masking = as_masking(masking)
    rng = np.random.default_rng([seed, step, process] if process else [seed, step])
    parts = []
    for _ in range(batch_size):
        image = images[int(rng.integers(len(images)))]
        inputs, points, target, cell = _example(
            image, rng, task, input_size, points_per_image, max_scale, crop, downscale, query
        )
        if masking is not None:
            inputs = mask_cells(inputs, rng, masking)
        parts.append((inputs, points, target, cell))
    keys = ("inputs", "points", "targets", "cell")
    return {k: np.stack([p[i] for p in parts]).astype(np.float32) for i, k in enumerate(keys)}


class Prefetcher:
    """Computes ``make(step)`` for ``step`` in ``[start, stop)`` on a background thread.

    Iterate to get ``(step, batch)`` in order; at most ``depth`` batches wait
    in memory.  ``close()`` (or leaving a ``with`` block) stops the thread.
    An exception in ``make`` is re-raised in the consumer.
    """

    def __init__(self, make: Callable[[int], dict], start: int, stop: int, depth: int = 2):
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(make, start, stop), daemon=True)
        self._thread.start()

    def _put(self, item) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _run(self, make, start, stop):
        try:
            for step in range(start, stop):
                if not self._put((step, make(step))):
                    return
        except BaseException as exc:  # handed to the consumer
            self._put(exc)
            return
        self._put(None)

    def __iter__(self) -> Iterator[tuple[int, dict]]:
        while True:
            item = self._queue.get()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            yield item

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

"""Training images for restorators: folders, files and arrays as RGB images with groups.

Pure NumPy and imageio on the host.  A source is a folder (searched
recursively), a list of folders, files and arrays, or one array; files are
decoded on a few threads and kept as uint8.  A file named
``<group>_<name>.jpg`` belongs to ``<group>`` (CelebA's
``<identity>_<file>`` layout), from which a reference restorator draws its
references.  What an example cut from these images is lives in
:mod:`inr.restorator.examples`.
"""

from __future__ import annotations

import concurrent.futures
import os
import warnings
from pathlib import Path

import imageio.v3 as iio
import numpy as np

from inr._validate import as_image

__all__ = ["IMAGE_SUFFIXES", "expand_sources", "group_names", "load_images"]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


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

"""Geometric self-ensembles: average a restorator's outputs over flips and transposes.

A model trained on flipped (and, for general photos, rotated) examples has
no preferred orientation, yet its outputs for an image and for the image's
mirror differ by the model's own error.  Restoring every transformed copy,
undoing the transform and averaging cancels part of that error: by
convexity of the squared error, the mean's MSE is at most the mean of the
members' MSEs (Timofte, Rothe & Van Gool, CVPR 2016, "Seven ways to improve
example-based single image super resolution"; EDSR+ in Lim et al., CVPRW
2017).  Each member costs one full render.

* ``"flip"``: the image and its left-right mirror (2 renders).  The only
  safe choice for aligned faces, which are never upside down.
* ``"dihedral"``: the 8 symmetries of the square, every combination of a
  transpose, a left-right and an up-down flip (8 renders), for general
  photos.

A member is ``(transpose, flip_x, flip_y)``, applied in that order; its
inverse undoes them in the opposite order.  Regions and sizes move with the
image, so the members' pixel grids coincide after undoing: pixel ``j`` of a
mirrored render of the mirrored region is pixel ``W - 1 - j`` of the plain
one.
"""

from __future__ import annotations

import itertools

import numpy as np

__all__ = ["ENSEMBLES", "members", "transform", "transform_region", "transform_size", "untransform"]

ENSEMBLES = ("flip", "dihedral")

Member = tuple[bool, bool, bool]


def members(ensemble: str) -> tuple[Member, ...]:
    """The ``(transpose, flip_x, flip_y)`` members of ``"flip"`` or ``"dihedral"``."""
    if ensemble == "flip":
        return ((False, False, False), (False, True, False))
    if ensemble == "dihedral":
        return tuple(itertools.product((False, True), repeat=3))
    raise ValueError(f"ensemble must be None, 'flip' or 'dihedral'; got {ensemble!r}")


def transform(image: np.ndarray, member: Member) -> np.ndarray:
    """``image (h, w, ...)`` under ``member``: transposed, then mirrored."""
    transpose, flip_x, flip_y = member
    if transpose:
        image = np.swapaxes(image, 0, 1)
    if flip_x:
        image = image[:, ::-1]
    if flip_y:
        image = image[::-1]
    return image


def untransform(image: np.ndarray, member: Member) -> np.ndarray:
    """The inverse of :func:`transform`."""
    transpose, flip_x, flip_y = member
    if flip_y:
        image = image[::-1]
    if flip_x:
        image = image[:, ::-1]
    if transpose:
        image = np.swapaxes(image, 0, 1)
    return image


def transform_region(region: tuple[float, float, float, float], member: Member):
    """``(x0, y0, x1, y1)`` fractions of an image, as fractions of its transform."""
    x0, y0, x1, y1 = region
    transpose, flip_x, flip_y = member
    if transpose:
        x0, y0, x1, y1 = y0, x0, y1, x1
    if flip_x:
        x0, x1 = 1.0 - x1, 1.0 - x0
    if flip_y:
        y0, y1 = 1.0 - y1, 1.0 - y0
    return (x0, y0, x1, y1)


def transform_size(size: tuple[int, int], member: Member) -> tuple[int, int]:
    """An output ``(height, width)`` under ``member``."""
    return (size[1], size[0]) if member[0] else tuple(size)

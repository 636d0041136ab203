"""Scanner geometries: the rays along which a CT scanner integrates attenuation.

Convention, stated once (scikit-image's ``radon``, so the classical peers
read the same sinograms).  A slice is ``N x N`` pixels spanning the field's
[-1, 1]^2 (:mod:`inr.coords`: ``x`` along the columns, ``y`` down the
rows); a volume is ``N_z x N x N`` (``z`` along its first axis).  Lengths
are in pixels of that grid.  The rotation axis passes through pixel
``(N // 2, N // 2)`` (the centre for odd ``N``, half a pixel right and
down of it for even ``N``).  At angle ``theta`` (degrees) the rays travel
along ``e_v = (sin theta, cos theta)``, and detectors lie along
``e_u = (cos theta, -sin theta)``:

* :class:`ParallelBeam`: ray ``i`` passes ``(i - D // 2) * spacing``
  pixels from the axis along ``e_u``;
* :class:`FanBeam`: every ray leaves a source ``source`` pixels before the
  axis (at ``-source e_v``) for detector ``i`` of a flat array ``detector``
  pixels beyond it, ``(i - (D - 1) / 2) * spacing`` along ``e_u``;
* :class:`ConeBeam`: the same in 3-D, the source circling the volume's
  ``z`` axis, a flat detector of ``rows x cols`` elements.

A sinogram is ``(views, detectors)`` (``(views, rows, cols)`` for a cone);
entry ``(k, i)`` is the line integral, in pixels, along ray ``i`` of view
``k``.
"""

from __future__ import annotations

from typing import Annotated

import flax.struct
import jax.numpy as jnp
import numpy as np

from inr._validate import as_number, as_positive_int
from inr.objective import option

__all__ = ["ConeBeam", "FanBeam", "ParallelBeam"]


def _angles(angles) -> jnp.ndarray:
    a = np.asarray(angles, np.float64)
    if a.ndim != 1 or a.size == 0 or not np.isfinite(a).all():
        raise ValueError(f"angles must be a non-empty 1-D array of degrees; got shape {a.shape}")
    return jnp.asarray(np.radians(a), jnp.float32)


class _Beam(flax.struct.PyTreeNode):
    """What every geometry shares: the angles and the grid's size in pixels."""

    angles: Annotated[jnp.ndarray, "V"]  # radians
    size: int = option(256)
    spacing: float = option(1.0)

    def _frame(self):
        """``(axis (2,), e_u (V, 2), e_v (V, 2))`` in pixel units of the field's (x, y)."""
        c, s = jnp.cos(self.angles), jnp.sin(self.angles)
        axis = jnp.full(2, float(self.size // 2) + 0.5)
        return axis, jnp.stack([c, -s], -1), jnp.stack([s, c], -1)

    def to_field(self, pixels):
        """Pixel positions (``x`` along columns, ``y`` down rows, from the corner) to [-1, 1]."""
        return pixels * (2.0 / self.size) - 1.0

    @property
    def views(self) -> int:
        return self.angles.shape[0]


class ParallelBeam(_Beam):
    """Parallel rays, ``detectors`` per view, ``spacing`` pixels apart (the module's convention)."""

    detectors: int = option(256)
    dims = 2

    @classmethod
    def create(cls, angles, size: int, detectors: int | None = None, spacing: float = 1.0):
        """``angles`` in degrees; ``size`` the slice's side in pixels; ``detectors``: ``size``."""
        size = as_positive_int(size, "size")
        detectors = size if detectors is None else as_positive_int(detectors, "detectors")
        spacing = as_number(spacing, "spacing", 0.0, low_open=True)
        return cls(_angles(angles), size, spacing, detectors)

    @property
    def shape(self) -> tuple[int, ...]:
        return (self.views, self.detectors)

    def rays(self):
        """``(origins, unit directions, pixels per unit)``: ``(views, detectors, 2)`` each in
        field coordinates, and the pixels a unit of field length along each ray spans."""
        axis, e_u, e_v = self._frame()
        u = (jnp.arange(self.detectors) - self.detectors // 2) * self.spacing
        start = axis + u[None, :, None] * e_u[:, None] - 2.0 * self.size * e_v[:, None]
        return self.to_field(start), jnp.broadcast_to(e_v[:, None], start.shape), self.size / 2


def _outside(source, size: int) -> float:
    """The source's distance from the axis, checked to lie outside the scanned square."""
    source = as_number(source, "source", 0.0, low_open=True)
    if source <= size / np.sqrt(2):
        raise ValueError(f"source ({source}) must lie outside the object (> {size / 2**0.5:.0f})")
    return source


class FanBeam(_Beam):
    """A point source and a flat detector array on either side of the axis (the module's)."""

    detectors: int = option(256)
    source: float = option(1000.0)
    detector: float = option(500.0)
    dims = 2

    @classmethod
    def create(cls, angles, size: int, source: float, detector: float, detectors=None,
               spacing: float = 1.0):  # fmt: skip
        """``source``/``detector``: their distances from the axis, in pixels."""
        size = as_positive_int(size, "size")
        detectors = size if detectors is None else as_positive_int(detectors, "detectors")
        return cls(_angles(angles), size, as_number(spacing, "spacing", 0.0, low_open=True),
                   detectors, _outside(source, size),
                   as_number(detector, "detector", 0.0))  # fmt: skip

    @property
    def shape(self) -> tuple[int, ...]:
        return (self.views, self.detectors)

    def rays(self):
        axis, e_u, e_v = self._frame()
        u = (jnp.arange(self.detectors) - (self.detectors - 1) / 2) * self.spacing
        source = axis - self.source * e_v
        cells = axis + self.detector * e_v[:, None] + u[None, :, None] * e_u[:, None]
        d = cells - source[:, None]
        d = d / jnp.linalg.norm(d, axis=-1, keepdims=True)
        return self.to_field(jnp.broadcast_to(source[:, None], d.shape)), d, self.size / 2


class ConeBeam(_Beam):
    """A point source circling the volume's ``z`` axis and a flat ``rows x cols`` detector."""

    rows: int = option(64)
    cols: int = option(64)
    depth: int = option(64)
    source: float = option(1000.0)
    detector: float = option(500.0)
    dims = 3

    @classmethod
    def create(cls, angles, size: int, depth: int, source: float, detector: float,
               rows=None, cols=None, spacing: float = 1.0):  # fmt: skip
        """A volume of ``depth x size x size`` voxels; ``rows x cols`` detector elements."""
        size, depth = as_positive_int(size, "size"), as_positive_int(depth, "depth")
        rows = depth if rows is None else as_positive_int(rows, "rows")
        cols = size if cols is None else as_positive_int(cols, "cols")
        return cls(_angles(angles), size, as_number(spacing, "spacing", 0.0, low_open=True),
                   rows, cols, depth, _outside(source, size),
                   as_number(detector, "detector", 0.0))  # fmt: skip

    @property
    def shape(self) -> tuple[int, ...]:
        return (self.views, self.rows, self.cols)

    def rays(self):
        """``(origins, unit directions, pixels per unit)``, ``(views, rows, cols, 3 | 1)``."""
        axis, e_u, e_v = self._frame()
        lift = lambda v: jnp.concatenate([v, jnp.zeros_like(v[..., :1])], -1)  # noqa: E731
        centre = jnp.append(axis, self.depth / 2.0)
        u = (jnp.arange(self.cols) - (self.cols - 1) / 2) * self.spacing
        w = (jnp.arange(self.rows) - (self.rows - 1) / 2) * self.spacing
        source = centre - self.source * lift(e_v)
        cells = (centre + self.detector * lift(e_v)[:, None, None]
                 + u[None, None, :, None] * lift(e_u)[:, None, None]
                 + w[None, :, None, None] * jnp.array([0.0, 0.0, 1.0]))  # fmt: skip
        d = cells - source[:, None, None]
        scale = jnp.array([2.0 / self.size] * 2 + [2.0 / self.depth])  # voxels to field units
        field = d * scale
        length = jnp.linalg.norm(field, axis=-1, keepdims=True)
        per_unit = jnp.linalg.norm(d, axis=-1, keepdims=True) / length
        origins = jnp.broadcast_to(source[:, None, None], d.shape) * scale - 1.0
        return origins, field / length, per_unit

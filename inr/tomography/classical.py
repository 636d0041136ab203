"""The classical reconstructions a fit is compared with: FBP and SART (scikit-image).

Filtered back-projection (``skimage.transform.iradon``, the ramp filter by
default) and the simultaneous algebraic reconstruction technique
(``iradon_sart``, Andersen and Kak 1984, several sweeps, values clipped to
be non-negative) of a parallel-beam sinogram in this package's convention,
which is scikit-image's (:mod:`inr.tomography.geometry`): a detector per
pixel across the slice (what ``radon(circle=True)`` measures of a slice
that is empty outside its inscribed circle) or across its diagonal
(``radon(circle=False)``, any slice).  Both need the ``tomography`` extra.
"""

from __future__ import annotations

import numpy as np

from inr._extras import require
from inr._validate import as_positive_int
from inr.tomography.geometry import ParallelBeam

__all__ = ["diagonal", "fbp", "sart"]


def diagonal(size: int) -> int:
    """Detectors that see a whole square slice (its diagonal), as scikit-image pads it."""
    return int(np.ceil(np.sqrt(2) * size))


def _checked(sinogram, geometry) -> np.ndarray:
    if not isinstance(geometry, ParallelBeam):
        raise ValueError(f"geometry must be a ParallelBeam for FBP and SART; got {geometry!r}")
    if geometry.detectors not in (geometry.size, diagonal(geometry.size)) or geometry.spacing != 1:
        raise ValueError(
            "geometry must have a detector per pixel across the slice or its diagonal "
            f"(detectors {geometry.size} or {diagonal(geometry.size)}, spacing 1)"
        )
    p = np.asarray(sinogram, np.float64)
    if p.shape != geometry.shape or not np.isfinite(p).all():
        raise ValueError(f"sinogram must be finite and shaped {geometry.shape}; got {p.shape}")
    return p.T  # scikit-image's (detectors, views)


def fbp(sinogram, geometry: ParallelBeam, filter_name: str = "ramp") -> np.ndarray:
    """Filtered back-projection: the ``(N, N)`` slice, float32."""
    transform = require("skimage.transform", "tomography")
    theta = np.degrees(np.asarray(geometry.angles, np.float64))
    circle = geometry.detectors == geometry.size  # else the whole square: scikit-image pads it
    out = transform.iradon(_checked(sinogram, geometry), theta, output_size=geometry.size,
                           filter_name=filter_name, circle=circle)  # fmt: skip
    return out.astype(np.float32)


def sart(sinogram, geometry: ParallelBeam, sweeps: int = 5) -> np.ndarray:
    """``sweeps`` of SART from zero, clipped to non-negative values: the ``(N, N)`` slice."""
    transform = require("skimage.transform", "tomography")
    p = _checked(sinogram, geometry)
    theta = np.degrees(np.asarray(geometry.angles, np.float64))
    image = None
    for _ in range(as_positive_int(sweeps, "sweeps")):
        image = transform.iradon_sart(p, theta, image=image, clip=(0.0, np.inf))
    start = (image.shape[0] - geometry.size) // 2  # a diagonal's padding, as radon pads
    return image[start : start + geometry.size, start : start + geometry.size].astype(np.float32)

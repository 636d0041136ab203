"""Tomography: a field seen through a CT scanner's line integrals.

Geometries (:mod:`inr.tomography.geometry`: parallel and fan beams of a
slice, cone beams of a volume), their projector (:func:`project`, the ray
sampler of :mod:`inr.volume`), fits of a field to a sinogram
(:func:`fit_sinogram`, with an optional total-variation prior) and the
classical peers, filtered back-projection and SART (:func:`fbp`,
:func:`sart`; scikit-image, the ``tomography`` extra).  Guide:
``docs/tomography.md``.
"""

from inr.tomography.classical import diagonal, fbp, sart
from inr.tomography.geometry import ConeBeam, FanBeam, ParallelBeam
from inr.tomography.objective import SinogramObjective, fit_sinogram
from inr.tomography.project import grid_shape, line_integrals, project, sample_grid

__all__ = [
    "ConeBeam",
    "FanBeam",
    "ParallelBeam",
    "SinogramObjective",
    "diagonal",
    "fbp",
    "fit_sinogram",
    "grid_shape",
    "line_integrals",
    "project",
    "sample_grid",
    "sart",
]

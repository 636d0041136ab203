"""What a radiance field's rays are: where along them it is evaluated, its occupancy grid,
and the posed images it is fitted to.

Options of :class:`~inr.nerf.RadianceObjective` (and of the
:class:`~inr.nerf.RadianceField` it returns), and the check of its
images against their cameras, shared by fitting and scoring.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from inr._validate import as_number, as_positive_int
from inr.cameras import Camera

__all__ = ["Occupancy", "Sampling", "as_views"]


@dataclasses.dataclass(frozen=True)
class Sampling:
    """Where along a ray the field is evaluated.

    Attributes:
      near: the nearest distance from the camera (NeRF synthetic: 2).
      far: the farthest (6).
      samples: stratified intervals per ray inside the scene box.
      budget: samples evaluated per ray on average: a step evaluates at most
        ``rays * budget`` (the occupied ones, compacted).
      box: the scene's half-width: the box ``[-box, box]^3`` (1.5 for the
        NeRF synthetic scenes) maps to the field's [-1, 1]^3.
    """

    near: float = 2.0
    far: float = 6.0
    samples: int = 128
    budget: int = 32
    box: float = 1.5

    def __post_init__(self):
        as_number(self.near, "Sampling.near", 0.0)
        far = as_number(self.far, "Sampling.far", 0.0)
        if not self.near < far:
            raise ValueError(f"Sampling.near must be below far; got {self.near} >= {far}")
        as_positive_int(self.samples, "Sampling.samples")
        as_positive_int(self.budget, "Sampling.budget")
        as_number(self.box, "Sampling.box", 0.0, low_open=True)


@dataclasses.dataclass(frozen=True)
class Occupancy:
    """The occupancy grid's settings (instant-ngp's, at a coarser resolution for CPUs).

    Attributes:
      resolution: cells per side of the box.
      every: training steps between updates (0: no grid, every sample kept).
      decay: a cell's density decays by this much per update.
      threshold: the opacity a sample of the finest spacing (the box's
        diagonal over ``Sampling.samples``) must reach for its cell to be
        occupied: a density threshold of ``-log(1 - threshold) / spacing``.
    """

    resolution: int = 64
    every: int = 16
    decay: float = 0.8
    threshold: float = 0.01

    def __post_init__(self):
        as_positive_int(self.resolution, "Occupancy.resolution")
        if isinstance(self.every, bool) or not isinstance(self.every, int) or self.every < 0:
            raise ValueError(f"Occupancy.every must be an integer >= 0; got {self.every!r}")
        as_number(self.decay, "Occupancy.decay", 0.0, 1.0)
        as_number(self.threshold, "Occupancy.threshold", 0.0)


def as_views(images, cameras) -> np.ndarray:
    """Checked images ``(N, H, W, 3 | 4)`` that agree with ``cameras``."""
    if not isinstance(cameras, Camera) or cameras.pose.ndim != 3:
        raise ValueError(f"cameras must be a stack of inr.Camera (Camera.stack); got {cameras!r}")
    x = np.asarray(images)
    if x.ndim != 4 or x.shape[-1] not in (3, 4) or 0 in x.shape:
        raise ValueError(f"images must be shaped (N, H, W, 3 or 4); got shape {x.shape}")
    if x.dtype != np.uint8:
        if x.dtype.kind != "f" or not np.isfinite(x).all() or x.min() < 0 or x.max() > 1:
            raise ValueError("images must be uint8, or floats in [0, 1] with no NaN")
        x = x.astype(np.float32)
    if len(cameras) != x.shape[0] or cameras.size != x.shape[1:3]:
        raise ValueError(
            f"cameras ({len(cameras)} of size {cameras.size}) must match the images "
            f"({x.shape[0]} of size {x.shape[1:3]})"
        )
    return x

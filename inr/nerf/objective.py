"""Posed photographs as an objective: random rays, rendered through the field, against pixels.

Each step draws ``rays`` pixels uniformly from every training image
(``inr.step_key``), casts their rays (:mod:`inr.cameras`), cuts each ray's
stretch inside the scene box into ``samples`` stratified intervals
(:func:`~inr.volume.stratified`), keeps those in occupied cells of the
occupancy grid (:mod:`inr.nerf.occupancy`), evaluates the field at most at
``rays * budget`` of them (compacted to a fixed size, so shapes stay static
under ``jit``: rays whose samples do not fit are left out of that step's
loss), composites (:func:`~inr.volume.composite`) and scores the
colour against the pixel's: MSE and PSNR, with the samples a ray evaluated
and the share of rays that fitted.

Images are kept on the device as they came (uint8 RGBA or RGB).  An RGBA
pixel is composited on the background before it is compared: white (the
NeRF synthetic protocol), or a random colour per ray (``background=None``,
instant-ngp's choice, which teaches the field that transparent is empty).
The grid is the objective's state: every ``Occupancy.every`` steps the
fit's loop refreshes it from the field's density.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated

import flax.struct
import jax
import jax.numpy as jnp
import numpy as np

from inr._validate import as_number, as_positive_int
from inr.cameras import Camera, pixel_rays
from inr.nerf.field import NGPField
from inr.nerf.march import candidates, composite_kept, evaluate_budget
from inr.nerf.occupancy import OccupancyGrid
from inr.objective import Objective, streams
from inr.objectives import psnr_from_mse

__all__ = ["Occupancy", "RadianceObjective", "Sampling"]


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


def _static(**kw):
    return flax.struct.field(pytree_node=False, **kw)


class RadianceObjective(Objective):
    """Posed images of a scene (the module docstring); build it with :meth:`create`.

    Attributes:
      images: ``(N, H, W, C)`` as given (uint8 RGBA or RGB, or floats in [0, 1]).
      cameras: the ``N`` cameras, one stack.
      grid: the occupancy grid (the objective's state).
      rays: rays per step (static).
      sampling: a :class:`Sampling` (static).
      occupancy: an :class:`Occupancy` (static).
      background: ``(3,)`` RGBA images' background, or ``None`` for a random one per ray.
    """

    images: Annotated[jax.Array, "N H W C"]
    cameras: Camera
    grid: OccupancyGrid
    rays: int = _static(default=4096)
    sampling: Sampling = _static(default=Sampling())
    occupancy: Occupancy = _static(default=Occupancy())
    background: tuple | None = _static(default=(1.0, 1.0, 1.0))

    dims = 3
    channels = 3
    state = ("grid",)

    @property
    def points(self) -> int:
        return self.rays

    def init(self, model, key):
        x = jnp.zeros((1, 3), jnp.float32)
        return model.init(key, x, x + jnp.array([0.0, 0.0, 1.0]))

    def check_model(self, model) -> None:
        x = jax.ShapeDtypeStruct((2, 3), jnp.float32)
        try:
            sigma, rgb = jax.eval_shape(
                lambda a, b: model.apply(model.init(jax.random.PRNGKey(0), a, b), a, b), x, x
            )
        except Exception as exc:
            raise ValueError(f"model must map points and directions (n, 3) to (densities, "
                             f"colours): {exc}") from exc  # fmt: skip
        if sigma.shape != (2,) or rgb.shape != (2, 3) or not hasattr(model, "density"):
            raise ValueError("model must give densities (n,) and colours (n, 3), and have a "
                             "density(x) method, as inr.nerf.NGPField does")  # fmt: skip

    def default_model(self):
        return NGPField()

    @classmethod
    def create(cls, images, cameras: Camera, *, rays: int = 4096, sampling: Sampling | None = None,
               occupancy: Occupancy | None = None, background=(1.0, 1.0, 1.0)):  # fmt: skip
        """From images ``(N, H, W, 3 | 4)`` (uint8, or floats in [0, 1]) and their cameras.

        ``background``: RGB in [0, 1] behind RGBA images, or ``None`` for a
        random one per ray.  The images and cameras must agree in number
        and size.
        """
        sampling = Sampling() if sampling is None else sampling
        occupancy = Occupancy() if occupancy is None else occupancy
        x = as_views(images, cameras)
        if background is not None:
            bg = np.asarray(background, np.float64)
            if bg.shape != (3,) or not np.all((bg >= 0) & (bg <= 1)):
                raise ValueError(f"background must be None or RGB in [0, 1]; got {background!r}")
            background = tuple(map(float, bg))
        grid = OccupancyGrid.create((-sampling.box,) * 3, (sampling.box,) * 3, occupancy.resolution)
        return cls(jnp.asarray(x), cameras, grid, as_positive_int(rays, "rays"), sampling,
                   occupancy, background)  # fmt: skip

    def draw(self, key, step):
        """``rays`` random pixels: their rays, colours, backgrounds and a stratification key."""
        pick, colour, jitter, _ = streams(key, step, 4)  # the last: the grid's updates
        n, h, w, _ = self.images.shape
        flat = jax.random.randint(pick, (self.rays,), 0, n * h * w)
        view, rows, cols = flat // (h * w), flat // w % h, flat % w
        origins, directions = pixel_rays(self.cameras, view, rows, cols)
        pixel = _unit(self.images[view, rows, cols])
        if self.background is None:
            bg = jax.random.uniform(colour, (self.rays, 3))
        else:
            bg = jnp.broadcast_to(jnp.asarray(self.background), (self.rays, 3))
        return origins, directions, _over(pixel, bg), bg, jitter

    def loss(self, model, params, batch):
        """MSE of the rays that fitted the budget; PSNR, samples per ray, share of rays."""
        origins, directions, target, bg, key = batch
        starts, ends, mids, kept = candidates(origins, directions, self.sampling, key)
        kept = kept & self.grid.lookup(mids)
        budget = self.rays * self.sampling.budget
        sigma, rgb, fits = evaluate_budget(model, params, mids, directions, kept, budget,
                                           self.sampling.box)  # fmt: skip
        out = composite_kept(sigma, rgb, starts, ends, kept, bg)
        rays = jnp.maximum(jnp.sum(fits), 1)
        mse = jnp.sum(jnp.where(fits, jnp.mean((out.rgb - target) ** 2, axis=-1), 0.0)) / rays
        samples = jnp.sum(kept & fits[:, None]) / rays
        return mse, {"loss": mse, "psnr": psnr_from_mse(4.0 * mse), "samples": samples,
                     "rays": jnp.mean(fits)}  # fmt: skip

    def update(self, model, params, key, step):
        """Every ``occupancy.every`` steps, the grid refreshed from the field's density."""
        if not self.occupancy.every:
            return self
        key = streams(key, step, 4)[3]  # the draw's streams are the first three

        def refresh(grid):
            density = lambda x: model.apply(params, x / self.sampling.box, method="density")  # noqa: E731
            o, s = self.occupancy, self.sampling
            spacing = 2.0 * 3**0.5 * s.box / s.samples
            return grid.update(density, key, o.decay, -np.log1p(-o.threshold) / spacing)

        due = step % self.occupancy.every == 0
        return self.replace(grid=jax.lax.cond(due, refresh, lambda g: g, self.grid))


def _unit(pixels):
    """uint8 or float pixels as floats in [0, 1]."""
    if jnp.issubdtype(pixels.dtype, jnp.integer):
        return pixels.astype(jnp.float32) / 255.0
    return pixels.astype(jnp.float32)


def _over(pixels, background):
    """RGB(A) pixels composited on ``background`` (RGB as it is)."""
    if pixels.shape[-1] == 3:
        return pixels
    alpha = pixels[..., 3:]
    return pixels[..., :3] * alpha + background * (1.0 - alpha)


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

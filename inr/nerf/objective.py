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
pixel is composited on the background before it is compared: a random
colour per ray (``background=None``, the default: instant-ngp's choice,
which teaches the field that transparent is empty), or a given one (white
is the NeRF synthetic protocol's for scoring).  The grid is the
objective's state: every ``Occupancy.every`` steps the fit's loop
refreshes it from the field's density.

The objective owns its recipe (:meth:`RadianceObjective.default_model`,
``default_optimizer``, ``default_steps``): instant-ngp's field at a CPU's
size (12 levels of 2^17 rows), 2048 rays a step, instant-ngp's Adam over
1000 steps; on the NeRF synthetic lego at 100x100 about 31 dB on the
held-out views in under 3 minutes of a 2-core CPU (``benchmarks/nerf.py``).
"""

from __future__ import annotations

from typing import Annotated

import jax
import jax.numpy as jnp
import numpy as np

from inr._validate import as_positive_int
from inr.cameras import Camera, pixel_rays
from inr.fitting import fit, ngp_adam
from inr.nerf.field import NGPField
from inr.nerf.march import candidates, composite_kept, evaluate_budget
from inr.nerf.occupancy import OccupancyGrid
from inr.nerf.options import Occupancy, Sampling, as_views
from inr.nerf.radiance import RadianceField
from inr.nn.hashgrid import HashGrid
from inr.objective import Objective, option, streams
from inr.objectives import psnr_from_mse

__all__ = ["RadianceObjective", "fit_radiance_field"]


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
    rays: int = option(2048)
    sampling: Sampling = option(Sampling())
    occupancy: Occupancy = option(Occupancy())
    background: tuple | None = option(None)

    dims = 3
    channels = 3
    state = ("grid",)
    default_steps = 1000

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
        """instant-ngp's field with a CPU-sized grid: 12 levels, 2^17 rows, 1.45 times finer."""
        grid = HashGrid(levels=12, features=2, log2_table_size=17, base_resolution=16,
                        growth=1.45)  # fmt: skip
        return NGPField(grid=grid)

    def default_optimizer(self, steps: int):
        """instant-ngp's Adam over ``steps`` (:func:`inr.ngp_adam`)."""
        return ngp_adam(steps)

    def result(self, fitted):
        return RadianceField.of_fit(fitted, self.sampling)

    def split(self, batch):
        """Every row of a step's rays is a point; the stratification key is not."""
        return (True, True, True, True, False)

    @classmethod
    def create(cls, images, cameras: Camera, *, rays: int | None = None,
               sampling: Sampling | None = None, occupancy: Occupancy | None = None,
               background=None):  # fmt: skip
        """From images ``(N, H, W, 3 | 4)`` (uint8, or floats in [0, 1]) and their cameras.

        ``rays`` per step (default 2048); ``sampling`` and ``occupancy`` as
        :class:`Sampling` and :class:`Occupancy` (default theirs);
        ``background``: RGB in [0, 1] behind RGBA images, or ``None`` (the
        default) for a random one per ray.  The images and cameras must agree
        in number and size.
        """
        rays = cls.rays if rays is None else rays
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
        pick, colour, jitter = streams(key, step, "pixels", "background", "jitter")
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
        (key,) = streams(key, step, "occupancy")

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


def fit_radiance_field(images, cameras: Camera, *, rays: int | None = None,
                       sampling: Sampling | None = None, occupancy: Occupancy | None = None,
                       background=None, **options) -> RadianceField:  # fmt: skip
    """Fit a radiance field to posed images: :func:`inr.fit` of a
    :class:`~inr.nerf.objective.RadianceObjective`, which owns the recipe.

    Args:
      images: ``(N, H, W, 3 | 4)`` uint8 (or floats in [0, 1]), as
        :func:`inr.nerf.load_blender` gives them.
      cameras: their ``N`` cameras, one stack (:class:`inr.Camera`).
      rays: rays per step (default 2048).
      sampling: where along the rays (:class:`~inr.nerf.Sampling`; NeRF
        synthetic's bounds by default).
      occupancy: the occupancy grid's settings (:class:`~inr.nerf.Occupancy`).
      background: RGB behind RGBA images, or ``None`` (the default) for a
        random colour per ray (instant-ngp's training choice).
      **options: :func:`inr.fit`'s keywords (``model``: default a 12-level
        :class:`~inr.nerf.NGPField`; ``optimizer``: default
        :func:`inr.ngp_adam` over ``steps``; ``steps``: default 1000;
        ``seed``, ``progress``, ``mesh``, ``checkpoints``, ``init``).
    """
    objective = RadianceObjective.create(images, cameras, rays=rays, sampling=sampling,
                                         occupancy=occupancy, background=background)  # fmt: skip
    return fit(objective, **options)

"""Radiance fields from posed photographs: the fit, and what it renders.

:func:`fit_radiance_field` is :func:`inr.fit` of a
:class:`~inr.nerf.objective.RadianceObjective`; the
:class:`RadianceField` it returns renders any camera in bounded memory
(rays in chunks, each chunk's occupied samples in fixed-size batches) and
scores itself on held-out views (PSNR and SSIM, :mod:`inr.metrics`).
"""

from __future__ import annotations

from functools import partial
from typing import Any, NamedTuple

import flax.linen as nn
import flax.struct
import jax
import jax.numpy as jnp
import numpy as np
import optax

from inr._validate import as_positive_int
from inr.cameras import Camera, rays
from inr.fitting import fit, ngp_adam
from inr.metrics import psnr, ssim
from inr.nerf.march import candidates, composite_kept, evaluate_all
from inr.nerf.objective import Occupancy, RadianceObjective, Sampling, as_views
from inr.nerf.occupancy import OccupancyGrid

__all__ = ["RadianceField", "View", "fit_radiance_field"]


class View(NamedTuple):
    """What :meth:`RadianceField.render` sees, NumPy ``(H, W[, 3])`` float32 arrays."""

    rgb: np.ndarray  # colour in [0, 1] over the background
    depth: np.ndarray  # expected distance along the ray where it ends; 0 where it meets nothing
    opacity: np.ndarray  # 1 - the transmittance through the whole scene


@partial(jax.jit, static_argnums=(0, 1, 2, 3))
def _render(model, sampling, chunk: int, samples: int, params, grid, camera, background):
    """``(rgb, depth, opacity)`` of every pixel of ``camera``, ``chunk`` rays at a time."""
    origins, directions = (x.reshape(-1, 3) for x in rays(camera))
    n = origins.shape[0]
    pad = -n % chunk
    origins, directions = (
        jnp.concatenate([x, x[:1].repeat(pad, 0)]) for x in (origins, directions)
    )

    def one(ray):
        o, d = ray
        starts, ends, mids, kept = candidates(o, d, sampling)
        kept = kept & grid.lookup(mids)
        sigma, rgb = evaluate_all(model, params, mids, d, kept, samples, sampling.box)
        out = composite_kept(sigma, rgb, starts, ends, kept, background)
        return out.rgb, out.depth, out.opacity

    shaped = (origins.reshape(-1, chunk, 3), directions.reshape(-1, chunk, 3))
    rgb, depth, opacity = jax.lax.map(one, shaped)
    h, w = camera.size
    return rgb.reshape(-1, 3)[:n].reshape(h, w, 3), depth.reshape(-1)[:n].reshape(h, w), \
        opacity.reshape(-1)[:n].reshape(h, w)  # fmt: skip


@flax.struct.dataclass
class RadianceField:
    """A fitted radiance field.

    Attributes:
      params: the model's parameters.
      grid: the occupancy grid it ended with.
      history: ``{name: (steps,)}``: loss, PSNR, samples per ray, share of rays.
      model: the Flax module (static).
      sampling: the :class:`~inr.nerf.Sampling` along rays (static).
    """

    params: Any
    grid: OccupancyGrid
    history: dict
    model: nn.Module = flax.struct.field(pytree_node=False)
    sampling: Sampling = flax.struct.field(pytree_node=False)

    def __repr__(self) -> str:
        psnr_last = float(np.asarray(self.history.get("psnr", [np.nan]))[-1])
        steps = len(self.history.get("loss", ()))
        model = type(self.model).__name__
        return f"RadianceField({model}, {steps} steps, train PSNR {psnr_last:.2f} dB)"

    def render(self, camera: Camera, *, background=(1.0, 1.0, 1.0), chunk: int = 4096,
               samples: int = 65536) -> View:  # fmt: skip
        """The view of ``camera``: colour on ``background``, depth and opacity.

        ``chunk`` rays are marched at a time and their occupied samples
        evaluated ``samples`` at a time: memory is bounded by those, not by
        the picture's size.
        """
        if not isinstance(camera, Camera) or camera.pose.ndim != 2:
            raise ValueError(f"camera must be one inr.Camera; got {camera!r}")
        bg = jnp.asarray(background, jnp.float32)
        if bg.shape != (3,):
            raise ValueError(f"background must be RGB; got {background!r}")
        args = (as_positive_int(chunk, "chunk"), as_positive_int(samples, "samples"))
        out = _render(self.model, self.sampling, *args, self.params, self.grid, camera, bg)
        return View(*(np.asarray(x, np.float32) for x in out))

    def evaluate(self, images, cameras: Camera, *, background=(1.0, 1.0, 1.0)) -> dict:
        """PSNR and SSIM of every view of ``cameras`` against ``images`` (composited on
        ``background``): ``{"psnr": mean, "ssim": mean, "views": [(psnr, ssim), ...]}``."""
        truth = as_views(images, cameras)
        truth = truth.astype(np.float32) / (255.0 if truth.dtype == np.uint8 else 1.0)
        if truth.shape[-1] == 4:
            truth = truth[..., :3] * truth[..., 3:] + np.asarray(background) * (1 - truth[..., 3:])
        views = []
        for i in range(len(cameras)):
            rgb = self.render(cameras[i], background=background).rgb
            views.append((psnr(rgb, np.clip(truth[i], 0, 1)), ssim(rgb, np.clip(truth[i], 0, 1))))
        scores = np.asarray(views)
        return {"psnr": float(scores[:, 0].mean()), "ssim": float(scores[:, 1].mean()),
                "views": [tuple(map(float, v)) for v in views]}  # fmt: skip


def fit_radiance_field(
    images,
    cameras: Camera,
    *,
    rays: int = 4096,
    sampling: Sampling | None = None,
    occupancy: Occupancy | None = None,
    background=(1.0, 1.0, 1.0),
    steps: int = 2000,
    optimizer: optax.GradientTransformation | None = None,
    **options,
) -> RadianceField:
    """Fit a radiance field to posed images: :func:`inr.fit` of a
    :class:`~inr.nerf.objective.RadianceObjective`.

    Args:
      images: ``(N, H, W, 3 | 4)`` uint8 (or floats in [0, 1]), as
        :func:`inr.nerf.load_blender` gives them.
      cameras: their ``N`` cameras, one stack (:class:`inr.Camera`).
      rays: rays per step.
      sampling: where along the rays (:class:`~inr.nerf.Sampling`; NeRF
        synthetic's bounds by default).
      occupancy: the occupancy grid's settings (:class:`~inr.nerf.Occupancy`).
      background: RGB behind RGBA images, or ``None`` for a random colour
        per ray (instant-ngp's training choice).
      steps: optimisation steps.
      optimizer: default :func:`inr.ngp_adam` over ``steps``.
      **options: :func:`inr.fit`'s other keywords (``model``: default
        :class:`~inr.nerf.NGPField`; ``seed``, ``progress``, ``mesh``,
        ``checkpoints``).
    """
    objective = RadianceObjective.create(images, cameras, rays=rays, sampling=sampling,
                                         occupancy=occupancy, background=background)  # fmt: skip
    steps = as_positive_int(steps, "steps")
    optimizer = ngp_adam(steps) if optimizer is None else optimizer
    result = fit(objective, steps=steps, optimizer=optimizer, **options)
    return RadianceField(result.params, result.state["grid"], result.history, result.model,
                         objective.sampling)  # fmt: skip

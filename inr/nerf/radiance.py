"""A fitted radiance field and what it renders.

:func:`inr.nerf.fit_radiance_field` (:func:`inr.fit` of a
:class:`~inr.nerf.RadianceObjective`) returns a :class:`RadianceField`, a
:class:`~inr.FitResult` that renders any
camera in bounded memory (rays in blocks, each block's occupied samples
in fixed-size batches; one program for every view size), gives densities
and colours at points, and scores itself on held-out views (PSNR and SSIM,
:mod:`inr.metrics`).
"""

from __future__ import annotations

import dataclasses
import warnings
from functools import partial
from typing import NamedTuple

import flax.struct
import jax.numpy as jnp
import numpy as np

from inr._validate import as_positive_int
from inr.cameras import Camera, pixel_rays
from inr.distributed import as_mesh, local_mesh, replicate
from inr.metrics import psnr, ssim
from inr.nerf.march import candidates, composite_kept, evaluate_all
from inr.nerf.occupancy import OccupancyGrid
from inr.nerf.options import Sampling, as_views
from inr.objective import option
from inr.render import evaluate, evaluate_grid
from inr.result import FitResult

__all__ = ["RadianceField", "View"]


class View(NamedTuple):
    """What :meth:`RadianceField.render` sees, NumPy ``(H, W[, 3])`` float32 arrays."""

    rgb: np.ndarray  # colour in [0, 1] over the background
    depth: np.ndarray  # expected distance along the ray where it ends; 0 where it meets nothing
    opacity: np.ndarray  # 1 - the transmittance through the whole scene


def _view(model, sampling, samples: int, args, pixels):
    """``(rgb, depth, opacity)`` of pixels ``(n, 2)`` ``(col, row)`` of one camera."""
    params, grid, camera, background = args
    origins, directions = pixel_rays(camera, None, pixels[:, 1], pixels[:, 0])
    starts, ends, mids, kept = candidates(origins, directions, sampling)
    kept = kept & grid.lookup(mids)
    sigma, rgb = evaluate_all(model, params, mids, directions, kept, samples, sampling.box)
    out = composite_kept(sigma, rgb, starts, ends, kept, background)
    return out.rgb, out.depth, out.opacity


def _fields(model, box: float, args, x):
    """``(densities, colours)`` at points ``x`` ``(n, 3)`` seen along directions ``(n, 3)``."""
    params, directions = args[0], x[:, 3:]
    return model.apply(params, x[:, :3] / box, directions)


@flax.struct.dataclass
class RadianceField(FitResult):
    """A fitted radiance field: a :class:`~inr.FitResult` that renders cameras.

    Its network maps points and view directions to densities and colours;
    ``state["grid"]`` is the occupancy grid it ended with.

    Attributes:
      sampling: the :class:`~inr.nerf.Sampling` along rays (static).
    """

    sampling: Sampling = option(Sampling())

    @classmethod
    def of_fit(cls, fitted: FitResult, sampling: Sampling) -> RadianceField:
        """The radiance field of a fit of a :class:`~inr.nerf.RadianceObjective`."""
        return cls(**{f.name: getattr(fitted, f.name) for f in dataclasses.fields(fitted)},
                   sampling=sampling)  # fmt: skip

    @property
    def grid(self) -> OccupancyGrid:
        """The occupancy grid the fit ended with."""
        return self.state["grid"]

    def __repr__(self) -> str:
        psnr_last = float(np.asarray(self.history.get("psnr", [np.nan]))[-1])
        steps = len(self.history.get("loss", ()))
        model = type(self.model).__name__
        return f"RadianceField({model}, {steps} steps, train PSNR {psnr_last:.2f} dB)"

    def render(self, camera: Camera, *, background=(1.0, 1.0, 1.0), chunk: int = 4096,
               sample_chunk: int = 65536, mesh=None, **old) -> View:  # fmt: skip
        """The view of ``camera``: colour on ``background``, depth and opacity.

        ``chunk`` rays are marched at a time per device of ``mesh`` (``None``:
        this host's) and their occupied samples evaluated ``sample_chunk``
        at a time: memory is bounded by those, not by the picture's size,
        and one compiled program serves every size of view.
        """
        if not isinstance(camera, Camera) or camera.pose.ndim != 2:
            raise ValueError(f"camera must be one inr.Camera; got {camera!r}")
        sample_chunk = _renamed(old, "samples", "sample_chunk", sample_chunk)
        bg = jnp.asarray(background, jnp.float32)
        if bg.shape != (3,):
            raise ValueError(f"background must be RGB; got {background!r}")
        h, w = camera.size
        fn = partial(
            _view, self.model, self.sampling, as_positive_int(sample_chunk, "sample_chunk")
        )
        mesh = local_mesh() if mesh is None else as_mesh(mesh)
        args = replicate((self.params, self.grid, camera.replace(size=None), bg), mesh)
        axes = (np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
        # One slice per block: a chunk of rays already runs only its occupied samples,
        # in rounds of sample_chunk, and slicing it would pad every slice's last round.
        rgb, depth, opacity = evaluate_grid(fn, args, axes, chunk=as_positive_int(chunk, "chunk"),
                                            mesh=mesh, slices=1)  # fmt: skip
        return View(rgb.reshape(h, w, 3), depth.reshape(h, w), opacity.reshape(h, w))

    def at(self, points, directions, *, chunk: int = 65536, mesh=None):
        """``(densities (n,), colours (n, 3))`` at world ``points`` seen along ``directions``."""
        x = np.asarray(points, np.float32)
        d = np.asarray(directions, np.float32)
        if x.ndim != 2 or x.shape[1] != 3 or d.shape != x.shape:
            raise ValueError(f"points and directions must be (n, 3) alike; got {x.shape}, "
                             f"{d.shape}")  # fmt: skip
        d = d / np.maximum(np.linalg.norm(d, axis=1, keepdims=True), 1e-12)
        mesh = local_mesh() if mesh is None else as_mesh(mesh)
        fn = partial(_fields, self.model, float(self.sampling.box))
        args = replicate((self.params,), mesh)
        return evaluate(fn, args, np.concatenate([x, d], 1), chunk=chunk, mesh=mesh)

    def score(self, images, cameras: Camera, *, background=(1.0, 1.0, 1.0)) -> dict:
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

    def evaluate(self, images, cameras: Camera, **kw) -> dict:
        """Deprecated: :meth:`score` (scores are the one verb for them)."""
        warnings.warn("RadianceField.evaluate is renamed RadianceField.score",
                      DeprecationWarning, stacklevel=2)  # fmt: skip
        return self.score(images, cameras, **kw)


def _renamed(old: dict, was: str, now: str, value):
    """``value``, or the one-release alias ``was`` of keyword ``now`` (with a warning)."""
    if set(old) - {was}:
        raise TypeError(f"unexpected keyword arguments {sorted(set(old) - {was})}")
    if was in old:
        warnings.warn(f"{was}= is renamed {now}=", DeprecationWarning, stacklevel=3)
        return old[was]
    return value

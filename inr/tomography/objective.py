"""A sinogram as an objective: a field whose line integrals match a scanner's measurements.

The field ``u = half * f + mid`` (``f`` the network, the value range's
centre and half-width as for every gridded fit) is projected along each
drawn ray of the geometry (:func:`inr.tomography.line_integrals`) and
compared with the measured integral:

    L = mean_rays (P u - p)^2 / scale^2  +  tv * mean_x |grad u(x)|

``scale`` is the sinogram's largest magnitude, so the data term is of order
one whatever the units.  The total-variation prior (Rudin, Osher and
Fatemi 1992; NeRP and NAF use one) is the mean gradient magnitude of the
field (exact, by autodiff; per field unit) at ``tv_points`` uniform points
of the grid each step, over the slice's mean attenuation (``level``, read
from the sinogram: a view's integrals sum to the slice's total), so one
weight suits faint and dense slices alike: it holds a fit from
few views to piecewise-smooth fields instead of the streaks the missing
views allow, so it does not degrade with more steps.  A step draws
``rays`` random rays (all of them when ``None``) with stratified samples
along each.

The objective owns its recipe, the library's fastest for slices: a
multiresolution grid (levels from 16 cells a side, 1.5 times finer each, up
to the slice's resolution: 8 levels, to 273, for 256 pixels; a table of
2^17 rows, dense in 2-D; 2 features) and a 32-wide MLP
(:meth:`SinogramObjective.default_model`), fitted with instant-ngp's Adam
(:func:`inr.ngp_adam`) over :attr:`SinogramObjective.default_steps` steps of
2048 rays with ``max(64, N / 2)`` samples each and the prior at 8192
points of weight 1e-5.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from inr._validate import as_number, as_positive_int
from inr.fields import value_and_gradient
from inr.fitting import fit, ngp_adam
from inr.nn.hashgrid import HashGrid
from inr.nn.mlp import MLP
from inr.objective import Objective, option, streams
from inr.result import FitResult
from inr.signal import Layout
from inr.tomography.project import grid_shape, line_integrals

__all__ = ["SinogramObjective", "fit_sinogram"]


class SinogramObjective(Objective):
    """A measured sinogram and its geometry's rays; build it with :meth:`create`.

    Attributes:
      measured: ``(R,)`` the line integrals, divided by ``scale``.
      origins: ``(R, d)`` the rays' origins (field coordinates).
      directions: ``(R, d)`` their unit directions.
      per_unit: ``(R,)`` pixels per field unit along each ray.
      scale: the sinogram's largest magnitude.
      level: the grid's mean attenuation, from the sinogram.
      samples: samples per ray (static).
      layout: the grid the field renders on, with its value range.
      rays: rays per step, ``None`` for all (static).
      tv: the total-variation prior's weight (static).
      tv_points: points per step of the prior (static).
    """

    measured: jax.Array
    origins: jax.Array
    directions: jax.Array
    per_unit: jax.Array
    scale: jax.Array
    level: jax.Array
    samples: int = option()
    layout: Layout = None
    rays: int | None = option(2048)
    tv: float = option(1e-5)
    tv_points: int = option(8192)

    channels = 1
    default_steps = 1000

    @classmethod
    def create(cls, sinogram, geometry, *, rays=None, samples=None, tv=None, tv_points=None,
               value_range=None):  # fmt: skip
        """From a sinogram shaped ``geometry.shape`` (line integrals in pixels).

        ``rays`` per step (default 2048; ``"all"`` for every ray at every
        step); ``samples`` per ray, stratified (default ``max(64, N // 2)``);
        ``tv`` the prior's weight (default 1e-5; 0 for none) at ``tv_points``
        random points a step (default 8192).  ``value_range`` ``(lo, hi)``:
        the attenuation's range, in the scanner's units, which renders are
        clipped to (default ``(0, hi)`` with ``hi`` four times the mean
        attenuation along the longest ray, a guess that thin bright
        structures exceed: pass the range when the units say it).
        """
        p = np.asarray(sinogram, np.float64)
        if p.shape != geometry.shape or not np.isfinite(p).all():
            raise ValueError(
                f"sinogram must be finite and shaped {geometry.shape} (views, detectors) for "
                f"this geometry's {geometry.views} angles; got {p.shape}"
            )
        scale = float(np.abs(p).max()) or 1.0
        # A parallel view's integrals sum to the grid's total (fans and cones: about).
        total = np.abs(p).reshape(p.shape[0], -1).sum(1).mean() * geometry.spacing ** (p.ndim - 1)
        level = float(total / np.prod(grid_shape(geometry))) or 1.0
        if value_range is None:
            value_range = (0.0, 4.0 * scale / (np.sqrt(geometry.dims) * geometry.size))
        layout = Layout(grid_shape(geometry), geometry.dims, tuple(map(float, value_range)))
        origins, directions, per_unit = geometry.rays()
        d = geometry.dims
        per_unit = jnp.broadcast_to(per_unit, (*origins.shape[:-1], 1)).reshape(-1)
        samples = max(64, geometry.size // 2) if samples is None else samples
        rays = (
            cls.rays if rays is None else (None if rays == "all" else as_positive_int(rays, "rays"))
        )
        tv = cls.tv if tv is None else as_number(tv, "tv", 0.0)
        tv_points = cls.tv_points if tv_points is None else as_positive_int(tv_points, "tv_points")
        put = lambda x: jnp.asarray(x, jnp.float32)  # noqa: E731
        return cls(measured=put(p.reshape(-1) / scale), origins=origins.reshape(-1, d),
                   directions=directions.reshape(-1, d), per_unit=per_unit, scale=put(scale),
                   level=put(level), samples=as_positive_int(samples, "samples"), layout=layout,
                   rays=rays, tv=tv, tv_points=tv_points)  # fmt: skip

    @property
    def dims(self) -> int:
        return self.layout.dims

    def default_model(self):
        """The recipe of the module docstring: levels from 16 cells a side, each 1.5 times
        finer, up to the grid's resolution (8 levels for 256 pixels)."""
        side = max(self.layout.grid)
        levels = 1 + max(0, int(np.ceil(np.log(side / 16) / np.log(1.5))))
        grid = HashGrid(levels=levels, features=2, log2_table_size=17, base_resolution=16,
                        growth=1.5)  # fmt: skip
        return MLP(32, 1, 1, encoding=grid)

    def default_optimizer(self, steps: int):
        """instant-ngp's Adam over ``steps`` (:func:`inr.ngp_adam`)."""
        return ngp_adam(steps)

    @property
    def points(self) -> int:
        return self.measured.shape[0] if self.rays is None else self.rays

    def draw(self, key, step):
        """The step's rays, their measurements, a stratification key and the prior's points."""
        pick, jitter, prior = streams(key, step, "rays", "jitter", "prior")
        n = self.measured.shape[0]
        rows = jnp.arange(n) if self.rays is None else jax.random.randint(pick, (self.rays,), 0, n)
        x = jax.random.uniform(prior, (self.tv_points, self.dims), minval=-1.0, maxval=1.0)
        return (self.origins[rows], self.directions[rows], self.per_unit[rows],
                self.measured[rows], jitter, x)  # fmt: skip

    def split(self, batch):
        """The rays and their measurements are points, and so are the prior's points."""
        return (True, True, True, True, False, True)

    def field(self, model, params):
        """``u(x) = half * f(x) + mid``, ``(n, d) -> (n,)``."""
        lo, hi = self.layout.value_range
        return lambda x: 0.5 * (hi - lo) * model.apply(params, x)[:, 0] + 0.5 * (hi + lo)

    def loss(self, model, params, batch):
        origins, directions, per_unit, measured, key, x = batch
        u = self.field(model, params)
        predicted = line_integrals(u, origins, directions, per_unit, self.samples, key)
        data = jnp.mean((predicted / self.scale - measured) ** 2)
        if not self.tv:
            return data, {"loss": data}
        _, grad = value_and_gradient(lambda p: u(p)[:, None], x)
        tv = jnp.mean(jnp.sqrt(jnp.sum(grad[:, 0] ** 2, axis=-1) + 1e-12)) / self.level
        return data + self.tv * tv, {"loss": data, "tv": tv}


def fit_sinogram(sinogram, geometry, *, rays=None, samples=None, tv=None, tv_points=None,
                 value_range=None, **options) -> FitResult:  # fmt: skip
    """Fit a field to a sinogram: :func:`inr.fit` of a :class:`SinogramObjective`,
    which owns the recipe (the module docstring).

    Args:
      sinogram: ``geometry.shape`` line integrals in pixels (:mod:`inr.tomography.geometry`).
      geometry: a :class:`ParallelBeam`, :class:`FanBeam` or :class:`ConeBeam`.
      rays: as :meth:`SinogramObjective.create` (``None``: the recipe's), as are
      samples: the samples per ray,
      tv: the prior's weight,
      tv_points: the prior's points per step,
      value_range: the slice's range.
      **options: :func:`inr.fit`'s keywords (``model``, default the
        module's recipe; ``optimizer``, default :func:`inr.ngp_adam` over
        ``steps``; ``steps``, default :attr:`SinogramObjective.default_steps`;
        ``seed``, ``progress``, ``mesh``, ``checkpoints``, ``init``).

    Returns:
      A :class:`~inr.FitResult` over the scanned grid: ``render(N, N)`` is the
      slice (``render(N_z, N, N)`` the volume).
    """
    objective = SinogramObjective.create(sinogram, geometry, rays=rays, samples=samples, tv=tv,
                                         tv_points=tv_points, value_range=value_range)  # fmt: skip
    return fit(objective, **options)

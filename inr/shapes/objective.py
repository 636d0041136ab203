"""SIREN's shape objective: where each step's points lie, and the terms of its loss.

The field ``f`` is fitted in field coordinates (:mod:`inr.shapes.surface`)
to an oriented point cloud with the four terms of SIREN's shape loss
(Sitzmann et al. 2020, Sec. 4.2, and ``loss_functions.sdf`` of its code),
weighted by an :class:`SDFLoss`:

* on the surface, ``|f(x)|``: the surface is the zero level set;
* on the surface, ``1 - cos(grad f(x), n(x))``: its normals are the data's;
* everywhere, ``| |grad f(x)| - 1 |``: the eikonal equation of a distance;
* off the surface, ``exp(-alpha |f(x)|)``: no zero level set elsewhere;
* optionally, ``|f(x) - d(x)|`` off the surface, ``d`` the signed distance
  to the nearest sample (DeepSDF's supervision, Park et al. 2019).

Each step draws ``points / 2`` surface samples and as many points off the
surface, placed as an :class:`SDFSampling` says; as in SIREN's code,
every term is a mean over all the step's points (zero where it does not
apply).  The gradient is exact (reverse-mode autodiff of the network), so
any model works: SIREN, an MLP on Fourier features, the hash grid.
"""

from __future__ import annotations

import dataclasses
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from inr._extras import require
from inr._validate import as_number, as_positive_int
from inr.fields import value_and_gradient
from inr.fitting import fit
from inr.objective import Objective, option, streams
from inr.shapes.sdf import SDF
from inr.shapes.surface import Transform, as_oriented_points, unit_transform

__all__ = ["SDFLoss", "SDFObjective", "SDFSampling", "fit_sdf"]


@dataclasses.dataclass(frozen=True)
class SDFLoss:
    """The weights of SIREN's shape loss (its defaults), and of the distance term.

    Attributes:
      surface: weight of ``|f|`` on the surface (SIREN: 3e3).
      normal: weight of ``1 - cos(grad f, n)`` on the surface (1e2).
      eikonal: weight of ``| |grad f| - 1 |`` at every point (5e1).
      off_surface: weight of ``exp(-alpha |f|)`` at the uniform off-surface
        points (1e2).
      alpha: the off-surface term's sharpness (1e2).
      distance: weight of ``|f - d|`` at the off-surface points; with a
        weight, those points come from a pool drawn once per fit whose
        distances a KD-tree finds (SciPy; :class:`SDFSampling`).  It rules
        out stray surfaces away from the samples.  SIREN: 0.
    """

    surface: float = 3e3
    normal: float = 1e2
    eikonal: float = 5e1
    off_surface: float = 1e2
    alpha: float = 1e2
    distance: float = 0.0

    def __post_init__(self):
        for name in ("surface", "normal", "eikonal", "off_surface", "alpha", "distance"):
            as_number(getattr(self, name), f"SDFLoss.{name}", 0.0)


@dataclasses.dataclass(frozen=True)
class SDFSampling:
    """Where a step's off-surface points lie.

    Attributes:
      bound: uniform points fill ``[-bound, bound]^3`` (the shape spans
        [-1, 1]; a margin keeps the field a distance where meshes are
        extracted).
      near: the share of off-surface points drawn instead near the surface,
        each a surface sample moved by Gaussian noise of deviation
        ``spread`` (IGR's sampling, Gropp et al. 2020); they take the
        eikonal term alone, and hold the field to a distance where meshes
        and pictures read it.  SIREN: 0.
      spread: that noise's standard deviation, in field units.
      pool: the size of the pool of off-surface points drawn once per fit
        when the loss has a distance term.
    """

    bound: float = 1.1
    near: float = 0.0
    spread: float = 0.05
    pool: int = 1_000_000

    def __post_init__(self):
        as_number(self.bound, "SDFSampling.bound", 1.0)
        as_number(self.near, "SDFSampling.near", 0.0, 1.0)
        as_number(self.spread, "SDFSampling.spread", 0.0)
        as_positive_int(self.pool, "SDFSampling.pool")

    def distance_pool(self, points, normals, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """``(pool (P, 3), signed distances (P,))``: off-surface points and their ``d``."""
        spatial = require("scipy.spatial", "shapes")
        rng = np.random.default_rng(seed)
        k = round(self.near * self.pool)
        near = points[rng.integers(0, len(points), k)] + self.spread * rng.normal(size=(k, 3))
        uniform = rng.uniform(-self.bound, self.bound, size=(self.pool - k, 3))
        x = np.concatenate([near, uniform]).astype(np.float32)
        d, nearest = spatial.cKDTree(points).query(x, workers=-1)
        side = np.sum((x - points[nearest]) * normals[nearest], axis=1)
        return x, np.where(side < 0, -d, d).astype(np.float32)


class SDFObjective(Objective):
    """An oriented point cloud in field coordinates, fitted with SIREN's shape loss.

    Build it with :meth:`create` from points in the input's units; its
    :attr:`transform` maps them into field coordinates, and a fit of it
    returns an :class:`~inr.shapes.SDF`.

    Attributes:
      surface: ``(N, 3)`` samples of the surface, field coordinates.
      normals: ``(N, 3)`` their unit outward normals.
      pool: ``(P, 3)`` off-surface points with known distances, or ``None``.
      pool_distance: ``(P,)`` their signed distances, or ``None``.
      transform: the map from the input's units into field coordinates.
      terms: the loss's weights (static).
      sampling: where off-surface points lie (static).
      points: the points one step evaluates, half on the surface (static).
    """

    surface: jax.Array
    normals: jax.Array
    pool: jax.Array | None
    pool_distance: jax.Array | None
    transform: Transform
    terms: SDFLoss = option(SDFLoss())
    sampling: SDFSampling = option(SDFSampling())
    points: int = option(10_000)

    dims = 3
    channels = 1
    default_steps = 2000

    @classmethod
    def create(cls, surface, normals, *, points: int | None = None, loss: SDFLoss | None = None,
               sampling: SDFSampling | None = None, seed: int = 0):  # fmt: skip
        """From an oriented point cloud ``surface``, ``normals`` ``(N, 3)`` in the input's units.

        ``points`` per step (default 10,000, half on the surface); ``loss``
        an :class:`SDFLoss` (default SIREN's weights); ``sampling`` an
        :class:`SDFSampling` (default SIREN's uniform cube); ``seed`` draws
        the distance pool when the loss has a distance term.
        """
        p, n = as_oriented_points(surface, normals, ("surface", "normals"))
        points = cls.points if points is None else as_positive_int(points, "points")
        if points < 2 or points % 2:
            raise ValueError(f"points must be even (half on the surface); got {points}")
        loss = SDFLoss() if loss is None else loss
        sampling = SDFSampling() if sampling is None else sampling
        if not isinstance(loss, SDFLoss):
            raise ValueError(f"loss must be an SDFLoss; got {type(loss)}")
        if not isinstance(sampling, SDFSampling):
            raise ValueError(f"sampling must be an SDFSampling; got {type(sampling)}")
        transform = unit_transform(p)
        field = np.asarray(transform.to_field(p), np.float32)
        pool = distance = None
        if loss.distance > 0:
            pool, distance = sampling.distance_pool(field, n, seed)
        put = lambda x: None if x is None else jnp.asarray(x)  # noqa: E731
        # The transform stays on the host: results map points with it in NumPy.
        return cls(put(field), put(n), put(pool), put(distance), transform, loss, sampling, points)

    def result(self, fitted):
        return SDF.of_fit(fitted, self.transform)

    def split(self, batch):
        """Every row of a step's points (and of the pool's distances) is a point."""
        return jax.tree.map(lambda _: True, batch)

    def draw(self, key, step):
        """``(x, normals, on surface, uniform, distance or None)`` of step ``step``.

        The first half are surface samples, the second half off the
        surface: drawn afresh (near the surface, then uniform), or from the
        pool with their distances.
        """
        half, s = self.points // 2, self.sampling
        pick, uniform, jitter = streams(key, step, "surface", "off", "near")
        rows = jax.random.randint(pick, (self.points,), 0, self.surface.shape[0])
        surface = self.surface[rows]
        i, d = jnp.arange(half), None
        if self.pool is not None:
            drawn = jax.random.randint(uniform, (half,), 0, self.pool.shape[0])
            off, d = self.pool[drawn], self.pool_distance[drawn]
            is_near = drawn < round(s.near * s.pool)
        else:
            near = surface[half:] + s.spread * jax.random.normal(jitter, (half, 3))
            off = jax.random.uniform(uniform, (half, 3), minval=-s.bound, maxval=s.bound)
            is_near = i < round(s.near * half)
            off = jnp.where(is_near[:, None], near, off)
        x = jnp.concatenate([surface[:half], off])
        normals = jnp.concatenate([self.normals[rows[:half]], jnp.zeros_like(off)])
        on = jnp.arange(self.points) < half
        uniform = jnp.concatenate([jnp.zeros(half, bool), ~is_near])
        return x, normals, on, uniform, d

    def loss(self, model, params, batch):
        """The weighted sum of the terms, and each term's mean."""
        x, normals, on, uniform, d = batch
        value, grad = value_and_gradient(partial(model.apply, params), x)
        f, g = value[:, 0], grad[:, 0]
        # Safe at g = 0 (a point where every ReLU is off): a norm's derivative is not.
        norm = jnp.sqrt(jnp.sum(g * g, axis=-1) + 1e-12)
        cos = jnp.sum(g * normals, axis=-1) / norm
        w = self.terms
        terms = {
            "surface": jnp.mean(jnp.where(on, jnp.abs(f), 0.0)),
            "normal": jnp.mean(jnp.where(on, 1.0 - cos, 0.0)),
            "eikonal": jnp.mean(jnp.abs(norm - 1.0)),
            "off_surface": jnp.mean(jnp.where(uniform, jnp.exp(-w.alpha * jnp.abs(f)), 0.0)),
        }
        total = sum(getattr(w, name) * value for name, value in terms.items())
        if d is not None:  # the off-surface half, against the pool's distances
            error = jnp.sum(jnp.abs(f[self.points // 2 :] - d))
            terms["distance"] = error / self.points
            total += w.distance * error / self.points
        return total, {"loss": total, **terms}


def fit_sdf(
    surface,
    normals,
    *,
    points: int | None = None,
    loss: SDFLoss | None = None,
    sampling: SDFSampling | None = None,
    **options,
) -> SDF:
    """Fit a signed distance field to an oriented point cloud ``surface``, ``normals`` (N, 3).

    :func:`inr.fit` of an :class:`~inr.shapes.SDFObjective`, which owns the recipe.

    Args:
      surface: ``(N, 3)`` samples of the surface, in the input's units.
      normals: ``(N, 3)`` their outward normals (any length but zero).
      points: the points each step evaluates (default 10,000): half drawn
        from ``surface``, half off it (see :class:`SDFSampling`), inside
        ``jit``, a function of ``seed`` and the step.
      loss: the weights of SIREN's terms (an :class:`SDFLoss`; ``None``: SIREN's).
      sampling: where the off-surface points lie (an :class:`SDFSampling`;
        ``None``: SIREN's uniform cube).
      **options: :func:`inr.fit`'s keywords (``model``: any Flax module
        from ``(n, 3)`` to ``(n, 1)``, default SIREN 256 x 3;
        ``optimizer``: default Adam 1e-4, SIREN's; ``steps``: default 2000;
        ``seed``, ``progress``, ``mesh``, ``checkpoints``, ``init``).

    Returns:
      An :class:`SDF`; its history has the loss and each term per step.
    """
    objective = SDFObjective.create(surface, normals, points=points, loss=loss,
                                    sampling=sampling, seed=options.get("seed") or 0)  # fmt: skip
    return fit(objective, **options)

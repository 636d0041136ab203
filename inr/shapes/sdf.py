"""Signed distance fields fitted to oriented points: SIREN's shape experiment.

The field ``f`` is fitted in field coordinates (:mod:`inr.shapes.surface`)
to an oriented point cloud with the four terms of SIREN's shape loss
(Sitzmann et al. 2020, Sec. 4.2, and ``loss_functions.sdf`` of its code):

* on the surface, ``|f(x)|``: the surface is the zero level set;
* on the surface, ``1 - cos(grad f(x), n(x))``: its normals are the data's;
* everywhere, ``| |grad f(x)| - 1 |``: the eikonal equation of a distance;
* off the surface, ``exp(-alpha |f(x)|)``: no zero level set elsewhere.

Each step draws ``batch`` surface samples and ``batch`` uniform points in
the cube of half-side ``bound``; as in SIREN's code, every term is a mean
over all ``2 batch`` points (zero where it does not apply), weighted.  The
gradient is exact (reverse-mode autodiff of the network), so any model
works: SIREN, an MLP on Fourier features, the hash grid.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from functools import partial
from typing import Any

import flax.linen as nn
import flax.struct
import jax
import jax.numpy as jnp
import numpy as np
import optax

from inr._extras import require
from inr._validate import as_number, as_positive_int
from inr.fields import value_and_gradient
from inr.fit_options import model_and_optimizer
from inr.loop import run
from inr.render import DEFAULT_CHUNK, evaluate_chunked
from inr.shapes.surface import Transform, as_oriented_points, unit_transform

__all__ = ["SDF", "SDFLoss", "as_field", "evaluate_field", "fit_sdf"]


@dataclasses.dataclass(frozen=True)
class SDFLoss:
    """SIREN's shape loss: the terms' weights, ``alpha``, and where off-surface points lie.

    Attributes:
      surface: weight of ``|f|`` on the surface (SIREN: 3e3).
      normal: weight of ``1 - cos(grad f, n)`` on the surface (1e2).
      eikonal: weight of ``| |grad f| - 1 |`` at every point (5e1).
      off_surface: weight of ``exp(-alpha |f|)`` off the surface (1e2).
      alpha: the off-surface term's sharpness (1e2).
      bound: off-surface points are uniform in ``[-bound, bound]^3`` (the
        shape spans [-1, 1]; a margin keeps the field a distance where
        meshes are extracted).
      near: the share of off-surface points drawn instead near the surface,
        each a surface sample moved by Gaussian noise of deviation
        ``spread`` (IGR's sampling, Gropp et al. 2020); they take the
        eikonal term alone, and hold the field to a distance where meshes
        and pictures read it.  SIREN: 0.
      spread: that noise's standard deviation, in field units.
      distance: weight of ``|f - d|`` at the off-surface points, ``d`` the
        signed distance to the nearest sample (its sign from that sample's
        normal; DeepSDF's supervision, Park et al. 2019).  With a weight,
        the off-surface points come from a pool of ``pool`` points drawn
        once per fit, whose ``d`` a KD-tree finds (SciPy).  It rules out
        stray surfaces away from the samples.  SIREN: 0.
      pool: the pool's size.
    """

    surface: float = 3e3
    normal: float = 1e2
    eikonal: float = 5e1
    off_surface: float = 1e2
    alpha: float = 1e2
    bound: float = 1.1
    near: float = 0.0
    spread: float = 0.05
    distance: float = 0.0
    pool: int = 1_000_000

    def __post_init__(self):
        for name in ("surface", "normal", "eikonal", "off_surface", "alpha", "spread", "distance"):
            as_number(getattr(self, name), f"SDFLoss.{name}", 0.0)
        as_number(self.bound, "SDFLoss.bound", 1.0)
        as_number(self.near, "SDFLoss.near", 0.0, 1.0)
        as_positive_int(self.pool, "SDFLoss.pool")

    def off_surface_pool(self, points, normals, seed: int) -> dict:
        """The pool of off-surface points and their signed distances, for ``distance > 0``."""
        spatial = require("scipy.spatial", "shapes")
        rng = np.random.default_rng(seed)
        k = round(self.near * self.pool)
        near = points[rng.integers(0, len(points), k)] + self.spread * rng.normal(size=(k, 3))
        uniform = rng.uniform(-self.bound, self.bound, size=(self.pool - k, 3))
        x = np.concatenate([near, uniform]).astype(np.float32)
        d, nearest = spatial.cKDTree(points).query(x, workers=-1)
        side = np.sum((x - points[nearest]) * normals[nearest], axis=1)
        d = np.where(side < 0, -d, d).astype(np.float32)
        return {"pool": jnp.asarray(x), "pool_distance": jnp.asarray(d)}

    def sample(self, data, step, points: int):
        """Step ``step``'s points: ``(x, normals, on surface, uniform, distance or None)``.

        The first ``points`` are surface samples, the next ``points`` are off
        the surface: drawn afresh (near the surface, then uniform), or from
        the pool with their distances.
        """
        key = jax.random.fold_in(data["key"], step)
        pick, uniform, jitter = jax.random.split(key, 3)
        rows = jax.random.randint(pick, (2 * points,), 0, data["points"].shape[0])
        surface = data["points"][rows]
        i, d = jnp.arange(points), None
        if "pool" in data:
            drawn = jax.random.randint(uniform, (points,), 0, data["pool"].shape[0])
            off, d = data["pool"][drawn], data["pool_distance"][drawn]
            is_near = drawn < round(self.near * self.pool)
        else:
            near = surface[points:] + self.spread * jax.random.normal(jitter, (points, 3))
            off = jax.random.uniform(uniform, (points, 3), minval=-self.bound, maxval=self.bound)
            is_near = i < round(self.near * points)
            off = jnp.where(is_near[:, None], near, off)
        x = jnp.concatenate([surface[:points], off])
        normals = jnp.concatenate([data["normals"][rows[:points]], jnp.zeros_like(off)])
        on = jnp.arange(2 * points) < points
        uniform = jnp.concatenate([jnp.zeros(points, bool), ~is_near])
        return x, normals, on, uniform, d

    def __call__(self, model, params, data, step, points: int):
        """The objective of step ``step`` and ``(objective, NaN)``, as the fit loop wants."""
        x, normals, on, uniform, d = self.sample(data, step, points)
        value, grad = value_and_gradient(partial(model.apply, params), x)
        f, g = value[:, 0], grad[:, 0]
        # Safe at g = 0 (a point where every ReLU is off): a norm's derivative is not.
        norm = jnp.sqrt(jnp.sum(g * g, axis=-1) + 1e-12)
        cos = jnp.sum(g * normals, axis=-1) / norm
        repel = jnp.exp(-self.alpha * jnp.abs(f))
        objective = (
            self.surface * jnp.mean(jnp.where(on, jnp.abs(f), 0.0))
            + self.normal * jnp.mean(jnp.where(on, 1.0 - cos, 0.0))
            + self.eikonal * jnp.mean(jnp.abs(norm - 1.0))
            + self.off_surface * jnp.mean(jnp.where(uniform, repel, 0.0))
        )
        if d is not None:  # the off-surface half, against the pool's distances
            objective += self.distance * jnp.sum(jnp.abs(f[points:] - d)) / (2 * points)
        return objective, (objective, jnp.float32(jnp.nan))


@partial(jax.jit, static_argnums=(0, 1))
def evaluate_field(chunk: int, gradient: bool, field, x):
    """``field`` at ``x (n, 3)`` in chunks: ``(n,)``, or ``((n,), (n, 3))`` with its gradient."""
    if not gradient:
        return evaluate_chunked(field, x, chunk)
    both = lambda p: value_and_gradient(lambda q: field(q)[:, None], p)  # noqa: E731
    value, grad = evaluate_chunked(both, x, chunk)
    return value[:, 0], grad[:, 0]


@flax.struct.dataclass
class _Network:
    """A scalar network as a field ``(n, 3) -> (n,)``: a pytree that ``jit`` can take."""

    params: Any
    model: nn.Module = flax.struct.field(pytree_node=False)

    def __call__(self, x):
        return self.model.apply(self.params, x)[:, 0]


@flax.struct.dataclass
class SDF:
    """A fitted signed distance field.

    Calling it on field coordinates ``(n, 3)`` gives distances in field
    units ``(n,)``, traceable inside ``jit`` (it is a pytree);
    :meth:`distance` works in the input's units.

    Attributes:
      params: the network's parameters.
      transform: the map from the input's units into field coordinates.
      history: ``{"loss": (steps,)}``, the objective at each step.
      model: the Flax module (static).
    """

    params: Any
    transform: Transform
    history: dict = flax.struct.field(pytree_node=False)
    model: nn.Module = flax.struct.field(pytree_node=False)

    def __call__(self, x):
        return self.model.apply(self.params, x)[:, 0]

    def __repr__(self) -> str:
        steps, last = len(self.history["loss"]), self.history["loss"][-1]
        return f"SDF({type(self.model).__name__}, {steps} steps, loss {last:.4g})"

    def distance(self, points, *, chunk: int = DEFAULT_CHUNK) -> np.ndarray:
        """Signed distances ``(...)`` at ``points (..., 3)`` in the input's units."""
        x = np.asarray(points, np.float32)
        if x.ndim < 1 or x.shape[-1] != 3 or not np.isfinite(x).all():
            raise ValueError(f"points must be finite and shaped (..., 3); got shape {x.shape}")
        flat = jnp.asarray(self.transform.to_field(x.reshape(-1, 3)))
        d = evaluate_field(as_positive_int(chunk, "chunk"), False, as_field(self)[0], flat)
        return np.asarray(d * self.transform.scale).reshape(x.shape[:-1])


def as_field(field) -> tuple[Any, Transform]:
    """``(a pytree callable on field coordinates, its Transform)`` for an SDF or a function.

    A plain function maps ``(n, 3)`` points to ``(n,)`` distances, and its
    coordinates are the input's (the identity transform).
    """
    if isinstance(field, SDF):  # its history, static and of arrays, stays out of jit
        return _Network(field.params, field.model), field.transform
    if callable(field):
        identity = Transform(centre=np.zeros(3, np.float32), scale=np.float32(1.0))
        return jax.tree_util.Partial(field), identity
    raise ValueError(f"field must be an SDF from fit_sdf or a callable; got {type(field)}")


def _printer(step, total, loss, _):
    print(f"step {step:>6}/{total}  loss {loss:.4e}", flush=True)


def fit_sdf(
    points,
    normals,
    *,
    model: nn.Module | None = None,
    optimizer: optax.GradientTransformation | None = None,
    steps: int = 2000,
    batch: int = 5000,
    loss: SDFLoss = SDFLoss(),
    seed: int = 0,
    progress: bool | Callable = False,
) -> SDF:
    """Fit a signed distance field to an oriented point cloud ``points``, ``normals`` (N, 3).

    ``model``: any Flax module from ``(n, 3)`` to ``(n, 1)`` (default
    SIREN 256 x 3, ``inr.Siren(out_features=1)``); ``optimizer``: any optax
    transformation (default Adam 1e-4, SIREN's).  Each of ``steps`` steps
    draws ``batch`` surface samples and ``batch`` off-surface points inside
    ``jit`` (see :class:`SDFLoss`), from samples kept on the device, as a
    function of ``seed`` and the step.  ``progress``: ``True`` prints every 100 steps, or a
    callable ``(step, total, loss, nan)``.
    """
    p, n = as_oriented_points(points, normals)
    if not isinstance(loss, SDFLoss):
        raise ValueError(f"loss must be an SDFLoss; got {type(loss)}")
    steps, batch = as_positive_int(steps, "steps"), as_positive_int(batch, "batch")
    model, optimizer = model_and_optimizer(model, optimizer, channels=1, dims=3)
    transform = unit_transform(p)
    field_points = np.asarray(transform.to_field(p), np.float32)
    data = {
        "points": jnp.asarray(field_points),
        "normals": jnp.asarray(n),
        "key": jax.random.PRNGKey(seed),
    }
    if loss.distance > 0:
        data.update(loss.off_surface_pool(field_points, n, seed))
    problem = (model, optimizer, loss, batch, 3, 2 * batch)
    report = _printer if progress is True else progress
    params, history = run(problem, steps, jax.random.PRNGKey(seed), data, report)
    return SDF(params=params, transform=transform, history={"loss": history["loss"]}, model=model)

"""Signed distance fields fitted to oriented points: SIREN's shape experiment.

:func:`fit_sdf` moves an oriented point cloud into field coordinates
(:mod:`inr.shapes.surface`) and fits it with :func:`inr.fit` and the
shape objective of :mod:`inr.shapes.objective` (SIREN's loss, its weights
an :class:`SDFLoss`, where its points lie an :class:`SDFSampling`).  The
result, an :class:`SDF`, maps field coordinates to distances inside
``jit`` and the input's units to distances outside it.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import flax.linen as nn
import flax.struct
import jax
import jax.numpy as jnp
import numpy as np

from inr._validate import as_positive_int
from inr.fields import value_and_gradient
from inr.fitting import fit
from inr.render import DEFAULT_CHUNK, evaluate_chunked
from inr.shapes.objective import SDFLoss, SDFObjective, SDFSampling
from inr.shapes.surface import Transform, as_oriented_points, unit_transform

__all__ = ["SDF", "as_field", "evaluate_field", "fit_sdf"]


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
      history: ``{name: (steps,)}``: the loss and each term at each step.
      model: the Flax module (static).
    """

    params: Any
    transform: Transform
    history: dict
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
    if isinstance(field, SDF):  # its history stays out of jit
        return _Network(field.params, field.model), field.transform
    if callable(field):
        identity = Transform(centre=np.zeros(3, np.float32), scale=np.float32(1.0))
        return jax.tree_util.Partial(field), identity
    raise ValueError(f"field must be an SDF from fit_sdf or a callable; got {type(field)}")


def fit_sdf(
    surface,
    normals,
    *,
    points: int = 10_000,
    loss: SDFLoss | None = None,
    sampling: SDFSampling | None = None,
    steps: int = 2000,
    **options,
) -> SDF:
    """Fit a signed distance field to an oriented point cloud ``surface``, ``normals`` (N, 3).

    Args:
      surface: ``(N, 3)`` samples of the surface, in the input's units.
      normals: ``(N, 3)`` their outward normals (any length but zero).
      points: the points each step evaluates: half drawn from ``surface``,
        half off it (see :class:`SDFSampling`), inside ``jit``, a function
        of ``seed`` and the step.
      loss: the weights of SIREN's terms (an :class:`SDFLoss`; ``None``: SIREN's).
      sampling: where the off-surface points lie (an :class:`SDFSampling`;
        ``None``: SIREN's uniform cube).
      steps: optimisation steps.
      **options: :func:`inr.fit`'s keywords (``model``: any Flax module
        from ``(n, 3)`` to ``(n, 1)``, default SIREN 256 x 3;
        ``optimizer``: default Adam 1e-4, SIREN's; ``seed``, ``progress``,
        ``mesh``, ``checkpoints``).

    Returns:
      An :class:`SDF`; its history has the loss and each term per step.
    """
    p, n = as_oriented_points(surface, normals, ("surface", "normals"))
    loss = SDFLoss() if loss is None else loss
    sampling = SDFSampling() if sampling is None else sampling
    if not isinstance(loss, SDFLoss):
        raise ValueError(f"loss must be an SDFLoss; got {type(loss)}")
    if not isinstance(sampling, SDFSampling):
        raise ValueError(f"sampling must be an SDFSampling; got {type(sampling)}")
    transform = unit_transform(p)
    field_points = np.asarray(transform.to_field(p), np.float32)
    objective = SDFObjective.create(field_points, n, points=points, terms=loss,
                                    sampling=sampling, seed=options.get("seed", 0))  # fmt: skip
    result = fit(objective, steps=steps, **options)
    return SDF(params=result.params, transform=transform, history=result.history,
               model=result.model)  # fmt: skip

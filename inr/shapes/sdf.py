"""Signed distance fields fitted to oriented points: SIREN's shape experiment.

:func:`fit_sdf` moves an oriented point cloud into field coordinates
(:mod:`inr.shapes.surface`) and fits it with :func:`inr.fit` and the
shape objective of :mod:`inr.shapes.objective` (SIREN's loss, its weights
an :class:`SDFLoss`, where its points lie an :class:`SDFSampling`).  The
result, an :class:`SDF`, maps field coordinates to distances inside
``jit`` and the input's units to distances outside it.
"""

from __future__ import annotations

import dataclasses
import warnings
from typing import Any

import flax.linen as nn
import flax.struct
import jax
import numpy as np

from inr._validate import as_positive_int
from inr.distributed import as_mesh, local_mesh, replicate
from inr.fields import value_and_gradient
from inr.render import DEFAULT_CHUNK, evaluate
from inr.result import FitResult
from inr.shapes.surface import Transform

__all__ = ["SDF", "as_field", "field_gradient", "field_values"]


def field_values(field, x):
    """``field(x)``: a pytree field at points ``(n, 3)``, for :func:`inr.render.evaluate`."""
    return field(x)


def field_gradient(field, x):
    """``(field(x) (n,), its gradient (n, 3))``, for :func:`inr.render.evaluate`."""
    value, grad = value_and_gradient(lambda q: field(q)[:, None], x)
    return value[:, 0], grad[:, 0]


@flax.struct.dataclass
class _Network:
    """A scalar network as a field ``(n, 3) -> (n,)``: a pytree that ``jit`` can take."""

    params: Any
    model: nn.Module = flax.struct.field(pytree_node=False)

    def __call__(self, x):
        return self.model.apply(self.params, x)[:, 0]


@flax.struct.dataclass
class SDF(FitResult):
    """A fitted signed distance field: a :class:`~inr.FitResult` in the input's units.

    Calling it on field coordinates ``(n, 3)`` gives distances in field
    units ``(n,)``, traceable inside ``jit`` (it is a pytree); :meth:`at`
    works in the input's units.

    Attributes:
      transform: the map from the input's units into field coordinates.
    """

    transform: Transform | None = None

    @classmethod
    def of_fit(cls, fitted: FitResult, transform: Transform) -> SDF:
        """The SDF of a fit of an :class:`~inr.shapes.SDFObjective`."""
        return cls(**{f.name: getattr(fitted, f.name) for f in dataclasses.fields(fitted)},
                   transform=transform)  # fmt: skip

    def __call__(self, x):
        return self.model.apply(self.params, x)[:, 0]

    def __repr__(self) -> str:
        steps, last = len(self.history["loss"]), self.history["loss"][-1]
        return f"SDF({type(self.model).__name__}, {steps} steps, loss {last:.4g})"

    def at(self, points, *, chunk: int = DEFAULT_CHUNK, mesh=None) -> np.ndarray:
        """Signed distances ``(...)`` at ``points (..., 3)``, both in the input's units.

        ``chunk`` points are evaluated at once per device of ``mesh``
        (``None``: this host's); one program serves every point count.
        """
        x = np.asarray(points, np.float32)
        if x.ndim < 1 or x.shape[-1] != 3 or not np.isfinite(x).all():
            raise ValueError(f"points must be finite and shaped (..., 3); got shape {x.shape}")
        flat = np.asarray(self.transform.to_field(x.reshape(-1, 3)), np.float32)
        mesh = local_mesh() if mesh is None else as_mesh(mesh)
        field = replicate(as_field(self)[0], mesh)
        d = evaluate(field_values, field, flat, chunk=as_positive_int(chunk, "chunk"), mesh=mesh)
        return (d * np.float32(self.transform.scale)).reshape(x.shape[:-1])

    def distance(self, points, **kw) -> np.ndarray:
        """Deprecated: :meth:`at`, values at points (here, distances)."""
        warnings.warn("SDF.distance is renamed SDF.at", DeprecationWarning, stacklevel=2)
        return self.at(points, **kw)


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

"""The options every fit takes, validated at the public boundary.

``model`` (any Flax module mapping ``(n, d)`` points to ``(n, C)`` values;
default the paper's :class:`~inr.Siren`), ``optimizer`` (any
``optax.GradientTransformation``; default :data:`DEFAULT_OPTIMIZER`),
``target``, ``points``, ``anneal`` and how one fit's points split over a
mesh.  Each check raises ``ValueError`` naming the argument.
"""

from __future__ import annotations

import functools

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax

from inr._validate import as_number, as_positive_int
from inr.distributed import as_mesh, data_sharding, data_size
from inr.nn.siren import Siren
from inr.objectives import TARGETS

__all__ = [
    "DEFAULT_OPTIMIZER",
    "check_anneal",
    "check_points",
    "check_target",
    "model_and_optimizer",
    "split_points",
]

DEFAULT_OPTIMIZER = optax.adam(1e-4)
"""The paper's optimiser: Adam with learning rate 1e-4."""


def model_and_optimizer(model, optimizer, channels: int, dims: int = 2):
    """The validated ``(model, optimizer)``; ``None`` picks the defaults."""
    if model is None:
        model = Siren(out_features=channels)
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a Flax module such as inr.Siren(); got {model!r}")
    optimizer = DEFAULT_OPTIMIZER if optimizer is None else optimizer
    if not isinstance(optimizer, optax.GradientTransformation):
        raise ValueError(
            f"optimizer must be an optax.GradientTransformation such as optax.adam(1e-4); "
            f"got {optimizer!r}"
        )
    out = _output_shape(model, dims)
    if out != (1, channels):
        raise ValueError(
            f"model must map points (n, {dims}) to (n, {channels}) for this signal "
            f"(e.g. out_features={channels}); it gives {out[1:]} per point"
        )
    return model, optimizer


@functools.lru_cache(maxsize=64)
def _output_shape(model: nn.Module, dims: int) -> tuple[int, ...]:
    """The output shape of ``model`` on one point (traced once per model, not per call)."""
    try:
        out = jax.eval_shape(
            lambda x: model.apply(model.init(jax.random.PRNGKey(0), x), x),
            jax.ShapeDtypeStruct((1, dims), jnp.float32),
        )
    except Exception as exc:
        raise ValueError(f"model must map points (n, {dims}) to values (n, C): {exc}") from exc
    return tuple(out.shape)


def check_target(target):
    if target not in TARGETS:
        raise ValueError(f"target must be one of {TARGETS}; got {target!r}")


def check_points(points, target: str = "values") -> int | None:
    if points is None:
        return None
    if target != "values":
        raise ValueError(f"points (random batches) needs target='values'; got {target!r}")
    return as_positive_int(points, "points")


def check_anneal(anneal) -> float | None:
    if anneal is None:
        return None
    try:
        return as_number(anneal, "anneal", 0.0, 1.0)
    except ValueError:
        raise ValueError(f"anneal must be None or a number in [0, 1]; got {anneal!r}") from None


def split_points(mesh, points: int | None, n: int):
    """The sharding of one fit's points over ``mesh``, where it splits them evenly."""
    if mesh is None:
        return None
    mesh = as_mesh(mesh)
    devices = data_size(mesh)
    return data_sharding(mesh) if devices > 1 and (points or n) % devices == 0 else None

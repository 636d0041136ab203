"""Exact derivatives of a coordinate network by autodiff.

A *field* is a pointwise function ``f: (n, d) -> (n, C)``: output row ``i``
depends only on input row ``i``.  Then one forward-mode pass with the same
tangent ``t`` on every row gives every point's directional derivative
``J_i t`` at once, with no Jacobian materialised; nesting two passes gives
``t^T H_i t``.  Tangents are coordinate steps, so passing the step of one
pixel, ``t = (2/W, 0)`` for a [-1, 1] grid of width ``W``, yields
derivatives in intensity per pixel directly; likewise per sample of audio
or per voxel of a volume.  These are the quantities
SIREN is supervised with in its Poisson experiments (Sitzmann et al. 2020,
Sec. 4.1).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import jax
import jax.numpy as jnp

__all__ = [
    "directional_derivative",
    "first_and_second",
    "gradient",
    "laplacian",
    "second_derivative",
    "value_and_gradient",
]

Field = Callable[[jax.Array], jax.Array]


def directional_derivative(
    f: Field, x: Annotated[jax.Array, "n d"], t: Annotated[jax.Array, "d"]
) -> tuple[jax.Array, jax.Array]:
    """``(f(x), J_f(x) t)`` per point, each ``(n, C)``."""
    return jax.jvp(f, (x,), (jnp.broadcast_to(t, x.shape).astype(x.dtype),))


def second_derivative(
    f: Field, x: Annotated[jax.Array, "n d"], t: Annotated[jax.Array, "d"]
) -> jax.Array:
    """``t^T H_f(x) t`` per point, ``(n, C)``: forward over forward mode."""
    return first_and_second(f, x, t)[1]


def first_and_second(
    f: Field, x: Annotated[jax.Array, "n d"], t: Annotated[jax.Array, "d"]
) -> tuple[jax.Array, jax.Array]:
    """``(J_f(x) t, t^T H_f(x) t)`` per point, each ``(n, C)``, in one nested forward pass."""
    return directional_derivative(lambda y: directional_derivative(f, y, t)[1], x, t)


def _unit(steps: jax.Array, i: int) -> jax.Array:
    """``steps`` along coordinate ``i`` alone: the tangent of one cell along that axis."""
    return jnp.where(jnp.arange(steps.shape[0]) == i, steps, 0.0)


def gradient(
    f: Field, x: Annotated[jax.Array, "n d"], steps: Annotated[jax.Array, "d"]
) -> Annotated[jax.Array, "n C d"]:
    """``(df/dx_1 * steps[0], .., df/dx_d * steps[d-1])`` per point, ``(n, C, d)``.

    One forward-mode pass per coordinate, in coordinate order.
    """
    steps = jnp.asarray(steps, x.dtype)
    parts = [directional_derivative(f, x, _unit(steps, i))[1] for i in range(x.shape[-1])]
    return jnp.stack(parts, axis=-1)


def value_and_gradient(
    f: Field, x: Annotated[jax.Array, "n d"]
) -> tuple[Annotated[jax.Array, "n C"], Annotated[jax.Array, "n C d"]]:
    """``(f(x), df/dx)`` per point by reverse mode: one backward pass per channel.

    Since row ``i`` of ``f(x)`` depends on row ``i`` of ``x`` alone, the
    vector-Jacobian product with a cotangent of ones on channel ``c`` is
    every point's gradient of that channel.  For a scalar field in 3-D this
    costs about one forward and one backward pass where :func:`gradient`
    takes three forward-mode passes, and it works through layers defined in
    reverse mode only (the hash grid's Pallas kernels).
    """
    value, pull = jax.vjp(f, x)
    ones = jnp.eye(value.shape[-1], dtype=value.dtype)
    grads = [pull(jnp.broadcast_to(ones[c], value.shape))[0] for c in range(value.shape[-1])]
    return value, jnp.stack(grads, axis=-2)


def laplacian(
    f: Field, x: Annotated[jax.Array, "n d"], steps: Annotated[jax.Array, "d"]
) -> Annotated[jax.Array, "n C"]:
    """``sum_i d^2f/dx_i^2 * steps[i]^2`` per point, ``(n, C)``."""
    steps = jnp.asarray(steps, x.dtype)
    parts = [second_derivative(f, x, _unit(steps, i)) for i in range(x.shape[-1])]
    return sum(parts[1:], parts[0])

"""Exact derivatives of a coordinate network by autodiff.

A *field* is a pointwise function ``f: (n, 2) -> (n, C)``: output row ``i``
depends only on input row ``i``.  Then one forward-mode pass with the same
tangent ``t`` on every row gives every point's directional derivative
``J_i t`` at once, with no Jacobian materialised; nesting two passes gives
``t^T H_i t``.  Tangents are coordinate steps, so passing the step of one
pixel, ``t = (2/W, 0)`` for a [-1, 1] grid of width ``W``, yields
derivatives in intensity per pixel directly.  These are the quantities
SIREN is supervised with in its Poisson experiments (Sitzmann et al. 2020,
Sec. 4.1).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import jax
import jax.numpy as jnp

__all__ = ["directional_derivative", "gradient", "laplacian", "second_derivative"]

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
    return directional_derivative(lambda y: directional_derivative(f, y, t)[1], x, t)[1]


def gradient(
    f: Field, x: Annotated[jax.Array, "n 2"], steps: Annotated[jax.Array, "2"]
) -> Annotated[jax.Array, "n C 2"]:
    """``(df/dx * steps[0], df/dy * steps[1])`` per point, ``(n, C, 2)``."""
    steps = jnp.asarray(steps, x.dtype)
    dx = directional_derivative(f, x, jnp.stack([steps[0], 0.0]))[1]
    dy = directional_derivative(f, x, jnp.stack([0.0, steps[1]]))[1]
    return jnp.stack([dx, dy], axis=-1)


def laplacian(
    f: Field, x: Annotated[jax.Array, "n 2"], steps: Annotated[jax.Array, "2"]
) -> Annotated[jax.Array, "n C"]:
    """``f_xx * steps[0]^2 + f_yy * steps[1]^2`` per point, ``(n, C)``."""
    steps = jnp.asarray(steps, x.dtype)
    return second_derivative(f, x, jnp.stack([steps[0], 0.0])) + second_derivative(
        f, x, jnp.stack([0.0, steps[1]])
    )

"""Poisson's equation with Dirichlet values, the smallest linear problem of the interface.

``u_xx + u_yy = f`` in [-1, 1]^2 and ``u = g`` on its boundary, ``f`` and
``g`` functions of points; each step draws ``points`` points inside and
``boundary`` on the four edges.
"""

from __future__ import annotations

from collections.abc import Callable

import flax.struct
import jax
import jax.numpy as jnp

from inr.objective import streams
from inr.pde.linear import LinearPDE
from inr.signal import Layout

__all__ = ["PoissonObjective"]


class PoissonObjective(LinearPDE):
    """``lap u = f`` inside, ``u = g`` on the boundary.

    Attributes:
      f: the right-hand side, ``(n, 2) -> (n,)`` (static).
      g: the boundary values, ``(n, 2) -> (n,)`` (static).
      points: interior points per step (static).
      boundary: boundary points per step (static).
      weight: the boundary condition's weight.
    """

    f: Callable = flax.struct.field(pytree_node=False)
    g: Callable = flax.struct.field(pytree_node=False)
    points: int = flax.struct.field(pytree_node=False, default=2000)
    boundary: int = flax.struct.field(pytree_node=False, default=800)
    weight: float = flax.struct.field(pytree_node=False, default=10.0)

    dims = 2
    channels = 1

    @property
    def layout(self):
        """A field over [-1, 1]^2 with no range: never clipped."""
        return Layout.field(2, 1)

    def split(self, batch):
        return (True, True)

    def draw(self, key, step):
        inside, along, side = streams(key, step, "inside", "along", "side")
        x = jax.random.uniform(inside, (self.points, 2), minval=-1.0, maxval=1.0)
        t = jax.random.uniform(along, (self.boundary,), minval=-1.0, maxval=1.0)
        edge = jax.random.randint(side, (self.boundary,), 0, 4)
        sign = jnp.where(edge % 2 == 0, -1.0, 1.0)
        b = jnp.where((edge < 2)[:, None], jnp.stack([sign, t], -1), jnp.stack([t, sign], -1))
        return x, b

    def equations(self, batch, field_jets):
        x, b = batch
        j, jb = field_jets(x), field_jets(b)
        return [(j["dd"][0] + j["dd"][1], self.f(x), 1.0), (jb["u"], self.g(b), self.weight)]

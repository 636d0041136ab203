"""The 2-D wave equation from an initial condition alone, as a linear problem.

``u_tt = c^2 (u_xx + u_yy)`` on [-1, 1]^2 for ``t`` in ``[0, T]``, from
``u(x, 0) = u0(x)`` and ``u_t(x, 0) = 0`` (SIREN, Sec. 4.3: a Gaussian
pulse, supervised by the equation and the initial condition only).  The
field's coordinates are ``(x, y, tau)`` with ``tau = 2 t / T - 1`` in
[-1, 1], so ``u_t = (2 / T) u_tau``.  Each step draws ``points`` points in
the domain, their times uniform in ``[0, T]`` or, with ``grow`` steps, in
a window widening linearly from 0 to ``T`` over them (SIREN's curriculum),
and ``initial`` points at ``t = 0``.
"""

from __future__ import annotations

import dataclasses

import flax.struct
import jax
import jax.numpy as jnp
import numpy as np

from inr._validate import as_number
from inr.objective import streams
from inr.pde.linear import LinearPDE
from inr.signal import Layout

__all__ = ["Wave", "WaveObjective"]


@dataclasses.dataclass(frozen=True)
class Wave:
    """The problem: wave speed, time span and the initial Gaussian pulse.

    Attributes:
      c: the wave speed.
      duration: ``T``, the time span.
      centre: the pulse's centre.
      width: its standard deviation.
    """

    c: float = 1.0
    duration: float = 0.4
    centre: tuple = (0.0, 0.0)
    width: float = 0.05

    def __post_init__(self):
        as_number(self.c, "Wave.c", 0.0, low_open=True)
        as_number(self.duration, "Wave.duration", 0.0, low_open=True)
        as_number(self.width, "Wave.width", 0.0, low_open=True)

    def initial(self, x):
        """``u0`` at points ``(n, 2)``."""
        r2 = jnp.sum((jnp.asarray(x) - jnp.asarray(self.centre)) ** 2, axis=-1)
        return jnp.exp(-0.5 * r2 / self.width**2)

    def tau(self, t):
        """The field's third coordinate of times ``t``."""
        return 2.0 * np.asarray(t) / self.duration - 1.0


class WaveObjective(LinearPDE):
    """The wave equation and its initial condition at points drawn each step.

    Attributes:
      problem: the :class:`Wave` (static).
      points: domain points per step (static).
      initial: initial-condition points per step (static).
      grow: steps over which the time window widens to ``T`` (0: from the start).
      weight: the initial condition's weight against the equation's.
    """

    problem: Wave = flax.struct.field(pytree_node=False)
    points: int = flax.struct.field(pytree_node=False, default=4000)
    initial: int = flax.struct.field(pytree_node=False, default=2000)
    grow: int = flax.struct.field(pytree_node=False, default=0)
    weight: float = flax.struct.field(pytree_node=False, default=100.0)

    dims = 3
    channels = 1

    @property
    def layout(self):
        """A field over ``(x, y, tau)`` in [-1, 1]^3, with no range: never clipped."""
        return Layout.field(3, 1)

    def split(self, batch):
        return (True, True)

    def draw(self, key, step):
        domain, start = streams(key, step, "domain", "initial")
        window = 1.0 if not self.grow else jnp.minimum(1.0, (step + 1) / self.grow)
        x = jax.random.uniform(domain, (self.points, 3), minval=-1.0, maxval=1.0)
        x = x.at[:, 2].set((x[:, 2] + 1.0) * window - 1.0)
        x0 = jax.random.uniform(start, (self.initial, 3), minval=-1.0, maxval=1.0)
        return x, x0.at[:, 2].set(-1.0)

    def equations(self, batch, field_jets):
        """The equation (scaled to order one) and the initial values and velocities."""
        x, x0 = batch
        j, j0 = field_jets(x), field_jets(x0)
        p = self.problem
        ut2 = (2.0 / p.duration) ** 2 / p.c**2  # d^2/dt^2 over c^2, in tau
        pde = (ut2 * j["dd"][2] - j["dd"][0] - j["dd"][1]) / (1.0 + ut2)
        u0 = p.initial(x0[:, :2])
        return [(pde, jnp.zeros(x.shape[0]), 1.0), (j0["u"], u0, self.weight),
                (j0["d"][2], jnp.zeros_like(u0), self.weight)]  # fmt: skip

"""instant-ngp's occupancy grid: which cells of the scene's box may hold density.

A coarse grid of ``G^3`` cells over the scene's box keeps, per cell, a
running estimate of the field's density (Müller et al. 2022, Sec. 4;
nerfacc's ``OccGridEstimator``): every few training steps each cell's
value decays (``decay``) and is raised to the density the field has at a
random point of the cell, ``rho <- max(decay * rho, sigma(x))``.  A cell is
*occupied* when its value exceeds ``min(mean, threshold)`` (so a field
that is thin everywhere early in training keeps its densest cells), and
the occupied set is dilated by one cell, so a sample whose cell was
evaluated at a thin point beside a dense one is still kept.  Samples in
empty cells are skipped: the field never sees them.

Everything is static-shaped (the grid is ``G^3``; updates evaluate every
cell in one batch) and the grid is a pytree, so it lives inside a fit's
compiled loop as the objective's state.
"""

from __future__ import annotations

from typing import Annotated

import flax.struct
import jax
import jax.numpy as jnp

__all__ = ["OccupancyGrid"]


@flax.struct.dataclass
class OccupancyGrid:
    """A density estimate and an occupancy bit per cell of the box ``[lo, hi]^3``.

    Attributes:
      density: ``(G, G, G)`` each cell's running density, indexed ``[x, y, z]``.
      occupied: ``(G, G, G)`` bool, the cells whose samples are evaluated.
      lo: ``(3,)`` the box's lower corner (static).
      hi: ``(3,)`` its upper corner (static).
    """

    density: Annotated[jax.Array, "G G G"]
    occupied: Annotated[jax.Array, "G G G"]
    lo: tuple = flax.struct.field(pytree_node=False)
    hi: tuple = flax.struct.field(pytree_node=False)

    @classmethod
    def create(cls, lo, hi, resolution: int = 64) -> OccupancyGrid:
        """Every cell occupied: training starts by seeing everything."""
        shape = (resolution,) * 3
        lo, hi = tuple(map(float, lo)), tuple(map(float, hi))
        return cls(jnp.zeros(shape, jnp.float32), jnp.ones(shape, bool), lo, hi)

    @property
    def resolution(self) -> int:
        return self.density.shape[0]

    def cells(self, points: Annotated[jax.Array, "n 3"]) -> tuple[jax.Array, jax.Array]:
        """``(integer cell (n, 3), inside the box (n,))`` of world points."""
        lo, hi = jnp.asarray(self.lo), jnp.asarray(self.hi)
        u = (points - lo) / (hi - lo) * self.resolution
        inside = jnp.all((u >= 0) & (u < self.resolution), axis=-1)
        return jnp.clip(jnp.floor(u).astype(jnp.int32), 0, self.resolution - 1), inside

    def lookup(self, points: Annotated[jax.Array, "... 3"]) -> Annotated[jax.Array, "..."]:
        """Whether each point's cell is occupied (``False`` outside the box)."""
        flat = points.reshape(-1, 3)
        cell, inside = self.cells(flat)
        hit = self.occupied[cell[:, 0], cell[:, 1], cell[:, 2]] & inside
        return hit.reshape(points.shape[:-1])

    def update(self, density_fn, key, decay: float = 0.95, threshold: float = 0.01):
        """The grid after one update from ``density_fn`` (world points ``(n, 3)`` -> ``(n,)``).

        Each cell is evaluated at a uniform random point of it (``key``).
        ``threshold`` is the density below which a cell may be empty.
        """
        g = self.resolution
        index = jnp.stack(jnp.meshgrid(*(jnp.arange(g),) * 3, indexing="ij"), -1).reshape(-1, 3)
        lo, hi = jnp.asarray(self.lo), jnp.asarray(self.hi)
        u = (index + jax.random.uniform(key, index.shape)) / g
        sigma = jax.lax.stop_gradient(density_fn(lo + u * (hi - lo))).reshape(g, g, g)
        density = jnp.maximum(decay * self.density, sigma)
        dense = density > jnp.minimum(jnp.mean(density), threshold)
        occupied = jax.lax.reduce_window(dense, False, jax.lax.bitwise_or, (3, 3, 3), (1, 1, 1),
                                         "SAME")  # fmt: skip
        return self.replace(density=density, occupied=occupied)

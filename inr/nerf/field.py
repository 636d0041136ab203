"""Radiance fields: a density and a view-dependent colour at every point.

A radiance field model maps points ``x`` ``(n, 3)`` in the scene box's
coordinates ([-1, 1]^3) and unit view directions ``d`` ``(n, 3)`` to
densities ``(n,)`` >= 0 and colours ``(n, 3)`` in [0, 1], and its
``density(x)`` method gives the densities alone (what an occupancy grid
is updated from).  Any Flax module with both is a radiance field to the
fits of :mod:`inr.nerf`; two are here:

* :class:`NGPField`, instant-ngp's (Müller et al. 2022, Sec. 5.4): a hash
  grid and a one-layer MLP give the density (through a truncated
  exponential) and 15 geometry features; those and the spherical
  harmonics of the direction (degree 4) feed a two-layer colour MLP;
* :class:`NeRFField`, NeRF's (Mildenhall et al. 2020): positional encodings
  of the point (10 octaves) and direction (4), an MLP of ``depth`` layers
  with the input again at the middle, a density head and a colour branch.
"""

from __future__ import annotations

from typing import Annotated

import flax.linen as nn
import jax
import jax.numpy as jnp

from inr.nn.encodings import PositionalEncoding, SphericalHarmonics
from inr.nn.hashgrid import HashGrid

__all__ = ["NGPField", "NeRFField", "trunc_exp"]

Points = Annotated[jax.Array, "n 3"]


@jax.custom_jvp
def trunc_exp(x: jax.Array) -> jax.Array:
    """``exp(x)`` whose derivative is ``exp(min(x, 15))``: instant-ngp's density activation."""
    return jnp.exp(x)


@trunc_exp.defjvp
def _trunc_exp_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    return jnp.exp(x), t * jnp.exp(jnp.minimum(x, 15.0))


def _ngp_grid() -> HashGrid:
    # 16 levels from 16 to 2048 cells a side (growth 2048/16 over 15 steps), 2^19 rows.
    return HashGrid(levels=16, features=2, log2_table_size=19, base_resolution=16, growth=1.3819)


class NGPField(nn.Module):
    """instant-ngp's radiance field (the module docstring).

    Attributes:
      grid: the hash encoding of the point (default instant-ngp's 16
        levels, 16 to 2048 cells a side, 2^19 rows of 2 features).
      hidden: the MLPs' width (64).
      geometry: the geometry features passed to the colour MLP (15).
      colour_layers: the colour MLP's hidden layers (2).
      sh_degree: the direction's spherical-harmonics degree (4: 16 values).
    """

    grid: HashGrid | None = None
    hidden: int = 64
    geometry: int = 15
    colour_layers: int = 2
    sh_degree: int = 4

    def setup(self):
        self.encode = self.grid if self.grid is not None else _ngp_grid()
        self.base = [nn.Dense(self.hidden), nn.Dense(1 + self.geometry)]
        self.sh = SphericalHarmonics(self.sh_degree)
        self.head = [nn.Dense(self.hidden) for _ in range(self.colour_layers)] + [nn.Dense(3)]

    def _base(self, x: Points):
        h = self.base[1](nn.relu(self.base[0](self.encode(x))))
        return trunc_exp(h[:, 0]), h[:, 1:]

    def density(self, x: Points) -> Annotated[jax.Array, "n"]:
        return self._base(x)[0]

    def __call__(self, x: Points, d: Points):
        sigma, features = self._base(x)
        h = jnp.concatenate([features, self.sh(d)], axis=-1)
        for layer in self.head[:-1]:
            h = nn.relu(layer(h))
        return sigma, nn.sigmoid(self.head[-1](h))


class NeRFField(nn.Module):
    """NeRF's radiance field (the module docstring), of any width and depth.

    Attributes:
      width: the main MLP's width (NeRF: 256).
      depth: its layers (NeRF: 8; the input joins again after half of them).
      position_octaves: the point's positional encoding (10).
      direction_octaves: the direction's (4).
    """

    width: int = 256
    depth: int = 8
    position_octaves: int = 10
    direction_octaves: int = 4

    def setup(self):
        self.pe_x = PositionalEncoding(self.position_octaves)
        self.pe_d = PositionalEncoding(self.direction_octaves)
        self.trunk = [nn.Dense(self.width) for _ in range(self.depth)]
        self.sigma = nn.Dense(1)
        self.features = nn.Dense(self.width)
        self.branch = nn.Dense(self.width // 2)
        self.rgb = nn.Dense(3)

    def _trunk(self, x: Points):
        e = self.pe_x(x)
        h = e
        for i, layer in enumerate(self.trunk):
            if i == self.depth // 2 and i > 0:
                h = jnp.concatenate([h, e], axis=-1)
            h = nn.relu(layer(h))
        return nn.relu(self.sigma(h)[:, 0]), h

    def density(self, x: Points) -> Annotated[jax.Array, "n"]:
        return self._trunk(x)[0]

    def __call__(self, x: Points, d: Points):
        sigma, h = self._trunk(x)
        h = nn.relu(self.branch(jnp.concatenate([self.features(h), self.pe_d(d)], axis=-1)))
        return sigma, nn.sigmoid(self.rgb(h))

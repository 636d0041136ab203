"""``HashGrid``: the multiresolution hash encoding as a Flax module.

The encoding itself (levels, the spatial hash, the interpolation and its
derivatives) is :mod:`inr.nn.hash_encoding`; ``implementation="pallas"``
runs it by the fused kernels of :mod:`inr.nn.hash_kernel`.  Parameters are
float32; the table may be kept in bfloat16 (``param_dtype``), as
instant-ngp keeps it in half precision.
"""

from __future__ import annotations

import math
from typing import Annotated

import flax.linen as nn
import jax
import jax.numpy as jnp

from inr.nn.hash_encoding import GridSpec, encode, grid_layout
from inr.nn.siren import check_sizes

__all__ = ["IMPLEMENTATIONS", "INTERPOLATIONS", "HashGrid"]

INTERPOLATIONS = ("linear", "smoothstep")
IMPLEMENTATIONS = ("xla", "pallas")


class HashGrid(nn.Module):
    """``(..., d) -> (..., levels * features)``, ``d`` = 1 to 3, coordinates in [-1, 1].

    One axis (audio) is a multiresolution 1-D grid, two an image, three a
    volume or a video (``(x, y, t)``, as instant-ngp encodes both).

    Compose it like the other encodings::

        inr.MLP(64, hidden_layers=1, out_features=3, encoding=inr.HashGrid())

    Attributes:
      levels: ``L``, the number of resolutions.
      features: ``F`` per level.
      log2_table_size: ``log2 T``, rows per hashed level (19 in the paper's
        image experiments).
      base_resolution: ``N_min``, the coarsest level's cells per side.
      growth: ``b``, the factor between consecutive resolutions.
      interpolation: ``"linear"`` (the paper's) or ``"smoothstep"`` (see
        the module docstring).
      init_scale: features start uniform in ``[-init_scale, init_scale]``
        (the paper's ``1e-4``).
      param_dtype: the table's dtype (float32; bfloat16 halves its memory).
      implementation: ``"xla"`` (one gather; every derivative) or
        ``"pallas"`` (:mod:`inr.nn.hash_kernel`: fused GPU kernels for the
        values and, in reverse mode only, their gradients, which is what a
        fit of values takes; off a GPU they run in Pallas's slow
        interpreter).
    """

    levels: int = 16
    features: int = 2
    log2_table_size: int = 19
    base_resolution: int = 16
    growth: float = 2.0
    interpolation: str = "linear"
    init_scale: float = 1e-4
    param_dtype: jnp.dtype = jnp.float32
    implementation: str = "xla"

    def __post_init__(self):
        check_sizes(self, levels=1, features=1, log2_table_size=1, base_resolution=1)
        if self.log2_table_size > 30:
            raise ValueError(f"log2_table_size must be <= 30; got {self.log2_table_size}")
        growth = self.growth
        if isinstance(growth, bool) or not isinstance(growth, (int, float)) or not growth >= 1:
            raise ValueError(f"growth must be a number >= 1; got {growth!r}")
        if self.interpolation not in INTERPOLATIONS:
            raise ValueError(
                f"interpolation must be one of {INTERPOLATIONS}; got {self.interpolation!r}"
            )
        if self.implementation not in IMPLEMENTATIONS:
            raise ValueError(
                f"implementation must be one of {IMPLEMENTATIONS}; got {self.implementation!r}"
            )
        top = self.base_resolution * growth ** (self.levels - 1)
        if not math.isfinite(top) or top >= 2**24:
            raise ValueError(
                f"the finest level's resolution ({top:.3g}) must be < 2^24, where float32 "
                "positions still resolve a cell; lower levels, growth or base_resolution"
            )
        super().__post_init__()

    def layout(self, dims: int):
        """:func:`grid_layout` of this grid for ``dims``-dimensional inputs."""
        return grid_layout(
            dims, self.levels, 2**self.log2_table_size, self.base_resolution, self.growth
        )

    def spec(self, dims: int) -> GridSpec:
        """The static description of this grid that :func:`encode` takes."""
        res, _, dense, offset = self.layout(dims)
        return GridSpec(
            tuple(int(r) for r in res),
            tuple(bool(b) for b in dense),
            tuple(int(o) for o in offset),
            2**self.log2_table_size,
            self.interpolation == "smoothstep",
        )

    @nn.compact
    def __call__(self, x: Annotated[jax.Array, "... d"]) -> Annotated[jax.Array, "... e"]:
        d = x.shape[-1]
        if d not in (1, 2, 3):
            raise ValueError(f"HashGrid encodes 1-D, 2-D or 3-D points; got {d} coordinates")
        _, rows, _, _ = self.layout(d)
        init = nn.initializers.uniform(2 * self.init_scale)
        table = self.param(
            "table",
            lambda key, shape, dtype: init(key, shape, dtype) - jnp.asarray(self.init_scale, dtype),
            (int(rows.sum()), self.features),
            self.param_dtype,
        )
        flat = x.reshape(-1, d)
        if self.implementation == "pallas":
            # Imported on use: Pallas is experimental, and only this path needs it
            # (the kernels import the encoding's functions, never this module).
            from inr.nn.hash_kernel import encode_pallas

            out = encode_pallas(flat, table, self.spec(d))
        else:
            out = encode(flat, table, self.spec(d))
        return out.reshape(*x.shape[:-1], self.levels * self.features)

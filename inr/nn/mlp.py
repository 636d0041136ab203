"""The ReLU baseline: a plain MLP, optionally behind a coordinate encoding."""

from __future__ import annotations

from typing import Annotated

import flax.linen as nn
import jax
import jax.numpy as jnp

from inr.nn.siren import check_dtype, check_sizes

__all__ = ["MLP"]


class MLP(nn.Module):
    """``(..., in) -> (..., out_features)``, ReLU hidden layers, linear output.

    Same layer count as :class:`inr.Siren` for the same ``hidden_layers``.
    Compose with an encoding for the usual baselines::

        nn.Sequential([inr.PositionalEncoding(10), inr.MLP(out_features=3)])

    Attributes:
      hidden_features: width of every hidden layer.
      hidden_layers: number of hidden-to-hidden layers.
      out_features: output channels.
      encoding: optional module applied to the input first.
      dtype: the dtype of the hidden layers' matmul operands and activations
        (``None``: float32).  ``jnp.bfloat16`` runs them on a GPU's or TPU's
        bfloat16 units, as tiny-cuda-nn runs its MLP in half precision.
        The parameters stay float32, and so do the encoding (its features are
        rounded on entry to the first layer) and the output layer (a
        ``hidden x out_features`` product, computed in float32 so that the
        values the loss sees are not rounded).
    """

    hidden_features: int = 256
    hidden_layers: int = 3
    out_features: int = 1
    encoding: nn.Module | None = None
    dtype: jnp.dtype | None = None

    def __post_init__(self):
        check_sizes(self, hidden_features=1, hidden_layers=0, out_features=1)
        check_dtype(self)
        super().__post_init__()

    @nn.compact
    def __call__(self, x: Annotated[jax.Array, "... in"]) -> Annotated[jax.Array, "... out"]:
        if self.encoding is not None:
            x = self.encoding(x)
        for _ in range(self.hidden_layers + 1):
            x = nn.relu(nn.Dense(self.hidden_features, dtype=self.dtype)(x))
        return nn.Dense(self.out_features, dtype=jnp.float32)(x)

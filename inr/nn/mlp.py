"""The ReLU baseline: a plain MLP, optionally behind a coordinate encoding."""

from __future__ import annotations

from typing import Annotated

import flax.linen as nn
import jax

from inr.nn.siren import check_sizes

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
    """

    hidden_features: int = 256
    hidden_layers: int = 3
    out_features: int = 1
    encoding: nn.Module | None = None

    def __post_init__(self):
        check_sizes(self, hidden_features=1, hidden_layers=0, out_features=1)
        super().__post_init__()

    @nn.compact
    def __call__(self, x: Annotated[jax.Array, "... in"]) -> Annotated[jax.Array, "... out"]:
        if self.encoding is not None:
            x = self.encoding(x)
        for _ in range(self.hidden_layers + 1):
            x = nn.relu(nn.Dense(self.hidden_features)(x))
        return nn.Dense(self.out_features)(x)

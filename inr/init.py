"""Learned initialisations: where a fit starts, and the rates it steps at.

An :class:`Init` holds a network's parameters and the inner learning rates
they were meta-learned with (per parameter: Meta-SGD; one per tensor:
MAML).  Every fit takes it as ``init=``: it starts from its parameters
and, unless given an ``optimizer``, steps with SGD at its rates
(:attr:`Init.optimizer`, :func:`learned_sgd`), the update it was learned
for.  :mod:`inr.meta` learns them (``meta_train``), saves and loads them
(``load_init("pretrained:celeba-init")``).
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import flax.struct
import jax
import numpy as np
import optax

from inr._cards import terms_note
from inr.signal import Layout, OnLayout

__all__ = ["Init", "learned_sgd"]


def learned_sgd(rates) -> optax.GradientTransformation:
    """SGD at fixed per-parameter ``rates`` (a pytree like the parameters), as optax.

    ``p <- p - rates * grad``.  The rates are held as constants of the
    transformation, so one object serves every fit from the same
    initialisation (and its compiled fit is reused).
    """
    rates = jax.tree.map(lambda a: np.asarray(a, np.float32), rates)

    def update(grads, state, params=None):
        del params
        return jax.tree.map(lambda a, g: -a * g, rates, grads), state

    return optax.GradientTransformation(lambda params: optax.EmptyState(), update)


@flax.struct.dataclass
class Init(OnLayout):
    """A learned initialisation.

    Attributes:
      params: the network's starting parameters.
      rates: the inner SGD learning rates, a pytree like ``params`` whose
        leaves broadcast against them.
      model: the Flax module (static).
      layout: the training signals' :class:`~inr.signal.Layout` (static).
      inner_steps: the inner steps it was meta-learned for (static).
      card: the model card's record: data, steps, scores, licence (static).
    """

    params: Any
    rates: Any
    model: nn.Module = flax.struct.field(pytree_node=False)
    layout: Layout = flax.struct.field(pytree_node=False)
    inner_steps: int = flax.struct.field(pytree_node=False, default=3)
    card: dict = flax.struct.field(pytree_node=False, default_factory=dict)

    def __post_init__(self):
        # One optimiser object per Init, so its fits compile once.
        object.__setattr__(self, "_optimizer", learned_sgd(self.rates))

    @property
    def optimizer(self) -> optax.GradientTransformation:
        """SGD at the learned rates."""
        return self._optimizer

    def __repr__(self) -> str:
        return (
            f"Init({type(self.model).__name__}, shape {self.shape}, "
            f"{self.inner_steps} inner steps, {self.card.get('name', 'unnamed')}"
            f"{terms_note(self.card)})"
        )

"""Learned initialisations: where a fit starts, and the rates it steps at.

An :class:`Init` holds a network's parameters and the inner learning rates
they were meta-learned with (per parameter: Meta-SGD; one per tensor:
MAML; see :mod:`inr.meta.inner`).  :func:`inr.fit_signal`,
:func:`inr.fit_image` and :func:`inr.fit_images` take it as ``init=``:
they start from its parameters and, unless given an ``optimizer``, step
with SGD at its rates (:attr:`Init.optimizer`), the update it was learned
for.  It saves and loads as one file (:mod:`inr.meta.files`), like the
shipped weights: ``load_init("pretrained:celeba-init")``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import flax.linen as nn
import flax.struct
import jax
import jax.numpy as jnp

from inr._cards import terms_note
from inr.meta import files
from inr.meta.inner import learned_sgd
from inr.nn.siren import Siren

__all__ = ["PRETRAINED_INITS", "Init", "load_init", "save_init"]

PRETRAINED_INITS = ("celeba-init",)


@flax.struct.dataclass
class Init:
    """A learned initialisation.

    Attributes:
      params: the network's starting parameters.
      rates: the inner SGD learning rates, a pytree like ``params`` whose
        leaves broadcast against them.
      model: the Flax module (static).
      shape: the training signals' shape, ``(N_1, .., N_d, C)`` (static).
      dims: their number of coordinate axes (static).
      value_range: their values' range (static).
      inner_steps: the inner steps it was meta-learned for (static).
      card: the model card's record: data, steps, scores, licence (static).
    """

    params: Any
    rates: Any
    model: nn.Module = flax.struct.field(pytree_node=False)
    shape: tuple = flax.struct.field(pytree_node=False)
    dims: int = flax.struct.field(pytree_node=False, default=2)
    value_range: tuple = flax.struct.field(pytree_node=False, default=(0.0, 1.0))
    inner_steps: int = flax.struct.field(pytree_node=False, default=3)
    card: dict = flax.struct.field(pytree_node=False, default_factory=dict)

    def __post_init__(self):
        # One optimiser object per Init, so its fits compile once.
        object.__setattr__(self, "_optimizer", learned_sgd(self.rates))

    @property
    def optimizer(self):
        """SGD at the learned rates, as an ``optax.GradientTransformation``."""
        return self._optimizer

    def __repr__(self) -> str:
        return (
            f"Init({type(self.model).__name__}, shape {self.shape}, "
            f"{self.inner_steps} inner steps, {self.card.get('name', 'unnamed')}"
            f"{terms_note(self.card)})"
        )


def save_init(path, init: Init) -> Path:
    """Write ``init`` (network spec, parameters, rates, card) to one file, atomically."""
    if not isinstance(init, Init):
        raise ValueError(f"init must be an inr.meta.Init; got {type(init).__name__}")
    return files.save(path, "init", init, (Siren,))


def _template(model: nn.Module, card: dict) -> dict:
    params = jax.eval_shape(lambda: model.init(jax.random.PRNGKey(0), jnp.zeros((1, card["dims"]))))
    return {"params": params, "rates": params}


def load_init(name_or_path) -> Init:
    """An :class:`Init` from a file of :func:`save_init` or ``"pretrained:celeba-init"``."""
    return files.load(Init, name_or_path, "init", PRETRAINED_INITS, _template, (Siren,))

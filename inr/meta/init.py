"""Saving and loading learned initialisations (:class:`inr.init.Init`).

An :class:`~inr.init.Init` saves and loads as one file
(:mod:`inr.meta.files`), like the shipped weights:
``load_init("pretrained:celeba-init")``.
"""

from __future__ import annotations

from pathlib import Path

import flax.linen as nn
import jax
import jax.numpy as jnp

from inr.init import Init
from inr.meta import files
from inr.nn.siren import Siren

__all__ = ["PRETRAINED_INITS", "load_init", "save_init"]

PRETRAINED_INITS = ("celeba-init",)


def save_init(path, init: Init) -> Path:
    """Write ``init`` (network spec, parameters, rates, card) to one file, atomically."""
    if not isinstance(init, Init):
        raise ValueError(f"init must be an inr.Init; got {type(init).__name__}")
    return files.save(path, "init", init, (Siren,))


def _template(model: nn.Module, card: dict) -> dict:
    x = jnp.zeros((1, card["dims"]))
    params = jax.eval_shape(lambda: model.init(jax.random.PRNGKey(0), x))
    return {"params": params, "rates": params}


def load_init(name_or_path) -> Init:
    """An :class:`~inr.Init` from a file of :func:`save_init` or ``"pretrained:celeba-init"``."""
    return files.load(Init, name_or_path, "init", PRETRAINED_INITS, _template, (Siren,))

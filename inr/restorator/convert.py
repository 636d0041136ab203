"""A diffusion restorator that starts as a trained single pass.

:func:`to_diffusion` turns a single-pass :class:`Restorator` into a
diffusion one (``prediction="x0"``) whose every denoiser call returns the
single pass's residual, whatever ``x_t`` and ``t`` are.  The reverse process
then ends exactly at the single pass's output, for any sampler (at the last
visited step ``alpha_bar' = 1``, so ``x_0`` is the last ``x0`` prediction),
and fine-tuning on the denoising loss starts from the single pass instead
of from random weights.  This is the diffusion analogue of a warm start;
FranNet trains its denoiser from scratch.  The loss is not the single
pass's, so fine-tuning can move the samples away from the single pass as
well as past it.

How: the diffusion decoder reads two more inputs per point, the noisy
residual ``x_t`` (3 channels) and the step's embedding, inserted after the
base colour (:meth:`RestoratorNet._residual`).  Their rows of the first
layer's kernel start at zero, every other parameter is copied, and the
output layer is divided by ``diffusion_scale`` because the denoiser
predicts the residual in those units.
"""

from __future__ import annotations

import dataclasses
import re

import jax
import jax.numpy as jnp
import numpy as np
from flax import traverse_util

from inr.restorator.model import RestoratorNet
from inr.restorator.trained import Restorator

__all__ = ["to_diffusion"]


def _last_dense(paths) -> tuple:
    """The decoder's output layer: its highest-numbered ``Dense`` (created last)."""
    numbered = [
        (int(m.group(1)), path[:-1])
        for path in paths
        if path[:2] == ("params", "decoder") and len(path) == 4
        if (m := re.fullmatch(r"Dense_(\d+)", path[2]))
    ]
    return max(numbered)[1]


def _tail(config) -> int:
    """Decoder input channels after the diffusion inputs: the transfer and the cell."""
    transfer = 3 + sum(config.texture) + 1 if config.reference else 0
    return transfer + (2 if config.cell else 0)


def to_diffusion(single: Restorator, **changes) -> Restorator:
    """A ``prediction="x0"`` diffusion restorator that samples ``single``'s output.

    Args:
      single: a trained single-pass restorator.
      changes: diffusion fields of :class:`RestoratorConfig` to set
        (``num_steps``, ``schedule``, ``diffusion_scale``); the architecture
        stays ``single``'s.

    Returns a :class:`Restorator` whose denoiser ignores ``x_t`` and ``t``
    until trained (see the module docstring).
    """
    if not isinstance(single, Restorator):
        raise ValueError(f"single must be a Restorator; got {single!r}")
    if single.config.restorator != "single":
        kind = single.config.restorator
        raise ValueError(f"single must be a single-pass restorator; got {kind!r}")
    allowed = {"num_steps", "schedule", "diffusion_scale"}
    if set(changes) - allowed:
        raise ValueError(f"changes may set {sorted(allowed)} only; got {sorted(changes)}")
    config = dataclasses.replace(single.config, restorator="diffusion", prediction="x0", **changes)
    n, c = config.input_size, config.in_channels
    shapes = jax.eval_shape(
        RestoratorNet(config).init,
        jax.random.PRNGKey(0),
        jnp.zeros((1, n, n, c)),
        jnp.zeros((1, 1, 2)),
        jnp.ones((1, 2)),
    )
    old = traverse_util.flatten_dict(jax.device_get(single.params))
    new_shapes = traverse_util.flatten_dict(shapes)
    if set(old) != set(new_shapes):
        raise ValueError("single's parameters do not match its config")
    out_layer = _last_dense(old)
    params = {}
    for path, value in old.items():
        value = np.asarray(value, np.float32)
        shape = tuple(new_shapes[path].shape)
        if value.shape != shape:  # the first layer's kernel: rows for x_t and t
            at = value.shape[0] - _tail(config)
            extra = np.zeros((shape[0] - value.shape[0], shape[1]), np.float32)
            value = np.concatenate([value[:at], extra, value[at:]])
        if path[:-1] == out_layer:
            value = value / config.diffusion_scale
        params[path] = jnp.asarray(value)
    return Restorator(traverse_util.unflatten_dict(params), config)

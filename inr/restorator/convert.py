"""New restorators that start as trained ones: a diffusion model, a deeper encoder.

Each function here returns a model of a larger architecture whose output
is, before any training, exactly its argument's, so that fine-tuning the
new capacity starts from what was learnt instead of from random weights.

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

:func:`deepen` gives a trained encoder EDSR's body (Lim et al. 2017) at its
finest scale, ``residual_blocks`` blocks of its finest width (the
:class:`~inr.restorator.encoder.Body`).  The body is the identity while its
closing convolution is zero, so that convolution starts at zero and every
other new parameter at its usual initialisation (each block's second
kernel is zero too, Fixup's start); the old parameters are copied.  Adam's
first step moves the closing convolution off zero, the next ones the
blocks behind it.  This is the net-to-deeper-net warm start (Chen et al.
2016, "Net2Net").  A body that exists already grows the same way: the new
blocks go after the trained ones, before the trained closing convolution,
and each is the identity while its second kernel is zero.
"""

from __future__ import annotations

import dataclasses
import functools
import re

import jax
import jax.numpy as jnp
import numpy as np
from flax import traverse_util

from inr.restorator.inference import Restorator, derived_card, init_params
from inr.restorator.step import INIT_COMPILER_OPTIONS

__all__ = ["deepen", "to_diffusion"]


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
    if single.config.decoding != "single":
        kind = single.config.decoding
        raise ValueError(f"single must be a single-pass restorator; got {kind!r}")
    allowed = {"num_steps", "schedule", "diffusion_scale"}
    if set(changes) - allowed:
        raise ValueError(f"changes may set {sorted(allowed)} only; got {sorted(changes)}")
    config = dataclasses.replace(single.config, decoding="diffusion", prediction="x0", **changes)
    old = traverse_util.flatten_dict(jax.device_get(single.params))
    shapes = jax.eval_shape(functools.partial(init_params, config), jax.random.PRNGKey(0))
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
    return Restorator(traverse_util.unflatten_dict(params), config, derived_card(single))


def deepen(model: Restorator, residual_blocks: int, **changes) -> Restorator:
    """``model`` with EDSR's body of ``residual_blocks`` blocks, computing the same function.

    Args:
      model: a trained restorator; its encoder's body, if it has one, is
        kept and grown.
      residual_blocks: blocks of the new body (EDSR-baseline: 16), more
        than ``model`` has.
      changes: an upscaler's ``input_size`` (the side of its training
        crops), the one other field that may change: it has no parameters,
        and an upscaler encodes any input size as it is (the other tasks
        resize their input to ``input_size``, so theirs stays).

    Returns a :class:`Restorator` whose new parameters are random except
    each new block's second kernel and, for a new body, its closing
    convolution, which are zero (see the module docstring).
    """
    if not isinstance(model, Restorator):
        raise ValueError(f"model must be a Restorator; got {model!r}")
    if isinstance(residual_blocks, bool) or not isinstance(residual_blocks, int):
        raise ValueError(f"residual_blocks must be an int; got {residual_blocks!r}")
    have = model.config.residual_blocks
    if residual_blocks <= have:
        raise ValueError(
            f"residual_blocks must be more than model's {have} (a deeper body); "
            f"got {residual_blocks}"
        )
    if set(changes) - {"input_size"}:
        raise ValueError(f"changes may set ['input_size'] only; got {sorted(changes)}")
    size = changes.get("input_size", model.config.input_size)
    if model.config.task != "upscale" and size != model.config.input_size:
        raise ValueError(
            f"input_size of a {model.config.task!r} model is what it resizes its input to; "
            f"it stays {model.config.input_size}, got {size}"
        )
    config = dataclasses.replace(model.config, residual_blocks=residual_blocks, **changes)
    # Fresh parameters for the body from a key of its own: the same model
    # deepened twice gives the same weights.
    key = jax.random.PRNGKey(residual_blocks)
    lowered = jax.jit(init_params, static_argnums=0).lower(config, key)
    fresh = lowered.compile(compiler_options=INIT_COMPILER_OPTIONS)(key)
    fresh = traverse_util.flatten_dict(jax.device_get(fresh))
    old = traverse_util.flatten_dict(jax.device_get(model.params))
    new = {path for path in fresh if path not in old}
    if set(old) - set(fresh) or any(path[:3] != ("params", "encoder", "body") for path in new):
        raise ValueError("model's parameters do not match its config")
    params = {path: jnp.asarray(old.get(path, value)) for path, value in fresh.items()}
    for path in new:
        # The identity: a new body's closing convolution is zero.  New blocks
        # are the identity by their own initialisation (second kernel zero).
        if path[3] == "Conv_0":
            params[path] = jnp.zeros_like(params[path])
    return Restorator(traverse_util.unflatten_dict(params), config, derived_card(model))

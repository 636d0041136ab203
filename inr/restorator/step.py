"""One training step of a restorator, as pure functions: the state, the loss, the update.

:func:`train_step` applies one optax update of the mean L1 or L2 colour
error (single pass) or denoising error (diffusion) at a batch's query
points, plus TTSR's optional image terms (:mod:`inr.restorator.losses`),
whose critic steps alongside.  :func:`init_state` builds the state it
updates.  :func:`inr.restorator.training.train_restorator` runs it in a loop.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import optax

from inr.diffusion import add_noise, prediction_target, random_steps
from inr.restorator.losses import Loss, as_patches
from inr.restorator.model import RestoratorNet

__all__ = ["INIT_COMPILER_OPTIONS", "batch_loss", "init_state", "train_step"]

# Initialisation runs once per run.  Optimised, its threefry hashing (one
# per parameter) compiles for longer than the training step itself (15 s
# against 6 s on a 2-core CPU); unoptimised it compiles in 2 s and draws the
# same numbers up to the last bits of the truncated normals.
INIT_COMPILER_OPTIONS = {"xla_backend_optimization_level": 0}


def _single_pass(params, net, batch):
    """A single-pass restorator's colours at the batch's points, ``(B, P, 3)``."""
    args = (batch["inputs"], batch["points"], batch["cell"])
    return net.apply(params, *args, reference=batch.get("reference"), present=batch.get("present"))


def batch_loss(params, net, batch, loss: Loss, key):
    """The pointwise error of one batch: colours (single pass) or denoising (diffusion).

    For diffusion each point draws its own step, uniform over every index
    (:func:`inr.diffusion.random_steps`), and its own noise; the clean value
    is the colour residual over the base divided by ``diffusion_scale``.
    """
    config = net.config
    reference = batch.get("reference"), batch.get("present")
    if config.decoding == "single":
        return loss.pointwise(_single_pass(params, net, batch) - batch["targets"])
    schedule = config.noise_schedule()
    maps, latent = net.apply(params, batch["inputs"], method=RestoratorNet.encode)
    transfer = None
    if config.reference:
        args = (batch["inputs"], *reference)
        transfer = net.apply(params, *args, method=RestoratorNet.encode_reference)
    base = net.apply(params, batch["inputs"], batch["points"], method=RestoratorNet.base)
    target = net.apply(params, batch["targets"], method=RestoratorNet.to_space)
    x0 = (target - base) / config.diffusion_scale
    k_t, k_eps = jax.random.split(key)
    t = random_steps(k_t, x0.shape[:-1], schedule)
    eps = jax.random.normal(k_eps, x0.shape)
    x_t = add_noise(x0, eps, t, schedule)
    args = (maps, latent, batch["inputs"], batch["points"], batch["cell"], x_t, t)
    pred = net.apply(params, *args, transfer, method=RestoratorNet.denoise)
    return loss.pointwise(pred - prediction_target(config.prediction, x0, eps, t, schedule))


def _with_image_terms(params, net, batch, loss: Loss, state):
    """The pointwise error plus the loss's image terms, and the output patches."""
    pred = _single_pass(params, net, batch)
    fake = as_patches(pred)
    textures = functools.partial(
        net.apply, jax.lax.stop_gradient(params), method=RestoratorNet.textures
    )
    extra = loss.image(fake, as_patches(batch["targets"]), state, textures)
    return loss.pointwise(pred - batch["targets"]) + extra, fake


def init_state(
    net: RestoratorNet, tx, key, points_per_image: int, loss: Loss | None = None
) -> dict:
    """The train state ``{"params", "opt_state", "step"}`` before step 0.

    Parameters depend on shapes alone, so one example's shapes are enough.
    With an adversarial term the state also holds what the loss trains
    beside the restorator (:meth:`~inr.restorator.losses.Loss.init_state`).
    """
    loss = Loss() if loss is None else loss
    n, c = net.config.input_size, net.config.in_channels
    # The key splits only then, so that a state without one is what it always was.
    net_key, terms_key = jax.random.split(key) if loss.trains_state else (key, None)
    params = net.init(
        net_key,
        jnp.zeros((1, n, n, c)),
        jnp.zeros((1, points_per_image, 2)),
        jnp.ones((1, 2)),
    )
    state = {"params": params, "opt_state": tx.init(params), "step": jnp.zeros((), jnp.int32)}
    if loss.trains_state:
        state.update(loss.init_state(terms_key))
    return state


def train_step(net: RestoratorNet, tx, loss: Loss, seed: int, state: dict, batch: dict):
    """One optax update on ``batch``: ``(state, loss value)``, a pure function to ``jit``.

    Args:
      net: the network (static).
      tx: the optimiser (static).
      loss: the :class:`~inr.restorator.losses.Loss` (static).
      seed: with ``state["step"]`` it keys the step's randomness (diffusion
        noise, the gradient penalty's blends).
      state: ``{"params", "opt_state", "step"}`` (and what the loss trains,
        see :func:`init_state`).
      batch: ``inputs (B, n, n, c)``, ``points (B, P, 2)``, ``targets
        (B, P, 3)``, ``cell (B, 2)`` (see :mod:`inr.restorator.examples`),
        split over any devices: the loss is the mean over the global batch.
        With image terms its points form patches, and what the loss trains
        (the critic) steps once per step, on the same outputs.
    """
    # The noise of step k is a function of (seed, k), like the batch: resumable.
    key = jax.random.fold_in(jax.random.PRNGKey(seed), state["step"])
    if not loss.judges_images:
        value, grads = jax.value_and_grad(batch_loss)(state["params"], net, batch, loss, key)
    else:
        grad_fn = jax.value_and_grad(_with_image_terms, has_aux=True)
        (value, fake), grads = grad_fn(state["params"], net, batch, loss, state)
    updates, opt_state = tx.update(grads, state["opt_state"], state["params"])
    params = optax.apply_updates(state["params"], updates)
    new = {**state, "params": params, "opt_state": opt_state, "step": state["step"] + 1}
    if loss.trains_state:
        new.update(loss.state_step(state, as_patches(batch["targets"]), fake, key))
    return new, value

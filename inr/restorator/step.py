"""One training step of a restorator, as pure functions: the state, the loss, the update.

:func:`train_step` applies one optax update of the mean L1 or L2 colour
error (single pass) or denoising error (diffusion) at a batch's query
points, plus TTSR's optional image terms (:mod:`inr.restorator.losses`),
whose critic steps alongside.  :func:`init_state` builds the state it
updates; :func:`make_optimizer` the optax chain of a recipe.
:func:`inr.restorator.train.train_restorator` runs it in a loop.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import optax

from inr.diffusion import add_noise, prediction_target, random_steps
from inr.restorator.losses import (
    Adversarial,
    Perceptual,
    as_patches,
    critic_step,
    image_terms,
    init_critic,
)
from inr.restorator.model import RestoratorNet
from inr.restorator.options import TrainConfig

__all__ = ["INIT_COMPILER_OPTIONS", "batch_loss", "init_state", "make_optimizer", "train_step"]

# Initialisation runs once per run.  Optimised, its threefry hashing (one
# per parameter) compiles for longer than the training step itself (15 s
# against 6 s on a 2-core CPU); unoptimised it compiles in 2 s and draws the
# same numbers up to the last bits of the truncated normals.
INIT_COMPILER_OPTIONS = {"xla_backend_optimization_level": 0}


def make_optimizer(train: TrainConfig) -> optax.GradientTransformation:
    """Adam (AdamW with ``weight_decay``), an optional global-norm clip, and the rate schedule."""
    if train.schedule == "cosine":
        warmup = min(200, max(1, train.steps // 20))
        end = max(train.steps, warmup + 1)
        rate = optax.warmup_cosine_decay_schedule(0.0, train.lr, warmup, end, train.lr / 100)
    else:
        rate = train.lr
    parts = [optax.clip_by_global_norm(train.clip)] if train.clip else []
    if train.weight_decay:
        return optax.chain(*parts, optax.adamw(rate, weight_decay=train.weight_decay))
    return optax.chain(*parts, optax.adam(rate))


def _error(err, kind):
    return jnp.mean(jnp.abs(err)) if kind == "l1" else jnp.mean(jnp.square(err))


def _single_pass(params, net, batch):
    """A single-pass restorator's colours at the batch's points, ``(B, P, 3)``."""
    args = (batch["inputs"], batch["points"], batch["cell"])
    return net.apply(params, *args, reference=batch.get("reference"), present=batch.get("present"))


def batch_loss(params, net, batch, kind, key):
    """Mean colour error (single pass) or denoising error (diffusion) of one batch.

    For diffusion each point draws its own step, uniform over every index
    (:func:`inr.diffusion.random_steps`), and its own noise; the clean value
    is the colour residual over the base divided by ``diffusion_scale``.
    """
    config = net.config
    reference = batch.get("reference"), batch.get("present")
    if config.restorator == "single":
        return _error(_single_pass(params, net, batch) - batch["targets"], kind)
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
    return _error(pred - prediction_target(config.prediction, x0, eps, t, schedule), kind)


def _with_image_terms(params, net, batch, kind, perceptual, adversarial, critic_params):
    """The reconstruction error plus TTSR's image terms, and the output patches."""
    pred = _single_pass(params, net, batch)
    fake = as_patches(pred)
    textures = functools.partial(
        net.apply, jax.lax.stop_gradient(params), method=RestoratorNet.textures
    )
    extra = image_terms(
        fake, as_patches(batch["targets"]), perceptual, adversarial, critic_params, textures
    )
    return _error(pred - batch["targets"], kind) + extra, fake


def init_state(
    net: RestoratorNet, tx, key, points_per_image: int, adversarial: Adversarial | None = None
) -> dict:
    """The train state ``{"params", "opt_state", "step"}`` before step 0.

    Parameters depend on shapes alone, so one example's shapes are enough.
    With ``adversarial`` the state also holds the critic's ``"critic"`` and
    ``"critic_opt_state"``.
    """
    n, c = net.config.input_size, net.config.in_channels
    net_key = key
    if adversarial is not None:
        net_key, critic_key = jax.random.split(key)
    params = net.init(
        net_key,
        jnp.zeros((1, n, n, c)),
        jnp.zeros((1, points_per_image, 2)),
        jnp.ones((1, 2)),
    )
    state = {"params": params, "opt_state": tx.init(params), "step": jnp.zeros((), jnp.int32)}
    if adversarial is not None:
        state.update(init_critic(adversarial, critic_key))
    return state


def train_step(
    net: RestoratorNet,
    tx,
    kind: str,
    seed: int,
    state: dict,
    batch: dict,
    perceptual: Perceptual | None = None,
    adversarial: Adversarial | None = None,
):
    """One optax update on ``batch``: ``(state, loss)``, a pure function to ``jit``.

    Args:
      net, tx: the network and the optimiser (static).
      kind: ``"l1"`` or ``"l2"``.
      seed: with ``state["step"]`` it keys the step's randomness (diffusion
        noise, the gradient penalty's blends).
      state: ``{"params", "opt_state", "step"}`` (and the critic's, see
        :func:`init_state`).
      batch: ``inputs (B, n, n, c)``, ``points (B, P, 2)``, ``targets
        (B, P, 3)``, ``cell (B, 2)`` (see :func:`inr.restorator.data.make_batch`),
        split over any devices: the loss is the mean over the global batch.
      perceptual, adversarial: TTSR's image terms (:mod:`inr.restorator.losses`;
        static), for a single-pass restorator and a ``query="patch"`` batch.
        The critic steps once per step, on the same outputs.
    """
    # The noise of step k is a function of (seed, k), like the batch: resumable.
    key = jax.random.fold_in(jax.random.PRNGKey(seed), state["step"])
    if perceptual is None and adversarial is None:
        loss, grads = jax.value_and_grad(batch_loss)(state["params"], net, batch, kind, key)
    else:
        terms = (net, batch, kind, perceptual, adversarial, state.get("critic"))
        grad_fn = jax.value_and_grad(_with_image_terms, has_aux=True)
        (loss, fake), grads = grad_fn(state["params"], *terms)
    updates, opt_state = tx.update(grads, state["opt_state"], state["params"])
    params = optax.apply_updates(state["params"], updates)
    new = {**state, "params": params, "opt_state": opt_state, "step": state["step"] + 1}
    if adversarial is not None:
        new.update(critic_step(adversarial, state, as_patches(batch["targets"]), fake, key))
    return new, loss

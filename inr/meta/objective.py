"""One outer step of meta-learning: draw signals, adapt to each, update the start.

The meta-parameters are ``{"params": theta, "rates": alpha}``.  What the
inner loop adapts depends on the network: every parameter of a plain
network (a learned initialisation, learnit), the ``"latent"`` alone of a
:class:`~inr.meta.ModulatedSiren`, which starts each signal at zero while
the shared weights are meta-learned (functa).  Everything is a pure
function of the state and the data, the draws of ``(seed, step)``, so a
resumed run repeats the uninterrupted one.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import optax

from inr.meta.config import MetaConfig
from inr.meta.functa import ModulatedSiren, with_latent
from inr.meta.inner import adapt, signal_loss

__all__ = ["draw_signals", "meta_step", "start_rates"]


def start_rates(model, params, config: MetaConfig):
    """The inner rates at the start: ``inner_lr`` for every adapted number."""
    if isinstance(model, ModulatedSiren):
        return jnp.full((model.latent_features,), config.inner_lr, jnp.float32)
    return jax.tree.map(lambda p: jnp.full(p.shape, config.inner_lr, jnp.float32), params)


def draw_signals(data: dict, config: MetaConfig, step) -> dict:
    """``config.batch`` signal stores drawn from ``data`` (all signals' store) at ``step``."""
    key = jax.random.fold_in(jax.random.PRNGKey(config.seed), step)
    pick = jax.random.randint(key, (config.batch,), 0, data["samples"].shape[0])
    shared = {k: v for k, v in data.items() if k != "samples"}
    shared = jax.tree.map(lambda v: jnp.broadcast_to(v, (config.batch, *v.shape)), shared)
    return {"samples": data["samples"][pick], **shared}


def _adapted(model, config: MetaConfig, meta, batch, step):
    """The parameters after the inner loop on one signal (inner batches vary with the step)."""
    first_order = config.method != "maml"
    offset = step * config.inner_steps
    if isinstance(model, ModulatedSiren):

        def latent_loss(z, k):
            params = with_latent(meta["params"], z)
            return signal_loss(model, params, batch, offset + k, config.points)

        start = jnp.zeros_like(meta["rates"])
        z = adapt(latent_loss, start, meta["rates"], config.inner_steps, first_order=first_order)
        return with_latent(meta["params"], z)

    def loss(p, k):
        return signal_loss(model, p, batch, offset + k, config.points)

    return adapt(loss, meta["params"], meta["rates"], config.inner_steps, first_order=first_order)


def _outer_loss(model, config: MetaConfig, meta, batches, step):
    """Mean loss after adaptation over the batch of signals (what MAML differentiates)."""

    def one(batch):
        adapted = _adapted(model, config, meta, batch, step)
        return signal_loss(model, adapted, batch, step, config.points)

    losses = jax.vmap(one)(batches)
    return jnp.mean(losses), losses


def _reptile(model, config: MetaConfig, meta, batches, step):
    """Reptile's direction ``theta - mean(theta_K)`` and the adapted losses."""

    def one(batch):
        adapted = _adapted(model, config, meta, batch, step)
        return adapted, signal_loss(model, adapted, batch, step, config.points)

    adapted, losses = jax.vmap(one)(batches)
    direction = jax.tree.map(lambda p, a: p - jnp.mean(a, axis=0), meta["params"], adapted)
    return {"params": direction, "rates": jax.tree.map(jnp.zeros_like, meta["rates"])}, losses


def meta_step(model, optimizer: optax.GradientTransformation, config: MetaConfig, state, data):
    """One outer step: ``(state, (mean loss, mean PSNR))`` after adaptation, before the update.

    ``state`` is ``{"meta", "opt_state", "step"}``; ``data`` every signal's
    store.  Fixed rates (``learn_rates=False``) are never updated.
    """
    step = state["step"]
    batches = draw_signals(data, config, step)
    if config.method == "reptile":
        grads, losses = _reptile(model, config, state["meta"], batches, step)
    else:
        objective = partial(_outer_loss, model, config)
        grads, losses = jax.grad(objective, has_aux=True)(state["meta"], batches, step)
    updates, opt_state = optimizer.update(grads, state["opt_state"], state["meta"])
    meta = optax.apply_updates(state["meta"], updates)
    if not config.learn_rates:
        meta = {**meta, "rates": state["meta"]["rates"]}
    # Network units span 2 for the value range, so its scale's MSE is a quarter.
    psnr = jnp.mean(-10.0 * jnp.log10(losses / 4.0))
    return {"meta": meta, "opt_state": opt_state, "step": step + 1}, (jnp.mean(losses), psnr)

"""Meta-training: a learned initialisation (learnit) or a functa, resumable.

:func:`meta_train` keeps every training signal on the device in its own
dtype, draws each outer step's batch there (:mod:`inr.meta.objective`)
and runs ``log_every`` outer steps as one compiled ``lax.scan``.  With
``checkpoints`` it saves through orbax (:mod:`inr.checkpoint`) and writes
``metrics.jsonl`` beside them; the state's step is the data position, so
an interrupted run resumed from its folder ends with the same parameters
as an uninterrupted one.
"""

from __future__ import annotations

import time
from functools import partial

import flax.linen as nn
import flax.traverse_util
import jax
import jax.numpy as jnp
import optax

from inr import checkpoint
from inr.checkpoint import MetricsLog, as_checkpoints, fingerprint
from inr.fit_options import model_and_optimizer
from inr.meta.config import MetaConfig
from inr.meta.functa import Functa, ModulatedSiren
from inr.meta.init import Init
from inr.meta.objective import meta_step, start_rates
from inr.signal import as_signal, store

__all__ = ["DEFAULT_OUTER", "meta_train"]

DEFAULT_OUTER = optax.adam(1e-5)
"""learnit's outer optimiser: Adam with learning rate 1e-5."""


@partial(jax.jit, static_argnums=(0, 1, 2, 3), donate_argnums=4)
def _train(model, optimizer, config, n_steps, state, data):
    """``n_steps`` outer steps as one ``lax.scan``; the per-step ``(loss, psnr)``."""

    def step(state, _):
        return meta_step(model, optimizer, config, state, data)

    return jax.lax.scan(step, state, None, length=n_steps)


def _start(model, optimizer, config: MetaConfig, dims: int, start):
    """The state at step 0: ``start``'s parameters over a fresh network's, rates at ``inner_lr``.

    ``start`` may hold some of the network's parameters (a learned init's
    SIREN layers under a functa's modulations); the rest stay fresh.
    """
    params = model.init(jax.random.PRNGKey(config.seed), jnp.zeros((1, dims), jnp.float32))
    if start is not None:
        fresh = flax.traverse_util.flatten_dict(params)
        # Copies: the state is donated to the training step, the caller keeps its arrays.
        given = flax.traverse_util.flatten_dict(jax.tree.map(jnp.array, start))
        wrong = [k for k in given if k not in fresh or fresh[k].shape != given[k].shape]
        if wrong:
            raise ValueError(f"start does not fit the network at {'/'.join(wrong[0])}")
        params = flax.traverse_util.unflatten_dict({**fresh, **given})
    meta = {"params": params, "rates": start_rates(model, params, config)}
    return {"meta": meta, "opt_state": optimizer.init(meta), "step": jnp.int32(0)}


def _changed(saved: dict, run: dict) -> list[str]:
    """The settings in which a saved run differs from ``run``.

    A setting a run does not record is its default (``None``): older runs resume.
    """
    return sorted(k for k in set(saved) | set(run) if saved.get(k) != run.get(k))


def _chunks(start: int, config: MetaConfig, save_every: int | None):
    """``(first, count)`` runs of steps, each ending at a log, a checkpoint or the end."""
    step = start
    while step < config.steps:
        ends = [config.steps, (step // config.log_every + 1) * config.log_every]
        if save_every:
            ends.append((step // save_every + 1) * save_every)
        stop = min(ends)
        yield step, stop - step
        step = stop


def _result(model, state, layout, config: MetaConfig, card: dict):
    kind = Functa if isinstance(model, ModulatedSiren) else Init
    meta = jax.device_get(state["meta"])
    return kind(
        params=jax.tree.map(jnp.asarray, meta["params"]),
        rates=jax.tree.map(jnp.asarray, meta["rates"]),
        model=model,
        shape=layout.shape,
        dims=layout.dims,
        value_range=layout.value_range,
        inner_steps=config.inner_steps,
        card={**card, "steps": int(state["step"]), "method": config.method},
    )


def _run(model, optimizer, config, state, data, saving, progress, start=None):
    """The outer loop from the state's step, saving and logging; returns the last state."""
    manager = None
    if saving is not None:
        signals = list(data["samples"].shape)
        run = {"config": config.record(), "model": repr(model), "signals": signals,
               "start": None if start is None else fingerprint(start)}  # fmt: skip
        manager, state = checkpoint.resume(saving, state, lambda saved: _changed(saved, run))
    resumed_at = int(state["step"])
    log = MetricsLog(None if manager is None else saving.directory / "metrics.jsonl", resumed_at)
    # Wall time counts across the pieces of a resumed run.
    began = time.perf_counter() - log.last.get("elapsed_s", 0.0)
    try:
        for first, n in _chunks(resumed_at, config, saving and saving.save_every):
            state, (loss, psnr) = _train(model, optimizer, config, n, state, data)
            done = first + n
            if done % config.log_every == 0 or done == config.steps:
                record = {"step": done, "loss": float(jnp.mean(loss)),
                          "psnr": float(jnp.mean(psnr)),
                          "elapsed_s": time.perf_counter() - began}  # fmt: skip
                log.write(record)
                if progress:
                    print(f"step {done:>6}/{config.steps}  loss {record['loss']:.3e}  "
                          f"psnr {record['psnr']:6.2f} dB", flush=True)  # fmt: skip
            if manager is not None and (done % saving.save_every == 0 or done == config.steps):
                checkpoint.save(manager, state, run)
    finally:
        if manager is not None:
            manager.close()
    return state, time.perf_counter() - began


def meta_train(
    signals,
    *,
    model: nn.Module | None = None,
    optimizer: optax.GradientTransformation | None = None,
    config: MetaConfig | None = None,
    checkpoints=None,
    progress: bool = False,
    dims: int | None = None,
    value_range=None,
    card: dict | None = None,
    start=None,
) -> Init | Functa:
    """Meta-learn where fits of signals like ``signals`` should start.

    Args:
      signals: the training signals, ``(N, N_1, .., N_d[, C])`` (conventions
        of :mod:`inr.signal`; uint8 images stay uint8 on the device), such as
        :func:`inr.meta.image_folder`'s faces.
      model: a plain network (default ``inr.Siren(out_features=C)``, 256 x
        3): every parameter is adapted, and the result is an
        :class:`~inr.meta.Init`; or a :class:`~inr.meta.ModulatedSiren`:
        the latent alone is adapted from zero, and the result is a
        :class:`~inr.meta.Functa`.
      optimizer: the outer ``optax.GradientTransformation``; default
        :data:`DEFAULT_OUTER` (learnit's Adam 1e-5).
      config: a :class:`~inr.meta.MetaConfig`: method, inner steps and rate,
        batch, steps, seed (``None``: its defaults).
      checkpoints: ``None``, a folder or an :class:`inr.Checkpoints`: saves
        (orbax, atomic) and ``metrics.jsonl`` there, resuming a run found
        there (the same settings only).
      progress: print a line every ``config.log_every`` steps.
      dims: as :func:`inr.fit_signals`.
      value_range: as :func:`inr.fit_signals`.
      start: parameters to start from instead of a fresh initialisation's,
        all or some (a learned init's ``params`` give a functa's SIREN
        layers; its modulation stays fresh).
      card: what the result's card records besides the run (name, data,
        licence, ...); the run adds its steps, method and ``wall_s``, the
        training's wall time in seconds over every resumed piece.

    Returns:
      An :class:`~inr.meta.Init` or a :class:`~inr.meta.Functa`.
    """
    config = MetaConfig() if config is None else config
    if not isinstance(config, MetaConfig):
        raise ValueError(f"config must be an inr.meta.MetaConfig; got {config!r}")
    samples, layout = as_signal(signals, dims, value_range, "signals", batched=True)
    model, _ = model_and_optimizer(model, None, layout.channels, layout.dims)
    optimizer = DEFAULT_OUTER if optimizer is None else optimizer
    if not isinstance(optimizer, optax.GradientTransformation):
        raise ValueError(f"optimizer must be an optax.GradientTransformation; got {optimizer!r}")
    if isinstance(model, ModulatedSiren) and config.method == "reptile":
        raise ValueError("a ModulatedSiren (functa) needs method 'maml' or 'fomaml'")
    template = store(samples[:1], layout, config.seed)
    data = {**jax.tree.map(lambda x: jnp.asarray(x[0]), template), "samples": jnp.asarray(samples)}
    state = _start(model, optimizer, config, layout.dims, start)
    saving = as_checkpoints(checkpoints)
    state, seconds = _run(model, optimizer, config, state, data, saving, progress, start)
    if not all(bool(jnp.isfinite(x).all()) for x in jax.tree.leaves(state["meta"])):
        raise FloatingPointError("meta-training diverged: its parameters are not finite")
    return _result(model, state, layout, config, {**(card or {}), "wall_s": round(seconds)})

"""Meta-training: a learned initialisation (learnit) or a functa, resumable.

:func:`meta_train` keeps every training signal on the device in its own
dtype and fits the outer objective (:class:`~inr.meta.objective.MetaObjective`:
each step draws its signals there, adapts to each and scores them) with
the loop every fit shares (:mod:`inr.loop`): ``log_every`` outer steps as
one compiled ``lax.scan``.  With ``checkpoints`` it saves through orbax
(:mod:`inr.checkpoint`) and writes ``metrics.jsonl`` beside them; the
step is the data position, so an interrupted run resumed from its folder
ends with the same parameters as an uninterrupted one, and the same call
with a larger ``config.steps`` goes on where it ended.  Its record
(:func:`inr.fitting.run_record`) is every fit's: another optimiser, other
signals, network, method or seed is refused.
"""

from __future__ import annotations

import flax.linen as nn
import flax.traverse_util
import jax
import jax.numpy as jnp
import optax

from inr.checkpoint import as_checkpoints
from inr.fitting import resolve_options, run_record
from inr.init import Init
from inr.loop import run
from inr.meta.config import MetaConfig
from inr.meta.functa import Functa, ModulatedSiren
from inr.meta.objective import MetaObjective
from inr.signal import as_signal

__all__ = ["DEFAULT_OUTER", "meta_train"]

DEFAULT_OUTER = optax.adam(1e-5)
"""learnit's outer optimiser: Adam with learning rate 1e-5."""


def _shapes(tree) -> tuple:
    return jax.tree.structure(tree), [jnp.shape(x) for x in jax.tree.leaves(tree)]


def _start(model, objective: MetaObjective, seed: int, given, rates):
    """The meta-parameters at step 0, or ``None`` for a fresh start (the loop's own).

    ``given`` may hold some of the network's parameters (a learned init's
    SIREN layers under a functa's modulations; the rest stay fresh);
    ``rates``, an earlier result's inner rates, go on too (``None``: fresh).
    """
    if given is None:
        return None
    meta = objective.init(model, jax.random.PRNGKey(seed))
    fresh = flax.traverse_util.flatten_dict(meta["params"])
    # Copies: the state is donated to the training step, the caller keeps its arrays.
    given = flax.traverse_util.flatten_dict(jax.tree.map(jnp.array, given))
    wrong = [k for k in given if k not in fresh or fresh[k].shape != given[k].shape]
    if wrong:
        raise ValueError(f"start does not fit the network at {'/'.join(wrong[0])}")
    params = flax.traverse_util.unflatten_dict({**fresh, **given})
    if rates is None:
        return {"params": params, "rates": meta["rates"]}
    if _shapes(rates) != _shapes(meta["rates"]):
        raise ValueError("start's rates do not fit the network's (another method or model?)")
    return {"params": params, "rates": jax.tree.map(jnp.array, rates)}


def _result(model, meta, layout, config: MetaConfig, card: dict, steps: int):
    kind = Functa if isinstance(model, ModulatedSiren) else Init
    meta = jax.device_get(meta)
    return kind(
        params=jax.tree.map(jnp.asarray, meta["params"]),
        rates=jax.tree.map(jnp.asarray, meta["rates"]),
        model=model,
        layout=layout,
        inner_steps=config.inner_steps,
        card={**card, "steps": steps, "method": config.method},
    )


def meta_train(
    signals,
    *,
    model: nn.Module | None = None,
    optimizer: optax.GradientTransformation | None = None,
    config: MetaConfig | None = None,
    checkpoints=None,
    progress=False,
    mesh=None,
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
      progress: ``True``, ``False`` or a callable ``(step, total, metrics)``
        (:mod:`inr.progress`), at every ``config.log_every`` steps.
      mesh: ``None`` (one device), a device count or a
        :class:`jax.sharding.Mesh` with a ``"data"`` axis: each outer step's
        signals are split over it where they divide evenly.
      dims: as :func:`inr.fit_signals`.
      value_range: as :func:`inr.fit_signals`.
      start: parameters to start from instead of a fresh initialisation's,
        all or some (a learned init's ``params`` give a functa's SIREN
        layers; its modulation stays fresh); or an earlier result (an
        :class:`~inr.meta.Init` or :class:`~inr.meta.Functa` of the same
        network and method), whose parameters and inner rates both go on:
        a shipped model trained further (the outer optimiser starts afresh).
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
    objective = MetaObjective.create(samples, layout, config)
    optimizer = DEFAULT_OUTER if optimizer is None else optimizer
    model, optimizer, _ = resolve_options(objective, model, optimizer)
    if isinstance(model, ModulatedSiren) and config.method == "reptile":
        raise ValueError("a ModulatedSiren (functa) needs method 'maml' or 'fomaml'")
    saving = as_checkpoints(checkpoints)
    earlier = isinstance(start, (Init, Functa))
    given, rates = (start.params, start.rates) if earlier else (start, None)
    began = (given, rates) if earlier else given
    record = None if saving is None else run_record(objective, model, optimizer, config.seed,
                                                    began)  # fmt: skip
    ended = run(
        objective, model, optimizer, config.steps, seed=config.seed,
        params=_start(model, objective, config.seed, given, rates), progress=progress, mesh=mesh,
        checkpoints=saving, record=record, every=config.log_every,
    )  # fmt: skip
    card = {**(card or {}), "wall_s": round(ended.seconds)}
    return _result(model, ended.params, layout, config, card, ended.step)

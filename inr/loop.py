"""The one optimisation loop of every fit: any objective, ``lax.scan`` of optax steps.

Step ``s`` draws its batch from the objective (``objective.draw(key, s)``,
:mod:`inr.objective`), differentiates ``objective.loss`` and applies the
optimiser's update; ``n`` steps run as one compiled ``lax.scan`` and
report their per-step metrics.  :func:`run` initialises the network (or
starts from given parameters), runs the steps in chunks that end where a
report or a checkpoint is due (one chunk when neither is), and collects
the history.

A *stack* of objectives (every leaf with a leading fit axis) trains one
network per objective: ``_train`` is ``vmap``-ed, ``group`` fits at a time,
under ``shard_map`` over the mesh's ``"data"`` axis; the fits never talk to
each other, so the devices do not either, and every fit sees the same
draws.  One fit on several devices splits its points instead: each leaf of
a step's batch whose leading axis is the objective's ``points`` is sharded
over ``"data"`` (the same sums, in parts).
"""

from __future__ import annotations

import time
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.sharding import PartitionSpec as P

from inr import checkpoint
from inr.checkpoint import MetricsLog
from inr.distributed import DATA, as_mesh, data_sharding, data_size, local_mesh, pad_rows, to_host
from inr.progress import as_progress

__all__ = ["REPORT_EVERY", "fit_keys", "group_size", "run"]

REPORT_EVERY = 100
"""Steps per compiled chunk when a run reports progress."""


def _split(batch, split, points: int):
    """``batch`` with each leaf of ``points`` rows sharded by ``split`` (``None``: as it is)."""
    if split is None:
        return batch

    def one(x):
        if jnp.ndim(x) == 0 or x.shape[0] != points:
            return x
        return jax.lax.with_sharding_constraint(x, split)

    return jax.tree.map(one, batch)


def _state(objective) -> dict:
    """The fields a stateful objective's ``update`` changes (``{}`` for most)."""
    return {name: getattr(objective, name) for name in getattr(objective, "state", ())}


def _train(model, optimizer, n_steps, objective, key, params, opt_state, start, split=None):
    """``n_steps`` optimiser steps from step ``start`` as one ``lax.scan``.

    A stateful objective (its ``state`` names fields) is first updated at
    each step (``objective.update``), inside the scan.  Returns the new
    parameters and optimiser state, the per-step metrics (``{name:
    (n_steps,)}``) and the objective's state after the last step.
    """

    def step(carry, i):
        params, opt_state, state = carry
        obj = objective.replace(**state) if state else objective
        if state:
            obj = obj.update(model, params, key, start + i)
        batch = _split(obj.draw(key, start + i), split, obj.points)
        grads, metrics = jax.grad(lambda p: obj.loss(model, p, batch), has_aux=True)(params)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return (optax.apply_updates(params, updates), opt_state, _state(obj)), metrics

    carry = (params, opt_state, _state(objective))
    (params, opt_state, state), metrics = jax.lax.scan(step, carry, jnp.arange(n_steps))
    return params, opt_state, metrics, state


_train_one = jax.jit(_train, static_argnums=(0, 1, 2), static_argnames="split",
                     donate_argnums=(5, 6))  # fmt: skip


@partial(jax.jit, static_argnums=(0, 1, 2, 3, 4), donate_argnums=(7, 8))
def _train_many(model, optimizer, n_steps, group, mesh, objective, key, params, opt_state, start):
    """``_train`` for a stack of objectives, ``group`` fits at a time, on each device of ``mesh``.

    Fully vmapped, XLA's CPU batched matmuls are slower than separate ones
    once a batch's activations leave the cache; ``lax.map`` over vmapped
    groups keeps both.
    """

    def local(objective, params, opt_state, key, start):
        def fit(args):
            return _train(model, optimizer, n_steps, args[0], key, *args[1:], start)

        return jax.lax.map(fit, (objective, params, opt_state), batch_size=group)

    spec = P(DATA)
    # No collectives to type-check (check_vma): a body that never talks may
    # hold calls, such as Pallas kernels, that do not carry the mesh axes.
    return jax.shard_map(local, mesh=mesh, in_specs=(spec, spec, spec, P(), P()),
                         out_specs=spec, check_vma=False)(
        objective, params, opt_state, key, start)  # fmt: skip


# Activations per vmapped group of fits, in floats.  On a CPU a group must
# fit in L2 (~4 MiB) or batched matmuls slow down; an accelerator wants the
# whole batch at once (small groups leave a GPU launch-bound), bounded only
# so that memory stays modest.
_GROUP_FLOATS_CPU = 2**20
_GROUP_FLOATS_ACCELERATOR = 2**26


def group_size(mesh, n_points: int, width: int, per_device: int) -> int:
    """How many fits each device trains as one vmapped group."""
    cpu = mesh.devices.flat[0].platform == "cpu"
    floats = _GROUP_FLOATS_CPU if cpu else _GROUP_FLOATS_ACCELERATOR
    return int(np.clip(floats // (n_points * width), 1, per_device))


@partial(jax.jit, static_argnums=1)
def fit_keys(seed, n: int) -> jax.Array:
    """``PRNGKey(seed + i)`` for ``i < n``, as one dispatch rather than an eager ``vmap``."""
    return jax.vmap(jax.random.PRNGKey)(seed + jnp.arange(n))


def _init(model, optimizer, objective, key):
    params = objective.init(model, key)
    return params, optimizer.init(params)


_init_one = jax.jit(_init, static_argnums=(0, 1))
_init_many = jax.jit(jax.vmap(_init, in_axes=(None, None, 0, 0)), static_argnums=(0, 1))


@partial(jax.jit, static_argnums=(0, 2))
def _from_start(optimizer, params, rows: int | None):
    """Given starting parameters (a learned initialisation), copied to ``rows`` fits."""
    if rows is not None:
        params = jax.tree.map(lambda x: jnp.broadcast_to(x, (rows, *x.shape)), params)
        return params, jax.vmap(optimizer.init)(params)
    return params, optimizer.init(params)


def _program(objective, model, optimizer, seed: int, mesh, stacked: bool, start):
    """``(train(n, objective, params, opt_state, first), params, opt_state, rows)``.

    A stack is padded to a multiple of the mesh's ``"data"`` size by
    repeating its last objective; ``rows`` selects the real fits.
    """
    key = jax.random.PRNGKey(seed)
    if not stacked:
        mesh = None if mesh is None else as_mesh(mesh)
        devices = 1 if mesh is None else data_size(mesh)
        split = data_sharding(mesh) if devices > 1 and objective.points % devices == 0 else None

        def train(n, obj, *state):
            return _train_one(model, optimizer, n, obj, key, *state, split=split)

        if start is None:
            return train, objective, *_init_one(model, optimizer, objective, key), ...
        return train, objective, *_from_start(optimizer, start, None), ...
    mesh = local_mesh() if mesh is None else as_mesh(mesh)
    fits = jax.tree.leaves(objective)[0].shape[0]
    per_device = -(-fits // data_size(mesh))
    padded = jax.tree.map(lambda x: pad_rows(x, per_device * data_size(mesh)), objective)
    group = group_size(mesh, objective.points, getattr(model, "hidden_features", 256), per_device)

    def train(n, obj, *state):
        return _train_many(model, optimizer, n, group, mesh, obj, key, *state)

    keys = fit_keys(seed, per_device * data_size(mesh))
    if start is None:
        state = _init_many(model, optimizer, padded, keys)
    else:
        state = _from_start(optimizer, start, keys.shape[0])
    return train, padded, *state, slice(0, fits)


def _chunks(first: int, steps: int, every: int | None, save_every: int | None):
    """``(first, count)`` runs of steps, each ending at a report, a checkpoint or the end."""
    step = first
    while step < steps:
        ends = [steps] + [(step // k + 1) * k for k in (every, save_every) if k]
        stop = min(ends)
        yield step, stop - step
        step = stop


def _last(metrics, rows) -> dict:
    """The last step's metrics, averaged over the real fits: ``{name: float}``."""
    return {k: float(np.mean(to_host(v)[rows][..., -1])) for k, v in metrics.items()}


def _resume(saving, state: dict, record: dict):
    """``(manager, state, history)``: the folder's run where it stopped, or a fresh start."""
    manager, state = checkpoint.resume(
        saving, {**state, "history": None}, lambda saved: checkpoint.differences(saved, record)
    )
    return manager, state, state.pop("history") or {}


def _joined(chunks: list[dict]) -> dict:
    """The per-step metrics of consecutive chunks as ``{name: (..., steps)}`` host arrays."""
    return {k: np.concatenate([to_host(c[k]) for c in chunks], axis=-1) for k in chunks[0]}


def run(objective, model, optimizer, steps: int, *, seed: int = 0, start=None, progress=None,
        mesh=None, stacked: bool = False, checkpoints=None, record=None,
        every: int = REPORT_EVERY):  # fmt: skip
    """Fit ``model`` to ``objective``: ``(params, history, seconds, objective)``.

    ``seed`` gives the fit's key (:func:`inr.objective.step_key`) and the
    initialisation (``PRNGKey(seed + i)`` for fit ``i`` of a stack);
    ``start`` parameters replace the initialisation.  ``progress`` as
    :mod:`inr.progress`; ``checkpoints`` (a :class:`~inr.checkpoint.Checkpoints`)
    saves every ``save_every`` steps with ``record`` (what a resumed run must
    agree with) and resumes the run found there, and ``metrics.jsonl``
    gains a line every ``every`` steps.  ``history`` is ``{name: (steps,)}``
    (``(N, steps)`` for a stack) NumPy arrays; ``seconds`` is the wall time
    over every resumed piece; ``objective`` is the objective with the state
    it ended in (itself for a stateless one).
    """
    train, objective, params, opt_state, rows = _program(objective, model, optimizer, seed, mesh,
                                                         stacked, start)  # fmt: skip
    report, saving = as_progress(progress), checkpoint.as_checkpoints(checkpoints)
    state = {"params": params, "opt_state": opt_state, "step": jnp.int32(0)}
    state.update({"objective": _state(objective)} if _state(objective) else {})
    chunks, manager = [], None
    if saving is not None:
        manager, state, history = _resume(saving, state, record or {})
        chunks = [history] if history else []
    log = MetricsLog(saving and saving.directory / "metrics.jsonl", int(state["step"]))
    began = time.perf_counter() - log.last.get("elapsed_s", 0.0)
    cadence = every if report or saving else None
    try:
        for first, n in _chunks(int(state["step"]), steps, cadence, saving and saving.save_every):
            objective = objective.replace(**state.get("objective", {}))
            out = train(n, objective, state["params"], state["opt_state"], first)
            (params, opt_state, metrics, ended), done = out, first + n
            state = {"params": params, "opt_state": opt_state, "step": jnp.int32(done)}
            state.update({"objective": ended} if ended else {})
            chunks.append(metrics)
            if cadence is None:
                continue
            if saving and (done % saving.save_every == 0 or done == steps):
                checkpoint.save(manager, {**state, "history": _joined(chunks)}, record or {})
            _log(done, steps, _last(metrics, rows), report, log, began)
    finally:
        if manager is not None:
            manager.close()
    return _finish(state, objective, chunks, rows, stacked) + (time.perf_counter() - began,)


def _log(done: int, steps: int, last: dict, report, log: MetricsLog, began: float) -> None:
    if report:
        report(done, steps, last)
    log.write({"step": done, **last, "elapsed_s": time.perf_counter() - began})


def _finish(state: dict, objective, chunks: list, rows, stacked: bool):
    """``(params, history, objective)`` of the real fits; a diverged fit raises."""
    history = {k: v[rows] for k, v in _joined(chunks).items()} if chunks else {}
    if "loss" in history and not np.all(np.isfinite(history["loss"][..., -1])):
        raise FloatingPointError(
            "the fit diverged (its loss is not finite): check the optimizer's learning rate"
        )
    params, objective = state["params"], objective.replace(**state.get("objective", {}))
    if stacked and jax.tree.leaves(params)[0].shape[0] > rows.stop:
        params, objective = jax.tree.map(lambda x: x[rows], (params, objective))
    return params, history, objective

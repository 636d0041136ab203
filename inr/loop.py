"""The one optimisation loop of every fit: any objective, optax steps in compiled chunks.

Step ``s`` draws its batch from the objective (``objective.draw(key, s)``,
:mod:`inr.objective`), differentiates ``objective.loss`` and applies the
optimiser's update.  Steps run in compiled chunks of at most :data:`CHUNK`:
one program whose first step and step count are traced, so a fit of any
length, resumed or continued from any step, runs the program compiled for
its shapes, and a chunk ends where a report or a checkpoint is due.  The
optimiser is static by value (:mod:`inr._by_value`): ``optax.adam(1e-3)``
written anew at every call is the same program; its state is data.

A *stack* of objectives (every leaf with a leading fit axis, but the
objective's :attr:`~inr.Objective.shared` fields) trains one network per
objective: ``_train`` is ``vmap``-ed, ``group`` fits at a time, under
``shard_map`` over the mesh's ``"data"`` axis; the fits never talk to each
other, so the devices do not either, and every fit sees the same draws.
One fit on several devices splits its points instead: each leaf of a
step's batch that the objective declares (:meth:`~inr.Objective.split`) is
sharded over ``"data"`` (the same sums, in parts).
"""

from __future__ import annotations

import time
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.sharding import PartitionSpec as P

from inr import checkpoint
from inr._by_value import ByValue
from inr.checkpoint import MetricsLog, check_finite
from inr.distributed import DATA, as_mesh, data_sharding, data_size, local_mesh, pad_rows, to_host
from inr.progress import as_progress

__all__ = ["CHUNK", "REPORT_EVERY", "Outcome", "fit_keys", "group_size", "run", "split_batch"]

CHUNK = 100
"""The most steps one compiled call runs (the loop's program has this many metric rows)."""

REPORT_EVERY = 100
"""Steps between reports when a run reports progress or keeps checkpoints."""


class Outcome(NamedTuple):
    """Where a run ended: what a result keeps and a continued run starts from.

    ``params``, ``opt_state`` and ``state`` (the objective's, ``{}`` for
    most) have a leading fit axis for a stack; ``history`` is ``{name:
    (..., steps)}`` host arrays over every step so far; ``step`` the steps
    done; ``seconds`` the wall time over every piece of the run.
    """

    params: object
    opt_state: object
    state: dict
    history: dict
    step: int
    seconds: float


def split_batch(objective, batch, sharding):
    """``batch`` with the leaves ``objective.split`` declares sharded by ``sharding``."""
    if sharding is None:
        return batch
    devices = data_size(sharding.mesh)

    def place(flag, part):
        if not flag:
            return part

        def one(x):
            if jnp.ndim(x) == 0 or x.shape[0] % devices:
                raise ValueError(
                    f"mesh: a step of this {type(objective).__name__} has {jnp.shape(x)[:1]} "
                    f"rows to split, which {devices} devices cannot share evenly; choose a "
                    f"point (or ray) count that {devices} divides"
                )
            return jax.lax.with_sharding_constraint(x, sharding)

        return jax.tree.map(one, part)

    return jax.tree.map(place, objective.split(batch), batch)


def _state(objective) -> dict:
    """The fields a stateful objective's ``update`` changes (``{}`` for most)."""
    return {name: getattr(objective, name) for name in getattr(objective, "state", ())}


def _step(model, update, objective, key, sharding, carry, step):
    params, opt_state, state = carry
    obj = objective.replace(**state) if state else objective
    if state:
        obj = obj.update(model, params, key, step)
    batch = split_batch(obj, obj.draw(key, step), sharding)
    grads, metrics = jax.grad(lambda p: obj.loss(model, p, batch), has_aux=True)(params)
    updates, opt_state = update(grads, opt_state, params)
    return (optax.apply_updates(params, updates), opt_state, _state(obj)), metrics


def _train(model, update, objective, key, params, opt_state, start, count, sharding=None):
    """``count`` (at most :data:`CHUNK`, traced) optimiser steps from step ``start`` (traced).

    A stateful objective (its ``state`` names fields) is first updated at
    each step (``objective.update``).  Returns the new parameters,
    optimiser state and objective state, and the per-step metrics
    (``{name: (CHUNK,)}``, rows past ``count`` zero).
    """
    step = partial(_step, model, update, objective, key, sharding)
    carry = (params, opt_state, _state(objective))
    shapes = jax.eval_shape(step, carry, start)[1]
    rows = jax.tree.map(lambda s: jnp.zeros((CHUNK, *s.shape), s.dtype), shapes)

    def body(i, both):
        carry, rows = both
        carry, metrics = step(carry, start + i)
        return carry, jax.tree.map(lambda r, m: r.at[i].set(m), rows, metrics)

    (params, opt_state, state), rows = jax.lax.fori_loop(0, count, body, (carry, rows))
    return params, opt_state, state, rows


_train_one = jax.jit(_train, static_argnums=(0, 1), static_argnames="sharding",
                     donate_argnums=(4, 5))  # fmt: skip


@partial(jax.jit, static_argnums=(0, 1, 2, 3), donate_argnums=(7, 8))
def _train_many(model, update, group, mesh, objective, shared, key, params, opt_state, start,
                count):  # fmt: skip
    """``_train`` for a stack of objectives, ``group`` fits at a time, on each device of ``mesh``.

    ``shared`` holds the fields every fit shares (``{name: value}``).  Fully
    vmapped, XLA's CPU batched matmuls are slower than separate ones once a
    batch's activations leave the cache; ``lax.map`` over vmapped groups
    keeps both.
    """

    def local(objective, params, opt_state, shared, key, start, count):
        def fit(args):
            obj, p, s = args
            return _train(model, update, obj.replace(**shared), key, p, s, start, count)

        return jax.lax.map(fit, (objective, params, opt_state), batch_size=group)

    spec = P(DATA)
    # No collectives to type-check (check_vma): a body that never talks may
    # hold calls, such as Pallas kernels, that do not carry the mesh axes.
    return jax.shard_map(local, mesh=mesh, in_specs=(spec, spec, spec, P(), P(), P(), P()),
                         out_specs=spec, check_vma=False)(
        objective, params, opt_state, shared, key, start, count)  # fmt: skip


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


def _init(model, objective, key):
    return objective.init(model, key)


_init_one = jax.jit(_init, static_argnums=0)
_init_many = jax.jit(jax.vmap(_init, in_axes=(None, 0, 0)), static_argnums=0)


def unshared(objective):
    """``(the stacked fields, {name: shared field})`` of a stack's objective."""
    names = tuple(getattr(objective, "shared", ()))
    return objective.replace(**dict.fromkeys(names)), {n: getattr(objective, n) for n in names}


@partial(jax.jit, static_argnums=0)
def _init_many(model, objective, shared, keys):
    return jax.vmap(lambda o, k: _init(model, o.replace(**shared), k))(objective, keys)


def _program(objective, model, optimizer, seed: int, mesh, stacked: bool):
    """``(train(objective, params, opt_state, first, count), objective, rows, init)``.

    A stack's objective comes back without its shared fields and padded to
    a multiple of the mesh's ``"data"`` size by repeating its last fit;
    ``rows`` selects the real fits (``...`` for one fit); ``init(key)``
    makes fresh parameters.
    """
    key, update = jax.random.PRNGKey(seed), ByValue(optimizer.update)
    if not stacked:
        mesh = None if mesh is None else as_mesh(mesh)
        sharding = data_sharding(mesh) if mesh is not None and data_size(mesh) > 1 else None

        def train(obj, params, opt_state, first, count):
            return _train_one(model, update, obj, key, params, opt_state, jnp.int32(first),
                              jnp.int32(count), sharding=sharding)  # fmt: skip

        return train, objective, ..., lambda: _init_one(model, objective, key)
    mesh = local_mesh() if mesh is None else as_mesh(mesh)
    mapped, shared = unshared(objective)
    fits = jax.tree.leaves(mapped)[0].shape[0]
    per_device = -(-fits // data_size(mesh))
    padded = jax.tree.map(lambda x: pad_rows(x, per_device * data_size(mesh)), mapped)
    group = group_size(mesh, objective.points, getattr(model, "hidden_features", 256), per_device)

    def train(obj, params, opt_state, first, count):
        return _train_many(model, update, group, mesh, obj, shared, key, params, opt_state,
                           jnp.int32(first), jnp.int32(count))  # fmt: skip

    keys = lambda: fit_keys(seed, per_device * data_size(mesh))  # noqa: E731
    return train, padded, slice(0, fits), lambda: _init_many(model, padded, shared, keys())


def _begin(optimizer, objective, rows, init, params, resume: Outcome | None) -> dict:
    """The state at the run's first step: fresh, from given parameters, or continued.

    Copies throughout: the training step donates its inputs, and the
    caller keeps its arrays.
    """
    stacked = rows is not ...
    total = jax.tree.leaves(objective)[0].shape[0] if stacked else None
    grow = (lambda x: pad_rows(jnp.array(x), total)) if stacked else jnp.array  # noqa: E731
    if resume is not None:
        state = {"params": jax.tree.map(grow, resume.params), "step": resume.step,
                 "opt_state": jax.tree.map(grow, resume.opt_state)}  # fmt: skip
        return {**state, "objective": jax.tree.map(grow, resume.state)} if resume.state else state
    if params is None:
        params = init()
    elif stacked:
        params = jax.tree.map(lambda x: jnp.broadcast_to(x, (total, *jnp.shape(x))), params)
    else:
        params = jax.tree.map(jnp.array, params)
    opt_state = (jax.vmap(optimizer.init) if stacked else optimizer.init)(params)
    state = {"params": params, "opt_state": opt_state, "step": 0}
    return {**state, "objective": _state(objective)} if _state(objective) else state


def _chunks(first: int, steps: int, every: int | None, save_every: int | None):
    """``(first, count)`` runs of at most :data:`CHUNK` steps, ending at reports and saves."""
    step = first
    while step < steps:
        ends = [steps, step + CHUNK] + [(step // k + 1) * k for k in (every, save_every) if k]
        stop = min(ends)
        yield step, stop - step
        step = stop


def _joined(prefix: dict | None, chunks: list, rows) -> dict:
    """The per-step metrics so far as ``{name: (..., steps)}`` host arrays of the real fits."""
    parts = [] if not prefix else [prefix]
    parts += [{k: to_host(v)[rows][..., :n] if rows is not ... else to_host(v)[..., :n]
               for k, v in c.items()} for c, n in chunks]  # fmt: skip
    if not parts:
        return {}
    return {k: np.concatenate([p[k] for p in parts], axis=-1) for k in parts[-1]}


def _resume(saving, state: dict, record: dict):
    """``(manager, state, history)``: the folder's run where it stopped, or as given."""
    manager, found = checkpoint.resume(
        saving, {**state, "step": jnp.int32(state["step"]), "history": None},
        lambda saved: checkpoint.differences(saved, record),
    )  # fmt: skip
    history = found.pop("history", None)
    found["step"] = int(found["step"])
    return manager, found, history


def run(objective, model, optimizer, steps: int, *, seed: int = 0, params=None,
        resume: Outcome | None = None, progress=None, mesh=None, stacked: bool = False,
        checkpoints=None, record=None, every: int = REPORT_EVERY) -> Outcome:  # fmt: skip
    """Fit ``model`` to ``objective`` for ``steps`` steps: an :class:`Outcome`.

    ``seed`` gives the fit's key (:func:`inr.objective.step_key`) and the
    initialisation (``PRNGKey(seed + i)`` for fit ``i`` of a stack);
    ``params`` replace the initialisation (a learned one); ``resume``
    continues an earlier outcome of the same objective, model, optimiser
    and seed, from its step, optimiser state and objective state, for
    ``steps`` more steps.  ``progress`` as :mod:`inr.progress`;
    ``checkpoints`` (a :class:`~inr.checkpoint.Checkpoints`) saves every
    ``save_every`` steps with ``record`` (what a resumed run must agree
    with) and resumes the run found there, and ``metrics.jsonl`` gains a
    line every ``every`` steps.  A run whose loss or parameters stop being
    finite raises :class:`~inr.checkpoint.FitDiverged`, which carries the
    history up to that step.
    """
    train, objective, rows, init = _program(objective, model, optimizer, seed, mesh, stacked)
    state = _begin(optimizer, objective, rows, init, params, resume)
    total = state["step"] + steps
    report, saving = as_progress(progress), checkpoint.as_checkpoints(checkpoints)
    prefix, manager = (resume.history if resume is not None else None), None
    if saving is not None:
        manager, state, saved = _resume(saving, state, record or {})
        prefix = saved if saved is not None else prefix
    log = MetricsLog(saving and saving.directory / "metrics.jsonl", state["step"])
    earlier = resume.seconds if resume is not None else 0.0
    began = time.perf_counter() - log.last.get("elapsed_s", earlier)
    cadence, chunks = (every if report or saving else None), []
    try:
        for first, n in _chunks(state["step"], total, cadence, saving and saving.save_every):
            ran = objective.replace(**state.get("objective", {}))
            params_, opt_state, ended, metrics = train(ran, state["params"], state["opt_state"],
                                                       first, n)  # fmt: skip
            state = {"params": params_, "opt_state": opt_state, "step": first + n}
            state.update({"objective": ended} if ended else {})
            chunks.append((metrics, n))
            if cadence is None or not _due(state["step"], total, cadence, saving):
                continue
            prefix, chunks = _joined(prefix, chunks, rows), []
            history = prefix
            check_finite(history)
            if saving and (state["step"] % saving.save_every == 0 or state["step"] == total):
                saved_state = {**state, "step": jnp.int32(state["step"]), "history": history}
                checkpoint.save(manager, saved_state, record or {})
            _log(state["step"], total, {k: float(np.mean(v[..., -1])) for k, v in history.items()},
                 report, log, began)  # fmt: skip
    finally:
        if manager is not None:
            manager.close()
    return _finish(state, _joined(prefix, chunks, rows), rows, time.perf_counter() - began)


def _due(step: int, total: int, every: int, saving) -> bool:
    """Whether a report (and a checkpoint, where one is due) follows step ``step``."""
    return step == total or step % every == 0 or bool(saving and step % saving.save_every == 0)


def _log(done: int, steps: int, last: dict, report, log: MetricsLog, began: float) -> None:
    if report:
        report(done, steps, last)
    log.write({"step": done, **last, "elapsed_s": time.perf_counter() - began})


def _finish(state: dict, history: dict, rows, seconds: float) -> Outcome:
    """The :class:`Outcome` of the real fits; a diverged run raises with its history."""
    real = (lambda x: x) if rows is ... else (lambda x: x[rows])  # noqa: E731
    ended = jax.tree.map(real, (state["params"], state["opt_state"], state.get("objective", {})))
    outcome = Outcome(*ended, history, state["step"], seconds)
    check_finite(history, outcome.params)
    return outcome

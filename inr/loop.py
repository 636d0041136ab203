"""The optimisation loop every fit shares: one ``lax.scan`` of optax steps.

:func:`run` initialises a network (or a batch of them), trains it in
compiled chunks of steps (one chunk when nothing reports progress) and
collects the per-step history.  A batch of fits is ``vmap``-ed, ``group``
fits at a time, under ``shard_map`` over the mesh's ``"data"`` axis: the
fits never talk to each other, so the devices do not either.  What each
step minimises is :func:`inr.objectives.loss`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.sharding import PartitionSpec as P

from inr.distributed import DATA, data_size, pad_rows, to_host
from inr.objectives import loss

__all__ = ["fit_keys", "group_size", "mean_value", "run"]

_LOG_EVERY = 100


def _train(model, optimizer, target, points, n_steps, params, opt_state, start, batch, split=None):
    """``n_steps`` optimiser steps from step ``start`` as one ``lax.scan``.

    ``target``: a target of :func:`inr.objectives.loss`, or an objective of
    its own called as ``target(model, params, batch, step, points=points)``
    and returning what ``loss`` does.  ``points``: ``None`` (every sample
    each step) or the random samples per step.  ``split``: ``None``, or the
    sharding of one fit's points over a mesh (data parallelism with the same
    numbers as one device).

    Returns the new state and the per-step ``(loss, psnr)`` history.
    """
    if callable(target):  # an objective of its own, such as inr.shapes.SDFLoss
        objective = partial(target, model, points=points)
    else:
        objective = partial(loss, model, target, points=points, split=split)

    def step(carry, i):
        params, opt_state = carry
        (_, (value, psnr)), grads = jax.value_and_grad(objective, has_aux=True)(
            params, batch, start + i
        )
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return (optax.apply_updates(params, updates), opt_state), (value, psnr)

    (params, opt_state), (values, psnr) = jax.lax.scan(
        step, (params, opt_state), jnp.arange(n_steps)
    )
    return params, opt_state, values, psnr


_train_one = jax.jit(
    _train, static_argnums=(0, 1, 2, 3, 4), static_argnames="split", donate_argnums=(5, 6)
)


@partial(jax.jit, static_argnums=(0, 1, 2, 3, 4, 5, 6), donate_argnums=(7, 8))
def _train_many(
    model, optimizer, target, points, n_steps, group, mesh, params, opt_state, start, batch
):
    """``_train`` vmapped over images, ``group`` images at a time, on each device of ``mesh``.

    Fully vmapped, XLA's CPU batched matmuls are slower than separate ones
    once a batch's activations leave the cache; ``lax.map`` over vmapped
    groups keeps both.  The image axis is split over the mesh's ``"data"``
    axis: fits never talk to each other, so the devices do not either.
    """

    def local(params, opt_state, batch):
        def fit(args):
            return _train(model, optimizer, target, points, n_steps, *args[:2], start, args[2])

        return jax.lax.map(fit, (params, opt_state, batch), batch_size=group)

    spec = P(DATA)
    # No collectives to type-check (check_vma): a body that never talks may
    # hold calls, such as Pallas kernels, that do not carry the mesh axes.
    return jax.shard_map(local, mesh=mesh, in_specs=spec, out_specs=spec, check_vma=False)(
        params, opt_state, batch
    )


# Activations per vmapped group of images, in floats.  On a CPU a group
# must fit in L2 (~4 MiB) or batched matmuls slow down; an accelerator wants
# the whole batch at once (small groups leave a GPU launch-bound), bounded
# only so that memory stays modest.
_GROUP_FLOATS_CPU = 2**20
_GROUP_FLOATS_ACCELERATOR = 2**26


def group_size(mesh, n_points: int, width: int, per_device: int) -> int:
    """How many images each device trains as one vmapped group."""
    cpu = mesh.devices.flat[0].platform == "cpu"
    floats = _GROUP_FLOATS_CPU if cpu else _GROUP_FLOATS_ACCELERATOR
    return int(np.clip(floats // (n_points * width), 1, per_device))


def _init(model, optimizer, dims, key):
    params = model.init(key, jnp.zeros((1, dims), jnp.float32))
    return params, optimizer.init(params)


@partial(jax.jit, static_argnums=1)
def fit_keys(seed, n: int) -> jax.Array:
    """``PRNGKey(seed + i)`` for ``i < n``, as one dispatch rather than an eager ``vmap``."""
    return jax.vmap(jax.random.PRNGKey)(seed + jnp.arange(n))


_init_one = jax.jit(_init, static_argnums=(0, 1, 2))
_init_many = jax.jit(jax.vmap(_init, in_axes=(None, None, None, 0)), static_argnums=(0, 1, 2))


@partial(jax.jit, static_argnums=(0, 2))
def _from_start(optimizer, params, rows: int | None):
    """Given starting parameters (a learned initialisation), copied to ``rows`` fits."""
    if rows is not None:
        params = jax.tree.map(lambda x: jnp.broadcast_to(x, (rows, *x.shape)), params)
        return params, jax.vmap(optimizer.init)(params)
    return params, optimizer.init(params)


@partial(jax.jit, static_argnums=0)
def mean_value(model, params, xy):
    """The network's mean output over ``xy``, ``(C,)``."""
    return jnp.mean(model.apply(params, xy), axis=0)


def _report(progress) -> Callable | None:
    if progress is True:
        return lambda step, total, loss, psnr: print(
            f"step {step:>6}/{total}  loss {loss:.3e}  psnr {psnr:6.2f} dB", flush=True
        )
    return progress or None


def run(problem, steps, keys, batch, progress, mesh=None, split=None, start=None):
    """Initialise, train in chunks of ``_LOG_EVERY`` steps, collect history.

    ``problem`` is the static ``(model, optimizer, target, points, dims,
    n_points)``: ``n_points`` the points one step evaluates.  With a
    ``mesh`` the inputs are batched over fits (leading axis), padded to a
    multiple of the mesh's ``"data"`` size by repeating the last fit; the
    padding is dropped from the results.  ``split`` shards one fit's points.
    ``start``: parameters every fit starts from (``None``: initialised from
    ``keys``).
    """
    model, optimizer, target, points, dims, n_points = problem
    if mesh is not None:
        n_images = keys.shape[0]
        per_device = -(-n_images // data_size(mesh))

        def pad(x):
            return pad_rows(x, per_device * data_size(mesh))

        keys, batch = pad(keys), jax.tree.map(pad, batch)
        width = getattr(model, "hidden_features", 256)
        group = group_size(mesh, n_points, width, per_device)

        def train(n, *state):
            return _train_many(model, optimizer, target, points, n, group, mesh, *state)

        init, real = _init_many, slice(0, n_images)
    else:

        def train(n, *state):
            return _train_one(model, optimizer, target, points, n, *state, split=split)

        init, real = _init_one, ...
    if start is None:
        params, opt_state = init(model, optimizer, dims, keys)
    else:
        params, opt_state = _from_start(optimizer, start, None if mesh is None else keys.shape[0])
    report = _report(progress)
    chunk = min(steps, _LOG_EVERY) if report else steps
    losses, psnrs, done = [], [], 0
    while done < steps:
        n = min(chunk, steps - done)
        params, opt_state, value, psnr = train(n, params, opt_state, jnp.int32(done), batch)
        losses.append(value)
        psnrs.append(psnr)
        done += n
        if report:
            report(
                done,
                steps,
                float(jnp.mean(value[real][..., -1])),
                float(jnp.mean(psnr[real][..., -1])),
            )
    history = {
        "loss": np.concatenate([to_host(x) for x in losses], axis=-1)[real],
        "psnr": np.concatenate([to_host(x) for x in psnrs], axis=-1)[real],
    }
    if not np.all(np.isfinite(history["loss"][..., -1])):
        raise FloatingPointError(
            "the fit diverged (its loss is not finite): check the optimizer's learning rate"
        )
    if real is not ... and keys.shape[0] > real.stop:  # slicing costs a dispatch per leaf
        params = jax.tree.map(lambda x: x[real], params)
    return params, history

"""Training a restorator: one jitted Adam step, a prefetched data stream, checkpoints.

:func:`train_restorator` is the whole loop.  Per step it takes the batch of
that step (:func:`inr.restorator.data.make_batch`, computed ahead on a
background thread), decodes every query point, and applies one optax update
of the mean L1 or L2 colour error.  With a ``checkpoint_dir`` it saves
through orbax every ``save_every`` steps and at the end, keeps the last
``keep``, and with ``resume=True`` continues from the latest checkpoint:
killed at any moment, a resumed run ends with the same parameters as an
uninterrupted one.  Metrics (mean loss, points per second) are appended to
``metrics.jsonl`` beside the checkpoints every ``log_every`` steps.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import os
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax

from inr.diffusion import add_noise, prediction_target, random_steps
from inr.distributed import (
    as_mesh,
    check_divisible,
    data_sharding,
    global_batch,
    process_shard,
    replicated,
    state_sharding,
)
from inr.restorator import checkpoint
from inr.restorator.data import Prefetcher, as_masking, expand_sources, load_images, make_batch
from inr.restorator.model import TASKS, RestoratorConfig, RestoratorNet
from inr.restorator.restorator import Restorator

__all__ = ["train_restorator", "train_step", "init_state", "make_optimizer", "LOSSES"]

LOSSES = ("l1", "l2")


def make_optimizer(
    lr: float,
    steps: int,
    schedule: str = "cosine",
    clip: float | None = 1.0,
    weight_decay: float = 0.0,
):
    """Adam (AdamW with ``weight_decay``), an optional global-norm clip, and a rate schedule.

    ``"cosine"`` warms up linearly over the first 5% of steps (at most 200)
    and decays to 1% of ``lr`` at ``steps`` (Loshchilov & Hutter 2017).
    """
    if schedule == "cosine":
        warmup = min(200, max(1, steps // 20))
        rate = optax.warmup_cosine_decay_schedule(0.0, lr, warmup, max(steps, warmup + 1), lr / 100)
    elif schedule == "constant":
        rate = lr
    else:
        raise ValueError(f"schedule must be 'cosine' or 'constant'; got {schedule!r}")
    parts = [optax.clip_by_global_norm(clip)] if clip else []
    adam = optax.adamw(rate, weight_decay=weight_decay) if weight_decay else optax.adam(rate)
    return optax.chain(*parts, adam)


def _error(err, kind):
    return jnp.mean(jnp.abs(err)) if kind == "l1" else jnp.mean(jnp.square(err))


def _loss(params, net, batch, kind, key):
    """Mean colour error (single pass) or denoising error (diffusion) of one batch.

    For diffusion each point draws its own step, uniform over every index
    (:func:`inr.diffusion.random_steps`), and its own noise; the clean value
    is the colour residual over the base divided by ``diffusion_scale``.
    """
    config = net.config
    if config.restorator == "single":
        pred = net.apply(params, batch["inputs"], batch["points"], batch["cell"])
        return _error(pred - batch["targets"], kind)
    schedule = config.noise_schedule()
    maps, latent = net.apply(params, batch["inputs"], method=RestoratorNet.encode)
    base = net.apply(params, batch["inputs"], batch["points"], method=RestoratorNet.base)
    target = net.apply(params, batch["targets"], method=RestoratorNet.to_space)
    x0 = (target - base) / config.diffusion_scale
    k_t, k_eps = jax.random.split(key)
    t = random_steps(k_t, x0.shape[:-1], schedule)
    eps = jax.random.normal(k_eps, x0.shape)
    x_t = add_noise(x0, eps, t, schedule)
    args = (maps, latent, batch["inputs"], batch["points"], batch["cell"], x_t, t)
    pred = net.apply(params, *args, method=RestoratorNet.denoise)
    return _error(pred - prediction_target(config.prediction, x0, eps, t, schedule), kind)


def init_state(net: RestoratorNet, tx, key, points_per_image: int) -> dict:
    """The train state ``{"params", "opt_state", "step"}`` before step 0.

    Parameters depend on shapes alone, so one example's shapes are enough.
    """
    n, c = net.config.input_size, net.config.in_channels
    params = net.init(
        key,
        jnp.zeros((1, n, n, c)),
        jnp.zeros((1, points_per_image, 2)),
        jnp.ones((1, 2)),
    )
    return {"params": params, "opt_state": tx.init(params), "step": jnp.zeros((), jnp.int32)}


def train_step(net: RestoratorNet, tx, kind: str, seed: int, state: dict, batch: dict):
    """One optax update on ``batch``: ``(state, loss)``, a pure function to ``jit``.

    Args:
      net, tx: the network and the optimiser (static).
      kind: ``"l1"`` or ``"l2"``.
      seed: with ``state["step"]`` it keys the diffusion noise of the step.
      state: ``{"params", "opt_state", "step"}``.
      batch: ``inputs (B, n, n, c)``, ``points (B, P, 2)``, ``targets
        (B, P, 3)``, ``cell (B, 2)`` (see :func:`inr.restorator.data.make_batch`),
        split over any devices: the loss is the mean over the global batch.
    """
    # The noise of step k is a function of (seed, k), like the batch: resumable.
    key = jax.random.fold_in(jax.random.PRNGKey(seed), state["step"])
    loss, grads = jax.value_and_grad(_loss)(state["params"], net, batch, kind, key)
    updates, opt_state = tx.update(grads, state["opt_state"], state["params"])
    params = optax.apply_updates(state["params"], updates)
    return {"params": params, "opt_state": opt_state, "step": state["step"] + 1}, loss


class _Log:
    """JSON-lines metrics; on resume, lines past the restored step are dropped."""

    def __init__(self, path: Path | None, start: int):
        self.path = path
        if path is None or not path.exists():
            return
        kept = [line for line in path.read_text().splitlines() if line.strip()]
        kept = [line for line in kept if json.loads(line).get("step", 0) <= start]
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text("".join(line + "\n" for line in kept))
        os.replace(tmp, path)

    def write(self, record: dict) -> None:
        if self.path is not None:
            with open(self.path, "a") as f:
                f.write(json.dumps(record) + "\n")


def _progress(step: int, steps: int, loss: float, rate: float, eta: float) -> None:
    done = int(30 * step / steps)
    bar = "#" * done + "." * (30 - done)
    sys.stderr.write(
        f"\r[{bar}] {step}/{steps} loss {loss:.4f} {rate / 1e3:.0f}k points/s eta {eta:.0f}s "
    )
    sys.stderr.flush()


def train_restorator(
    data,
    *,
    task: str = "restore",
    input_size: int = 64,
    steps: int = 2000,
    batch_size: int = 16,
    points_per_image: int = 1024,
    masking=None,
    checkpoint_dir=None,
    resume: bool = True,
    seed: int = 0,
    lr: float = 1e-3,
    schedule: str = "cosine",
    clip: float | None = 1.0,
    weight_decay: float = 0.0,
    loss: str = "l1",
    config: RestoratorConfig | None = None,
    restorator: str | None = None,
    prediction: str | None = None,
    max_scale: float = 4.0,
    save_every: int = 500,
    keep: int = 3,
    log_every: int = 50,
    progress: bool = True,
    mesh=None,
    shard_params: bool = False,
) -> Restorator:
    """Train a restorator on ``data`` and return it.

    Args:
      data: a folder of PNG/JPEG files (searched recursively), a list of
        paths, or an array / list of images (see
        :func:`inr.restorator.data.load_images`).
      task: ``"restore"``, ``"colorize"`` or ``"upscale"``.
      input_size: side of the square network inputs.
      steps: total optimisation steps (the run ends at this step count,
        resumed or not).
      batch_size, points_per_image: images per step and query points each.
      masking: ``None``, a grid size, ``"uniform"``, ``"dynamic"`` or a
        :class:`~inr.restorator.data.Masking` (inputs only, never targets).
      checkpoint_dir: where orbax checkpoints and ``metrics.jsonl`` go
        (``None``: no checkpoints, no log).
      resume: continue from the latest checkpoint in ``checkpoint_dir``;
        with ``False`` a folder that holds checkpoints is an error (they are
        never overwritten).
      seed: fixes the initial parameters and the whole data stream.
      lr, schedule, clip, weight_decay: see :func:`make_optimizer`.
      loss: ``"l1"`` or ``"l2"`` colour error.
      config: architecture (:class:`RestoratorConfig`); ``task`` and
        ``input_size`` override its fields, and so do ``restorator`` and
        ``prediction`` when given.
      restorator: ``"single"`` or ``"diffusion"`` (the decoder as a per-point
        denoiser of the colour residual, trained on uniformly drawn steps).
      prediction: ``"epsilon"``, ``"x0"`` or ``"v"`` for diffusion.
      max_scale: largest upscaling factor drawn for ``upscale``.
      save_every, keep: checkpoint period and how many to keep.
      log_every: metrics period (steps).
      progress: draw a progress bar on stderr.
      mesh: the devices to train on, data parallel (``None``: all of them;
        a count; or a :class:`jax.sharding.Mesh` with a ``"data"`` axis, see
        :mod:`inr.distributed`).  ``batch_size`` is the global batch and must
        divide evenly over the ``"data"`` axis; the result does not depend
        on the device count (up to float32 reduction order), and a run saved
        on one mesh resumes on any other.  On several hosts every host calls
        this function, reads every ``process_count``-th item of ``data`` and
        builds its own rows of each batch; process 0 writes the log.
      shard_params: split parameters and optimiser state over ``"data"``
        (FSDP-style) instead of replicating them.
    """
    if task not in TASKS:
        raise ValueError(f"task must be one of {TASKS}; got {task!r}")
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}; got {loss!r}")
    for name, value in (
        ("steps", steps),
        ("batch_size", batch_size),
        ("points_per_image", points_per_image),
        ("save_every", save_every),
        ("log_every", log_every),
    ):
        if int(value) != value or value < 1:
            raise ValueError(f"{name} must be a positive integer; got {value!r}")
    overrides = dict(task=task, input_size=input_size)
    if restorator is not None:
        overrides["restorator"] = restorator
    if prediction is not None:
        overrides["prediction"] = prediction
    config = dataclasses.replace(config or RestoratorConfig(), **overrides)
    masking = as_masking(masking)
    mesh = as_mesh(mesh)
    check_divisible("batch_size", batch_size, mesh)
    items = expand_sources(data)
    images = load_images(process_shard(items))
    net = RestoratorNet(config)
    tx = make_optimizer(lr, steps, schedule, clip, weight_decay)
    stream = dict(
        task=task,
        input_size=input_size,
        batch_size=batch_size,
        points_per_image=points_per_image,
        seed=seed,
        masking=masking,
        max_scale=max_scale,
    )
    local = dict(stream, batch_size=batch_size // jax.process_count())
    make_local = functools.partial(make_batch, images, process=jax.process_index(), **local)
    make = lambda step: global_batch(make_local(step), mesh)  # noqa: E731
    # Everything that fixes the parameters a run ends with; resume checks it.
    run = dict(
        stream,
        steps=steps,
        loss=loss,
        lr=lr,
        schedule=schedule,
        clip=clip,
        weight_decay=weight_decay,
        images=len(items),
    )
    run["masking"] = None if masking is None else dataclasses.asdict(masking)
    meta = {"config": config.to_json(), "run": run}

    init = functools.partial(init_state, net, tx, points_per_image=points_per_image)
    key = jax.random.PRNGKey(seed)
    shardings = state_sharding(jax.eval_shape(init, key), mesh, shard_params)
    state = jax.jit(init, out_shardings=shardings)(key)
    manager = None
    if checkpoint_dir is not None:
        manager = checkpoint.open_manager(checkpoint_dir, keep)
        if not resume and manager.latest_step() is not None:
            raise ValueError(
                f"checkpoint_dir {str(checkpoint_dir)!r} already holds checkpoints; pass "
                "resume=True to continue that run, or choose an empty folder"
            )
        found = checkpoint.restore(manager, state)
        if found is not None:
            state, saved = found
            if saved != meta:
                changed = sorted(k for k in saved["run"] if saved["run"][k] != meta["run"].get(k))
                if saved["config"] != meta["config"]:
                    changed.append("config")
                raise ValueError(
                    f"checkpoint_dir {str(checkpoint_dir)!r} holds a run with different "
                    f"settings ({', '.join(changed)}); use another folder"
                )
    start = int(state["step"])
    lead = jax.process_index() == 0
    progress = progress and lead
    log_path = None if manager is None or not lead else Path(checkpoint_dir) / "metrics.jsonl"
    log = _Log(log_path, start)
    step_fn = jax.jit(
        functools.partial(train_step, net, tx, loss, seed),
        in_shardings=(shardings, data_sharding(mesh)),
        out_shardings=(shardings, replicated(mesh)),
        donate_argnums=0,
    )

    losses, t0, t_start = [], time.perf_counter(), time.perf_counter()
    with Prefetcher(make, start, steps) as batches:
        for step, batch in batches:
            state, value = step_fn(state, batch)
            losses.append(value)
            done = step + 1
            if done % log_every == 0 or done == steps:
                mean = float(np.mean(jax.device_get(losses)))
                elapsed = time.perf_counter() - t0
                rate = len(losses) * batch_size * points_per_image / elapsed
                log.write(
                    {
                        "step": done,
                        "loss": mean,
                        "points_per_second": rate,
                        "elapsed_s": time.perf_counter() - t_start,
                    }
                )
                if progress:
                    _progress(done, steps, mean, rate, (steps - done) * elapsed / len(losses))
                losses, t0 = [], time.perf_counter()
            if manager is not None and (done % save_every == 0 or done == steps):
                checkpoint.save(manager, state, meta)
    if progress and start < steps:
        sys.stderr.write("\n")
    if manager is not None:
        manager.close()
    if not math.isfinite(float(jnp.sum(jax.tree.leaves(state["params"])[0]))):
        raise FloatingPointError("training diverged: parameters are not finite; lower lr")
    params = jax.jit(lambda p: p, out_shardings=replicated(mesh))(state["params"])
    return Restorator(params=params, config=config)

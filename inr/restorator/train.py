"""Training a restorator: the jitted step in a loop, a data stream, checkpoints, validation.

:func:`train_restorator` is the whole loop.  Per step it takes the batch of
that step (built on the device, :func:`inr.restorator.stream.device_batch`,
or on a host thread, :func:`inr.restorator.data.make_batch`) and applies
:func:`inr.restorator.step.train_step`.
With :class:`~inr.restorator.options.Checkpoints` it saves through orbax
every ``save_every`` steps and at the end, keeps the last ``keep``, and
resumes from the latest checkpoint: killed at any moment, a resumed run
ends with the same parameters as an uninterrupted one.
Metrics (mean loss, points per second, and the loss on held-out
``validation`` images every ``validate_every`` steps) are appended to
``metrics.jsonl`` beside the checkpoints.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import math
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import NamedSharding, PartitionSpec

from inr import checkpoint
from inr.checkpoint import MetricsLog, fingerprint
from inr.distributed import (
    as_mesh,
    check_divisible,
    data_sharding,
    global_batch,
    process_shard,
    replicated,
    state_sharding,
)
from inr.restorator.data import (
    Prefetcher,
    expand_sources,
    group_names,
    load_images,
    make_batch,
)
from inr.restorator.losses import check_terms
from inr.restorator.model import RestoratorConfig, RestoratorNet
from inr.restorator.options import TrainConfig, as_checkpoints
from inr.restorator.step import (
    INIT_COMPILER_OPTIONS,
    batch_loss,
    init_state,
    make_optimizer,
    train_step,
)
from inr.restorator.stream import StreamSpec, device_batch, image_store
from inr.restorator.trained import Restorator, checked_params

__all__ = ["batch_maker", "train_restorator"]

# The validation batches' stream: fixed, so every evaluation sees the same points.
_VALIDATION_SEED = 0x5EED


def batch_maker(
    images,
    config: RestoratorConfig,
    train: TrainConfig,
    mesh,
    seed: int,
    groups=None,
    trainable=None,
    block: int = 1,
):
    """``make(step)``: the global batch of ``step``, split over ``mesh``'s ``"data"`` axis.

    ``images`` are this host's; each host builds its ``1 / process_count``
    of the rows from them (see :func:`inr.restorator.stream.device_batch`).
    ``groups`` names each image's group, from which a reference model's
    references are drawn; ``trainable`` flags the images rows are drawn
    from (default: all; see :func:`inr.restorator.stream.image_store`).

    ``block > 1`` (the device pipeline on one host): ``make(b)`` builds the
    batches of steps ``b * block`` to ``(b + 1) * block - 1`` in one call,
    stacked on a new leading axis, so that each of a batch's small kernels
    is launched once for ``block`` steps.
    """
    if isinstance(block, bool) or not isinstance(block, int) or block < 1:
        raise ValueError(f"block must be a positive int; got {block!r}")
    if block > 1 and (train.pipeline != "device" or jax.process_count() > 1):
        raise ValueError("block > 1 needs pipeline='device' on one process")
    rows = train.batch_size // jax.process_count()
    process = jax.process_index()
    fields = dict(
        task=config.task,
        input_size=config.input_size,
        points_per_image=train.points_per_image,
        masking=train.masking,
        max_scale=train.max_scale,
        crop=train.crop,
        downscale=train.downscale,
        query=train.query,
    )
    if train.pipeline == "host":
        if config.reference:
            raise ValueError("reference restorators train with pipeline='device'")
        build = functools.partial(make_batch, images, seed=seed, process=process, batch_size=rows)
        return lambda step: global_batch(build(step, **fields), mesh)
    store = image_store(images, groups, trainable)
    spec = StreamSpec.for_store(store, batch_size=rows, **fields)
    if config.reference:
        # The reference at (up to) 4x the input's side, TTSR's 160 for 40.
        size = min(spec.window, 4 * config.input_size)
        spec = dataclasses.replace(
            spec,
            reference_size=size,
            reference_dropout=train.reference_dropout,
            self_reference=train.self_reference,
        )
    build = functools.partial(device_batch, spec=spec, seed=seed, process=process)
    if jax.process_count() == 1:
        store = jax.device_put(store, replicated(mesh))
        sharding = data_sharding(mesh)
        if block > 1:
            build = _stacked(build, block)
            sharding = NamedSharding(mesh, PartitionSpec(None, *sharding.spec))
        build = jax.jit(build, out_shardings=sharding)
        return lambda step: build(store, step=step)
    # Each host's store differs, so its rows are built apart and then assembled.
    build = jax.jit(build)
    return lambda step: global_batch(jax.device_get(build(store, step=step)), mesh)


def _stacked(build, block: int):
    """``build(store, step=b)`` -> the batches of steps ``b * block ... + block - 1``, stacked."""

    def stacked(store, step):
        steps = step * block + jnp.arange(block)
        return jax.vmap(lambda s: build(store, step=s))(steps)

    return stacked


def _load(source, references):
    """This host's ``(images, groups, trainable)``, with each item's reference from ``references``.

    An item whose reference is given forms a group with it alone, and the
    reference is kept for reference only (no batch row is drawn from it);
    the other items keep their file-name groups (:func:`group_names`).
    """
    items = process_shard(expand_sources(source))
    tags = [(g, True) for g in group_names(items)]
    extra = []
    if references is not None:
        for i, item in enumerate(items):
            ref = references(item)
            if ref is not None:
                pair = f"\0reference pair {i}"
                tags[i] = (pair, True)
                extra.append(ref)
                tags.append((pair, False))
    # The tags travel with the images, so an unreadable file drops its own.
    images, kept = load_images(items + extra, with_groups=True, groups=tags)
    return images, [g for g, _ in kept], [t for _, t in kept]


def _validator(net: RestoratorNet, train: TrainConfig, make):
    """``validate(params)``: the mean loss over the fixed validation batches."""
    batches = [make(i) for i in range(train.validation_batches)]
    key = jax.random.PRNGKey(_VALIDATION_SEED)
    loss = jax.jit(lambda params, batch: batch_loss(params, net, batch, train.loss, key))
    return lambda params: float(np.mean([loss(params, b) for b in batches]))


def _batches(make, start: int, stop: int, pipeline: str):
    """``(step, batch)`` in order: from a host thread, or dispatched on the device directly.

    Dispatching a device batch is already asynchronous, so it needs no thread.
    """
    if pipeline == "host":
        return Prefetcher(make, start, stop)
    return contextlib.nullcontext((step, make(step)) for step in range(start, stop))


def _progress(step: int, steps: int, loss: float, rate: float, eta: float) -> None:
    done = int(30 * step / steps)
    bar = "#" * done + "." * (30 - done)
    sys.stderr.write(
        f"\r[{bar}] {step}/{steps} loss {loss:.4f} {rate / 1e3:.0f}k points/s eta {eta:.0f}s "
    )
    sys.stderr.flush()


def train_restorator(
    data,
    config: RestoratorConfig | None = None,
    train: TrainConfig | None = None,
    *,
    init: Restorator | None = None,
    checkpoints=None,
    validation=None,
    references=None,
    progress: bool = True,
    mesh=None,
) -> Restorator:
    """Train a restorator on ``data`` and return it.

    Args:
      data: a folder of PNG/JPEG files (searched recursively), a list of
        paths, or an array / list of images (see
        :func:`inr.restorator.data.load_images`).
      config: the architecture and task (:class:`RestoratorConfig`; default
        ``init.config``, else ``RestoratorConfig()``, the ``restore`` task).
      train: the recipe (:class:`TrainConfig`; default ``TrainConfig()``).
      init: a :class:`Restorator` to fine-tune (for example
        ``load_restorator("pretrained:celeba")``): training starts from its
        parameters, with a fresh optimiser state and the whole learning-rate
        schedule of ``train`` (a warm restart, Loshchilov & Hutter 2017).
        Its parameters must fit ``config``'s shapes; the run's checkpoints
        remember which weights it started from, and resume only from them.
      checkpoints: ``None`` (no checkpoints, no log), a folder, or a
        :class:`Checkpoints` with the period, how many to keep and whether
        to resume.
      validation: held-out images (anything ``data`` may be), never
        trained on: every ``train.validate_every`` steps the loss on
        ``train.validation_batches`` fixed batches of them is logged as
        ``val_loss``, so overfitting shows.
      references: for a reference restorator, a function of each item of
        ``data`` and ``validation`` (a path, or an array, as given) that
        returns its reference (an image file's path or an array) or ``None``.
        Each item with one is trained against it, and the reference itself
        is never a training target.  Items without one (and every item, by
        default) draw references from their file-name group (CelebA's
        ``<identity>_<file>``), or from themselves.
      progress: draw a progress bar on stderr.
      mesh: the devices to train on, data parallel (``None``: all of them;
        a count; or a :class:`jax.sharding.Mesh` with a ``"data"`` axis, see
        :mod:`inr.distributed`).  The result does not depend on the device
        count (up to float32 reduction order), and a run saved on one mesh
        resumes on any other.  On several hosts every host calls this
        function, reads every ``process_count``-th item of ``data`` and
        builds its own rows of each batch; process 0 writes the log.

    Example::

        model = inr.train_restorator(
            "photos/",
            inr.RestoratorConfig(task="upscale"),
            inr.TrainConfig(steps=4000, loss="l1"),
            checkpoints="runs/upscale",
        )
    """
    if init is not None and not isinstance(init, Restorator):
        raise ValueError(f"init must be a Restorator (see load_restorator); got {init!r}")
    if config is None:
        config = RestoratorConfig() if init is None else init.config
    train = TrainConfig() if train is None else train
    if not isinstance(config, RestoratorConfig):
        raise ValueError(f"config must be a RestoratorConfig; got {config!r}")
    if not isinstance(train, TrainConfig):
        raise ValueError(f"train must be a TrainConfig; got {train!r}")
    check_terms(config, train)
    saving = as_checkpoints(checkpoints)
    mesh = as_mesh(mesh)
    check_divisible("batch_size", train.batch_size, mesh)
    if references is not None and not callable(references):
        raise ValueError(f"references must be a function or None; got {references!r}")
    if references is not None and not config.reference:
        raise ValueError("references needs RestoratorConfig(reference=True)")
    items = expand_sources(data)
    images, groups, trainable = _load(items, references)
    net = RestoratorNet(config)
    # Host copies: the weights may live on other devices than ``mesh``.
    warm = None if init is None else jax.device_get(checked_params(init.params, config, "init"))
    tx = make_optimizer(train)
    points_per_image = train.points_per_image
    make = batch_maker(images, config, train, mesh, train.seed, groups, trainable)
    validate = None
    if validation is not None:
        held, held_groups, held_rows = _load(validation, references)
        held_out = batch_maker(held, config, train, mesh, _VALIDATION_SEED, held_groups, held_rows)
        validate = _validator(net, train, held_out)

    # Everything that fixes the parameters a run ends with; resume checks it.
    meta = {"config": config.to_json(), "run": dict(train.record(), images=len(items))}
    if references is not None:  # which function paired the images
        meta["run"]["references"] = getattr(references, "__qualname__", repr(references))
    if warm is not None:
        meta["init"] = fingerprint(warm)

    def start(key, params):
        state = init_state(net, tx, key, points_per_image, train.adversarial)
        if params is None:
            return state
        return {**state, "params": params, "opt_state": tx.init(params)}

    key = jax.random.PRNGKey(train.seed)
    shardings = state_sharding(jax.eval_shape(start, key, warm), mesh, train.shard_params)
    lowered = jax.jit(start, out_shardings=shardings).lower(key, warm)
    state = lowered.compile(compiler_options=INIT_COMPILER_OPTIONS)(key, warm)
    manager = None
    if saving is not None:
        folder = str(saving.directory)
        manager = checkpoint.open_manager(saving.directory, saving.keep)
        if not saving.resume and manager.latest_step() is not None:
            raise ValueError(
                f"checkpoints folder {folder!r} already holds checkpoints; pass "
                "Checkpoints(..., resume=True) to continue that run, or choose an empty folder"
            )
        found = checkpoint.restore(manager, state)
        if found is not None:
            state, saved = found
            if saved != meta:
                changed = sorted(k for k in saved["run"] if saved["run"][k] != meta["run"].get(k))
                changed += [k for k in ("config", "init") if saved.get(k) != meta.get(k)]
                raise ValueError(
                    f"checkpoints folder {folder!r} holds a run with different "
                    f"settings ({', '.join(changed)}); use another folder"
                )
    start = int(state["step"])
    lead = jax.process_index() == 0
    progress = progress and lead
    log_path = None if manager is None or not lead else saving.directory / "metrics.jsonl"
    log = MetricsLog(log_path, start)
    step_fn = jax.jit(
        functools.partial(
            train_step,
            net,
            tx,
            train.loss,
            train.seed,
            perceptual=train.perceptual,
            adversarial=train.adversarial,
        ),
        in_shardings=(shardings, data_sharding(mesh)),
        out_shardings=(shardings, replicated(mesh)),
        donate_argnums=0,
    )

    steps, log_every = train.steps, train.log_every
    losses, t0, t_start = [], time.perf_counter(), time.perf_counter()
    with _batches(make, start, steps, train.pipeline) as batches:
        for step, batch in batches:
            state, value = step_fn(state, batch)
            losses.append(value)
            done = step + 1
            record = {}
            if done % log_every == 0 or done == steps:
                mean = float(np.mean(jax.device_get(losses)))
                elapsed = time.perf_counter() - t0
                rate = len(losses) * train.batch_size * points_per_image / elapsed
                record = {"step": done, "loss": mean, "points_per_second": rate}
                if progress:
                    _progress(done, steps, mean, rate, (steps - done) * elapsed / len(losses))
                losses, t0 = [], time.perf_counter()
            if validate is not None and (done % train.validate_every == 0 or done == steps):
                record = {"step": done, **record, "val_loss": validate(state["params"])}
            if record:
                log.write({**record, "elapsed_s": time.perf_counter() - t_start})
            if manager is not None and (done % saving.save_every == 0 or done == steps):
                checkpoint.save(manager, state, meta)
    if progress and start < steps:
        sys.stderr.write("\n")
    if manager is not None:
        manager.close()
    if not math.isfinite(float(jnp.sum(jax.tree.leaves(state["params"])[0]))):
        raise FloatingPointError("training diverged: parameters are not finite; lower lr")
    params = jax.jit(lambda p: p, out_shardings=replicated(mesh))(state["params"])
    return Restorator(params=params, config=config)

"""Training a restorator: :func:`train_restorator`, a short sequence of named steps.

1. check the arguments (:func:`_checked`);
2. load the images and make the batch stream (:mod:`inr.restorator.batches`);
3. build the initial state, or resume it from the latest checkpoint when
   the folder's run has the same record (:func:`_changed` names what differs);
4. run the jitted :func:`inr.restorator.step.train_step` from the state's
   step to ``train.steps`` (:func:`_run`), logging the mean loss, points per
   second and the loss on held-out ``validation`` images to
   ``metrics.jsonl``, and saving through orbax every ``save_every`` steps:
   killed at any moment, a resumed run ends with the same parameters as an
   uninterrupted one;
5. check the parameters are finite and return them as a :class:`Restorator`.
"""

from __future__ import annotations

import functools
import time
from pathlib import Path
from typing import NamedTuple

import jax
import numpy as np

from inr import checkpoint
from inr.checkpoint import MetricsLog, check_finite, differences, fingerprint
from inr.distributed import as_mesh, check_divisible, data_sharding, replicated, state_sharding
from inr.progress import as_progress
from inr.restorator.batches import batch_maker, batches, load_run_images
from inr.restorator.data import expand_sources
from inr.restorator.inference import Restorator, checked_params, derived_card
from inr.restorator.model import RestoratorConfig, RestoratorNet
from inr.restorator.options import TrainConfig, as_checkpoints, upgrade_record
from inr.restorator.step import INIT_COMPILER_OPTIONS, batch_loss, init_state, train_step

__all__ = ["train_restorator"]

# The validation batches' stream: fixed, so every evaluation sees the same points.
_VALIDATION_SEED = 0x5EED


def train_restorator(
    data,
    config: RestoratorConfig | None = None,
    train: TrainConfig | None = None,
    *,
    init: Restorator | None = None,
    checkpoints=None,
    validation=None,
    references=None,
    progress=True,
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
        :class:`~inr.checkpoint.Checkpoints` with the period, how many to
        keep and whether to resume.
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
      progress: ``True`` (lines on standard output), ``False`` or a callable
        ``(step, total, metrics)`` (:mod:`inr.progress`), every
        ``train.log_every`` steps with the mean loss and points per second.
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
            inr.TrainConfig(inr.restorator.Examples(points_per_image=2304), steps=4000),
            checkpoints="runs/upscale",
        )
    """
    config, train = _checked(config, train, init, references)
    saving, mesh = as_checkpoints(checkpoints), as_mesh(mesh)
    check_divisible("batch_size", train.batch_size, mesh)
    examples = train.examples.for_model(config)
    items = expand_sources(data)
    make = _stream(items, references, examples, train, mesh, train.seed)
    net, tx = RestoratorNet(config), train.make_optimizer()
    validate = None
    if validation is not None:
        held_out = _stream(validation, references, examples, train, mesh, _VALIDATION_SEED)
        validate = _validator(net, train, held_out)
    # Host copies: the weights may live on other devices than ``mesh``.
    warm = None if init is None else jax.device_get(checked_params(init.params, config, "init"))
    meta = _record(config, train, len(items), references, warm)
    meta["card"] = derived_card(init)  # not compared on resume: it follows from "init"
    state, shardings = _initial_state(net, tx, train, examples, warm, mesh)
    manager = None
    if saving is not None:
        manager, state = checkpoint.resume(saving, state, lambda saved: _changed(saved, meta))
    step_fn = jax.jit(
        functools.partial(train_step, net, tx, train.loss, train.seed),
        in_shardings=(shardings, data_sharding(mesh)),
        out_shardings=(shardings, replicated(mesh)),
        donate_argnums=0,
    )
    every = None if saving is None else saving.save_every
    log_to = None if saving is None else saving.directory / "metrics.jsonl"
    state = _run(
        state, step_fn, make, train, validate, _Saving(manager, every, meta, log_to), progress
    )
    check_finite({}, state["params"], what="training")
    params = jax.jit(lambda p: p, out_shardings=replicated(mesh))(state["params"])
    return Restorator(params=params, config=config, card=meta["card"])


def _checked(config, train, init, references) -> tuple[RestoratorConfig, TrainConfig]:
    """The architecture and recipe, defaults filled in, checked against each other."""
    if init is not None and not isinstance(init, Restorator):
        raise ValueError(f"init must be a Restorator (see load_restorator); got {init!r}")
    if config is None:
        config = RestoratorConfig() if init is None else init.config
    train = TrainConfig() if train is None else train
    if not isinstance(config, RestoratorConfig):
        raise ValueError(f"config must be a RestoratorConfig; got {config!r}")
    if not isinstance(train, TrainConfig):
        raise ValueError(f"train must be a TrainConfig; got {train!r}")
    train.loss.check(config, train.examples)
    if references is not None and not callable(references):
        raise ValueError(f"references must be a function or None; got {references!r}")
    if references is not None and not config.reference:
        raise ValueError("references needs RestoratorConfig(reference=True)")
    return config, train


def _stream(source, references, examples, train: TrainConfig, mesh, seed: int):
    """``make(step)`` of the images of ``source`` (this host's share)."""
    images, groups, trainable = load_run_images(source, references)
    return batch_maker(
        images, examples, train.batch_size, mesh, seed, pipeline=train.pipeline, groups=groups,
        trainable=trainable,
    )  # fmt: skip


def _validator(net: RestoratorNet, train: TrainConfig, make):
    """``validate(params)``: the mean loss over the fixed validation batches."""
    held_out = [make(i) for i in range(train.validation_batches)]
    key = jax.random.PRNGKey(_VALIDATION_SEED)
    loss = jax.jit(lambda params, batch: batch_loss(params, net, batch, train.loss, key))
    return lambda params: float(np.mean([loss(params, b) for b in held_out]))


def _record(config, train: TrainConfig, images: int, references, warm) -> dict:
    """Everything that fixes the parameters a run ends with: resume checks it."""
    meta = {"config": config.to_json(), "run": {**train.record(), "images": images}}
    if references is not None:  # which function paired the images
        meta["run"]["references"] = getattr(references, "__qualname__", repr(references))
    if warm is not None:
        meta["init"] = fingerprint(warm)
    return meta


def _initial_state(net, tx, train: TrainConfig, examples, warm, mesh):
    """The state before step 0 (from ``warm`` parameters if given) and its shardings."""

    def start(key, params):
        state = init_state(net, tx, key, examples.points_per_image, train.loss)
        if params is None:
            return state
        return {**state, "params": params, "opt_state": tx.init(params)}

    key = jax.random.PRNGKey(train.seed)
    shardings = state_sharding(jax.eval_shape(start, key, warm), mesh, train.shard_params)
    lowered = jax.jit(start, out_shardings=shardings).lower(key, warm)
    return lowered.compile(compiler_options=INIT_COMPILER_OPTIONS)(key, warm), shardings


def _changed(saved: dict, meta: dict) -> list[str]:
    """The names of the settings in which a saved run's record differs from this run's."""
    old, new = upgrade_record(saved["run"]), meta["run"]
    names = differences(old, new)
    if RestoratorConfig.from_json(saved["config"]) != RestoratorConfig.from_json(meta["config"]):
        names.append("config")
    return names + (["init"] if saved.get("init") != meta.get("init") else [])


class _Saving(NamedTuple):
    manager: object  # an orbax CheckpointManager, or None
    every: int
    meta: dict
    log_to: Path | None


def _run(state, step_fn, make, train: TrainConfig, validate, saving: _Saving, progress):
    """Steps from ``state["step"]`` to ``train.steps``: log, validate, save; the last state."""
    start, steps = int(state["step"]), train.steps
    lead = jax.process_index() == 0
    log = MetricsLog(saving.log_to if lead else None, start)
    report = _Report(train, as_progress(progress) if lead else None)
    with batches(make, start, steps, train.pipeline) as stream:
        for step, batch in stream:
            state, loss = step_fn(state, batch)
            done = step + 1
            record = report.add(done, loss)
            if validate is not None and (done % train.validate_every == 0 or done == steps):
                record = {"step": done, **record, "val_loss": validate(state["params"])}
            if record:
                log.write({**record, "elapsed_s": report.elapsed()})
            if saving.manager is not None and (done % saving.every == 0 or done == steps):
                checkpoint.save(saving.manager, state, saving.meta)
    if saving.manager is not None:
        saving.manager.close()
    return state


class _Report:
    """The mean loss and points per second every ``log_every`` steps, reported to ``progress``."""

    def __init__(self, train: TrainConfig, progress):
        self.train, self.progress, self.losses = train, progress, []
        self.t0 = self.t_start = time.perf_counter()

    def add(self, done: int, loss) -> dict:
        """Note step ``done``'s loss; the log record when one is due, else ``{}``."""
        self.losses.append(loss)
        train = self.train
        if done % train.log_every and done != train.steps:
            return {}
        mean = float(np.mean(jax.device_get(self.losses)))
        elapsed = time.perf_counter() - self.t0
        rate = len(self.losses) * train.batch_size * train.examples.points_per_image / elapsed
        metrics = {"loss": mean, "points_per_second": rate}
        if self.progress is not None:
            self.progress(done, train.steps, metrics)
        self.losses, self.t0 = [], time.perf_counter()
        return {"step": done, **metrics}

    def elapsed(self) -> float:
        return time.perf_counter() - self.t_start

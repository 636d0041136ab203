"""The training recipe of a restorator (:class:`TrainConfig`) and its default optimiser.

A :class:`TrainConfig` is a frozen dataclass checked when built, so a bad
value fails before any data is read.  It holds the examples
(:class:`~inr.restorator.examples.Examples`), the optimiser (any
``optax.GradientTransformation``; default :func:`restorator_optimizer`),
the loss (:class:`~inr.restorator.losses.Loss`), and how the run logs
and shards.  The architecture is the
other object, :class:`~inr.restorator.model.RestoratorConfig`.

Every field that fixes the parameters a run ends with is recorded in its
checkpoints (:meth:`TrainConfig.record`), and a resumed run must agree.
An optax object has no value to compare, so the record holds what it does:
its updates on a fixed probe problem (:func:`inr.checkpoint.optimizer_probe`).
"""

from __future__ import annotations

import dataclasses

import optax

from inr._validate import as_number, as_positive_int
from inr.checkpoint import Checkpoints, as_checkpoints, optimizer_probe
from inr.restorator.examples import Examples
from inr.restorator.losses import Loss, as_loss

__all__ = [
    "PIPELINES",
    "Checkpoints",
    "TrainConfig",
    "as_checkpoints",
    "optimizer_probe",
    "restorator_optimizer",
    "upgrade_record",
]

PIPELINES = ("device", "host")


def restorator_optimizer(
    steps: int, lr: float = 1e-3, *, clip: float | None = 1.0, weight_decay: float = 0.0,
    schedule: str = "cosine",
) -> optax.GradientTransformation:  # fmt: skip
    """Adam (AdamW with ``weight_decay``) after an optional global-norm clip.

    ``schedule="cosine"``: a linear warm-up over 5% of ``steps`` (at most
    200), then cosine decay to 1% of ``lr`` at ``steps`` (Loshchilov &
    Hutter 2017); ``"constant"``: ``lr`` throughout.  The default recipe of
    :class:`TrainConfig` is ``restorator_optimizer(config.steps)``.
    """
    as_positive_int(steps, "steps")
    as_number(lr, "lr", 0.0, low_open=True)
    as_number(weight_decay, "weight_decay", 0.0)
    if clip is not None:
        as_number(clip, "clip", 0.0, low_open=True)
    if schedule == "cosine":
        warmup = min(200, max(1, steps // 20))
        rate = optax.warmup_cosine_decay_schedule(0.0, lr, warmup, max(steps, warmup + 1), lr / 100)
    elif schedule == "constant":
        rate = lr
    else:
        raise ValueError(f"schedule must be 'cosine' or 'constant'; got {schedule!r}")
    parts = [optax.clip_by_global_norm(clip)] if clip else []
    if weight_decay:
        return optax.chain(*parts, optax.adamw(rate, weight_decay=weight_decay))
    return optax.chain(*parts, optax.adam(rate))


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """The training recipe.

    Attributes:
      examples: what one training example is (an
        :class:`~inr.restorator.examples.Examples`; its task and input size
        default to the restorator's).
      steps: total optimisation steps (a resumed run ends at this count).
      batch_size: examples per step, over all devices (it must divide
        evenly over the ``"data"`` axis of the mesh).
      optimizer: an ``optax.GradientTransformation``, or ``None`` for
        ``restorator_optimizer(steps)``.
      loss: what a step minimises, a :class:`~inr.restorator.losses.Loss`
        (the L1 or L2 error at the points, and TTSR's optional image
        terms), or ``"l1"`` / ``"l2"`` for that error alone.
      seed: fixes the initial parameters and the whole data stream.
      pipeline: where batches are computed: ``"device"`` (inside ``jit`` on
        the accelerator, from the images stored there) or ``"host"`` (the
        same function on the host's CPU, on a background thread, for image
        sets larger than the accelerator's memory).  Both draw the same
        stream (:mod:`inr.restorator.batches`).
      log_every: steps between lines of ``metrics.jsonl`` (and the progress bar).
      validate_every: steps between evaluations of the validation loss,
        when :func:`~inr.restorator.training.train_restorator` has validation data.
      validation_batches: batches (fixed, the same at every evaluation) in
        the validation loss.
      shard_params: split parameters and optimiser state over the devices
        (FSDP-style) instead of replicating them.
    """

    examples: Examples = Examples()
    steps: int = 2000
    batch_size: int = 16
    optimizer: optax.GradientTransformation | None = None
    loss: Loss | str = Loss()
    seed: int = 0
    pipeline: str = "device"
    log_every: int = 50
    validate_every: int = 500
    validation_batches: int = 4
    shard_params: bool = False

    def __post_init__(self):
        if not isinstance(self.examples, Examples):
            raise ValueError(f"examples must be an Examples; got {self.examples!r}")
        for name in ("steps", "batch_size", "log_every", "validate_every", "validation_batches"):
            as_positive_int(getattr(self, name), name)
        tx = self.optimizer
        if tx is not None and not isinstance(tx, optax.GradientTransformation):
            raise ValueError(f"optimizer must be an optax.GradientTransformation; got {tx!r}")
        object.__setattr__(self, "loss", as_loss(self.loss))
        if self.pipeline not in PIPELINES:
            raise ValueError(f"pipeline must be one of {PIPELINES}; got {self.pipeline!r}")

    def make_optimizer(self) -> optax.GradientTransformation:
        """``optimizer``, or the default recipe for ``steps`` when it is ``None``."""
        return restorator_optimizer(self.steps) if self.optimizer is None else self.optimizer

    def record(self) -> dict:
        """The fields that fix a run's result, as JSON-ready values (flat)."""
        out = {"steps": self.steps, "batch_size": self.batch_size, "seed": self.seed}
        out.update(self.examples.record(), **self.loss.record())
        out["optimizer"] = optimizer_probe(self.make_optimizer())
        return _without_old_defaults(out)


# Fields added after the first release, and what runs before them did:
# recorded only when they differ, so that those runs still resume.
_LATER = {
    "crop": "random",
    "downscale": "bicubic",
    "query": "uniform",
    "reference_size": None,
    "self_reference": 0.0,
    "perceptual": None,
    "adversarial": None,
}
_OLD_OPTIMIZER = ("lr", "schedule", "clip", "weight_decay")


def _without_old_defaults(record: dict) -> dict:
    return {k: v for k, v in record.items() if k not in _LATER or v != _LATER[k]}


def upgrade_record(run: dict) -> dict:
    """A run record saved before the optimiser was an optax object, in today's form.

    Those records name Adam's numbers (``lr``, ``schedule``, ``clip``,
    ``weight_decay``) and the pipeline; today's hold the optimiser's probe,
    and the pipeline no longer changes the stream.  A run made with the old
    host pipeline keeps its ``pipeline`` entry: its stream no longer exists,
    so it does not resume.
    """
    if "lr" not in run:
        return run
    run = dict(run)
    numbers = {k: run.pop(k) for k in _OLD_OPTIMIZER}
    tx = restorator_optimizer(
        run["steps"], numbers["lr"], clip=numbers["clip"], weight_decay=numbers["weight_decay"],
        schedule=numbers["schedule"],
    )  # fmt: skip
    if run.get("pipeline") == "device":
        del run["pipeline"]
    return _without_old_defaults({**run, "optimizer": optimizer_probe(tx)})

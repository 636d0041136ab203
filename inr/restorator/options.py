"""Training options: the recipe (:class:`TrainConfig`) and where it saves (:class:`Checkpoints`).

Both are frozen dataclasses checked when built, so a bad value fails
before any data is read.  The architecture is the other object,
:class:`~inr.restorator.model.RestoratorConfig`.  Every field of a
:class:`TrainConfig` that fixes the parameters a run ends with is recorded
in its checkpoints, and a resumed run must agree with it.
"""

from __future__ import annotations

import dataclasses
import math

from inr._validate import as_positive_int
from inr.checkpoint import Checkpoints, as_checkpoints
from inr.restorator.data import CROPS, DOWNSCALES, QUERIES
from inr.restorator.losses import Adversarial, Perceptual
from inr.restorator.masking import Masking, as_masking

__all__ = ["LOSSES", "PIPELINES", "SCHEDULES", "Checkpoints", "TrainConfig", "as_checkpoints"]

LOSSES = ("l1", "l2")
PIPELINES = ("device", "host")
SCHEDULES = ("cosine", "constant")


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """The training recipe.

    Attributes:
      steps: total optimisation steps (a resumed run ends at this count).
      batch_size: images per step, over all devices (it must divide evenly
        over the ``"data"`` axis of the mesh).
      points_per_image: query points decoded per image.
      loss: ``"l1"`` or ``"l2"`` colour (or denoising) error.
      lr: peak learning rate of Adam (AdamW with ``weight_decay``).
      schedule: ``"cosine"`` (linear warm-up over 5% of the steps, at most
        200, then cosine decay to 1% of ``lr``; Loshchilov & Hutter 2017) or
        ``"constant"``.
      clip: global gradient-norm clip, or ``None``.
      weight_decay: AdamW's decoupled weight decay (0: plain Adam).
      masking: FranNet's masking of the inputs: ``None``, a grid size,
        ``"uniform"``, ``"dynamic"`` or a :class:`~inr.restorator.masking.Masking`.
      max_scale: largest upscaling factor drawn for the ``upscale`` task.
      crop: ``"random"`` (each task's random crops, see
        :mod:`inr.restorator.data`) or ``"centre"`` (the whole centred
        square of every image: FranNet's CelebA protocol, with flips only).
      downscale: the filter that makes the small input: ``"bicubic"``
        (antialiased, :func:`inr.resize`) or ``"bilinear"`` (TensorFlow's
        default, not antialiased; FranNet's, see :mod:`inr.restorator.frannet`).
      query: where the targets are read: ``"uniform"`` points of the
        crop, interpolated bilinearly, ``"pixels"``, centres of random
        target pixels with their exact colours (LIIF's), or ``"patch"``,
        a random square block of ``points_per_image`` target pixels (a
        square number) whose outputs form an image, for the image terms
        below (see :mod:`inr.restorator.data`).
      reference_dropout: a reference restorator's share of examples trained
        without their reference, so that it also works without one.
      self_reference: its share of examples whose reference is their own
        target crop (TTSR's "the reference is the desired output"): they
        teach the decoder that a confident match is worth copying.
      seed: fixes the initial parameters and the whole data stream.
      pipeline: where batches are built: ``"device"`` (inside ``jit`` from
        a uint8 store of the images on the accelerator,
        :mod:`inr.restorator.stream`) or ``"host"`` (NumPy on a background
        thread, :mod:`inr.restorator.data`; for image sets larger than the
        device's memory).  The two draw different streams.
      log_every: steps between lines of ``metrics.jsonl`` (and the progress bar).
      validate_every: steps between evaluations of the validation loss,
        when :func:`~inr.restorator.train.train_restorator` has validation data.
      validation_batches: batches (fixed, the same at every evaluation) in
        the validation loss.
      shard_params: split parameters and optimiser state over the devices
        (FSDP-style) instead of replicating them.
      perceptual: TTSR's perceptual term, a
        :class:`~inr.restorator.losses.Perceptual`, or ``None`` (off).
      adversarial: TTSR's adversarial term (WGAN-GP), an
        :class:`~inr.restorator.losses.Adversarial`, or ``None`` (off).
        Both judge whole images, so they need ``query="patch"``; the
        validation loss stays the reconstruction error alone.
    """

    steps: int = 2000
    batch_size: int = 16
    points_per_image: int = 1024
    loss: str = "l1"
    lr: float = 1e-3
    schedule: str = "cosine"
    clip: float | None = 1.0
    weight_decay: float = 0.0
    masking: Masking | int | str | None = None
    max_scale: float = 4.0
    crop: str = "random"
    downscale: str = "bicubic"
    query: str = "uniform"
    reference_dropout: float = 0.2
    self_reference: float = 0.0
    seed: int = 0
    pipeline: str = "device"
    log_every: int = 50
    validate_every: int = 500
    validation_batches: int = 4
    shard_params: bool = False
    perceptual: Perceptual | None = None
    adversarial: Adversarial | None = None

    def __post_init__(self):
        counts = ("steps", "batch_size", "points_per_image")
        for name in (*counts, "log_every", "validate_every", "validation_batches"):
            as_positive_int(getattr(self, name), name)
        if self.loss not in LOSSES:
            raise ValueError(f"loss must be one of {LOSSES}; got {self.loss!r}")
        if self.pipeline not in PIPELINES:
            raise ValueError(f"pipeline must be one of {PIPELINES}; got {self.pipeline!r}")
        if self.crop not in CROPS:
            raise ValueError(f"crop must be one of {CROPS}; got {self.crop!r}")
        if self.downscale not in DOWNSCALES:
            raise ValueError(f"downscale must be one of {DOWNSCALES}; got {self.downscale!r}")
        if self.query not in QUERIES:
            raise ValueError(f"query must be one of {QUERIES}; got {self.query!r}")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {SCHEDULES}; got {self.schedule!r}")
        _positive_number(self.lr, "lr")
        _positive_number(self.max_scale, "max_scale", minimum=1.0)
        if self.clip is not None:
            _positive_number(self.clip, "clip")
        for name in ("reference_dropout", "self_reference"):
            share = getattr(self, name)
            if not (isinstance(share, (int, float)) and 0 <= share <= 1):
                raise ValueError(f"{name} must be in [0, 1]; got {share!r}")
        if not (math.isfinite(self.weight_decay) and self.weight_decay >= 0):
            raise ValueError(f"weight_decay must be >= 0; got {self.weight_decay!r}")
        object.__setattr__(self, "masking", as_masking(self.masking))
        side = math.isqrt(self.points_per_image)
        if self.query == "patch" and side * side != self.points_per_image:
            raise ValueError(
                "points_per_image must be a square number with query='patch'; "
                f"got {self.points_per_image}"
            )
        for name, kind in (("perceptual", Perceptual), ("adversarial", Adversarial)):
            term = getattr(self, name)
            if term is not None and not isinstance(term, kind):
                raise ValueError(f"{name} must be None or a {kind.__name__}; got {term!r}")
            if term is not None and self.query != "patch":
                raise ValueError(
                    f"{name} judges whole images: it needs query='patch'; got {self.query!r}"
                )

    def record(self) -> dict:
        """The fields that fix a run's result, as JSON-ready values."""
        out = dataclasses.asdict(self)
        for name in ("perceptual", "adversarial"):
            term = getattr(self, name)
            out[name] = None if term is None else term.record()
        for how in ("log_every", "validate_every", "validation_batches", "shard_params"):
            del out[how]  # how it runs, not what it computes
        for later, before in _LATER.items():
            # Recorded only when not what runs saved before the field existed
            # did, so that those runs still resume.
            if out[later] == before:
                del out[later]
        return out


# Fields added after the first release, and what runs before them did.
_LATER = {
    "crop": "random",
    "downscale": "bicubic",
    "query": "uniform",
    "self_reference": 0.0,
    "perceptual": None,
    "adversarial": None,
}


def _positive_number(value, name: str, minimum: float = 0.0) -> None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not ok or not math.isfinite(value) or value <= 0 or value < minimum:
        bound = f">= {minimum:g}" if minimum else "> 0"
        raise ValueError(f"{name} must be a finite number {bound}; got {value!r}")

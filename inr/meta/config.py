"""What meta-learning does: the method and its sizes, one frozen object.

Methods (the outer gradient each step, averaged over a batch of signals):

* ``"maml"`` (Finn et al. 2017): the exact gradient of the loss after the
  inner steps with respect to the initialisation (and, with
  ``learn_rates``, the per-parameter inner rates: Meta-SGD, Li et al.
  2017), differentiating through the inner loop (second order);
* ``"fomaml"``: the same with each inner gradient held constant (first
  order: cheaper, no Hessian-vector products);
* ``"reptile"`` (Nichol et al. 2018): no outer differentiation; the outer
  "gradient" is ``theta - theta_K``, the way the inner steps moved the
  parameters.  Its rates are fixed.

learnit (Tancik et al. 2021) meta-learns SIREN initialisations with MAML
(2 inner SGD steps at 1e-2, outer Adam 1e-5); functa (Dupont et al. 2022)
meta-learns shared weights with Meta-SGD on the latent (3 inner steps).
"""

from __future__ import annotations

import dataclasses

from inr._validate import as_number, as_positive_int

__all__ = ["METHODS", "MetaConfig"]

METHODS = ("maml", "fomaml", "reptile")


@dataclasses.dataclass(frozen=True)
class MetaConfig:
    """How to meta-learn.

    Attributes:
      method: one of :data:`METHODS`.
      inner_steps: SGD steps per signal in the inner loop (``K``).
      inner_lr: the inner rate: fixed, or where learned rates start.
      learn_rates: learn a rate per parameter (per latent dimension for a
        functa): Meta-SGD.  ``"maml"`` and ``"fomaml"`` only.
      batch_size: signals per outer step, drawn uniformly (with
        replacement) from the data, a function of ``seed`` and the step.
      steps: outer steps.
      points: ``None`` fits every sample of a signal in each inner step;
        an int draws that many (for signals too large for a step).
      seed: the data draws' seed (and the network's initialisation).
      log_every: outer steps per line of ``metrics.jsonl`` (and of
        progress); they run as one compiled ``lax.scan``.
    """

    method: str = "maml"
    inner_steps: int = 3
    inner_lr: float = 1e-2
    learn_rates: bool = True
    batch_size: int = 3
    steps: int = 1000
    points: int | None = None
    seed: int = 0
    log_every: int = 50

    def __post_init__(self):
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}; got {self.method!r}")
        as_positive_int(self.inner_steps, "inner_steps")
        as_number(self.inner_lr, "inner_lr", 0.0, low_open=True)
        if self.learn_rates and self.method == "reptile":
            raise ValueError(
                "learn_rates needs method 'maml' or 'fomaml' (Reptile's rates are fixed)"
            )
        as_positive_int(self.batch_size, "batch_size")
        as_positive_int(self.steps, "steps")
        if self.points is not None:
            as_positive_int(self.points, "points")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise ValueError(f"seed must be an integer; got {self.seed!r}")
        as_positive_int(self.log_every, "log_every")

    def step_options(self) -> MetaConfig:
        """This config as one outer step sees it: its length, seed and logging set aside.

        What a compiled step depends on (the method, inner steps and rate,
        rates learned or not, batch size, points); the rest are the loop's.
        """
        return dataclasses.replace(self, steps=1, seed=0, log_every=1)

    def record(self) -> dict:
        """What a checkpoint's run must agree with to resume: every field but the length.

        ``steps`` and ``log_every`` are left out, so a run continues in
        pieces: the same call with more ``steps`` goes on where it ended.
        """
        fields = dataclasses.asdict(self)
        return {k: v for k, v in fields.items() if k not in ("steps", "log_every")}

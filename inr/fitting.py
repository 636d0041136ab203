"""``inr.fit``: fit a coordinate network to any objective, one or a stack at once.

The one public entry of every fit (the gridded conveniences of
:mod:`inr.gridded`, :func:`inr.shapes.fit_sdf` and the forward models are
thin layers over it).  What is minimised is the objective's business
(:mod:`inr.objective`); the network is any Flax module (default the
objective's, the paper's SIREN for a pointwise field) and the optimiser
any ``optax.GradientTransformation`` (default :data:`DEFAULT_OPTIMIZER`).
Both are static: the compiled fit is reused for every call with the same
model, optimiser object, objective options and shapes.

Many fits at once: :class:`Stack` holds objectives of one kind and shape,
every leaf with a leading fit axis (:func:`stack` builds one from a list);
``fit(Stack(...))`` trains one network per objective in one program
(``vmap``), split over the devices of ``mesh``, and returns a batched
:class:`~inr.FitResult`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from functools import partial

import flax.linen as nn
import flax.struct
import jax
import numpy as np
import optax

from inr._validate import as_positive_int
from inr.checkpoint import as_checkpoints, fingerprint, optimizer_probe
from inr.init import Init
from inr.loop import run
from inr.objective import Objective
from inr.result import FitResult

__all__ = ["DEFAULT_OPTIMIZER", "Stack", "fit", "ngp_adam", "resolve_options", "stack"]

DEFAULT_OPTIMIZER = optax.adam(1e-4)
"""The paper's optimiser: Adam with learning rate 1e-4."""


def ngp_adam(steps: int, rate: float = 1e-2) -> optax.GradientTransformation:
    """instant-ngp's Adam (beta2 0.99, epsilon 1e-15), its rate decaying 10x over ``steps``.

    For hash grids: a table row that few points touch moves at once when
    they do (the small epsilon), and the decay settles the fit.
    """
    steps = as_positive_int(steps, "steps")
    return optax.adam(optax.exponential_decay(rate, steps, 0.1), b1=0.9, b2=0.99, eps=1e-15)


@flax.struct.dataclass
class Stack:
    """Objectives of one kind and shape fitted at once: each leaf of ``objectives`` has a
    leading fit axis.  Fit ``i`` starts from ``PRNGKey(seed + i)``; all see the same draws."""

    objectives: Objective

    def __len__(self) -> int:
        return jax.tree.leaves(self.objectives)[0].shape[0]


def stack(objectives: Sequence[Objective]) -> Stack:
    """A :class:`Stack` of same-shaped objectives of one kind (their leaves stacked)."""
    objectives = list(objectives)
    if not objectives or not all(isinstance(o, Objective) for o in objectives):
        raise ValueError("objectives must be a non-empty sequence of inr.Objective")
    kinds = {jax.tree.structure(o) for o in objectives}
    shapes = {tuple(np.shape(x) for x in jax.tree.leaves(o)) for o in objectives}
    if len(kinds) > 1 or len(shapes) > 1:
        raise ValueError("objectives must be of one kind, with the same options and shapes")
    return Stack(jax.tree.map(lambda *xs: jax.numpy.stack(xs), *objectives))


def resolve_options(objective: Objective, model, optimizer, init=None):
    """``(model, optimizer, start)`` validated for ``objective``: the defaults for ``None``,
    and an init's network, rates and parameters.  ``ValueError`` names a bad one."""
    start = None
    if init is not None:
        if not isinstance(init, Init):
            raise ValueError(f"init must be None or an inr.Init; got {type(init).__name__}")
        if model is not None and model != init.model:
            raise ValueError(f"model must be None or the init's own network {init.model!r}")
        if init.dims != objective.dims:
            raise ValueError(
                f"init was learned for {init.dims}-axis signals; this objective has "
                f"{objective.dims}"
            )
        model, start = init.model, init.params
        optimizer = init.optimizer if optimizer is None else optimizer
    model = objective.default_model() if model is None else model
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a Flax module such as inr.Siren(); got {model!r}")
    optimizer = DEFAULT_OPTIMIZER if optimizer is None else optimizer
    if not isinstance(optimizer, optax.GradientTransformation):
        raise ValueError(
            f"optimizer must be an optax.GradientTransformation such as optax.adam(1e-4); "
            f"got {optimizer!r}"
        )
    objective.check_model(model)
    return model, optimizer, start


def _record(objective: Objective, model, optimizer, seed: int, start) -> dict:
    """What a resumed fit must agree with: the objective's data and options, network,
    optimiser (as its probe's numbers), seed and starting point."""
    static = {f.name: repr(getattr(objective, f.name)) for f in dataclasses.fields(objective)
              if not f.metadata.get("pytree_node", True)}  # fmt: skip
    return {"objective": type(objective).__name__, "options": static,
            "data": fingerprint(objective), "model": repr(model),
            "optimizer": optimizer_probe(optimizer), "seed": seed,
            "start": None if start is None else fingerprint(start)}  # fmt: skip


@partial(jax.jit, static_argnums=(0, 1))
def _offset(model, stacked: bool, objective, params):
    if stacked:
        return jax.vmap(lambda o, p: o.offset(model, p))(objective, params)
    return objective.offset(model, params)


def fit(
    objective: Objective | Stack,
    *,
    model: nn.Module | None = None,
    optimizer: optax.GradientTransformation | None = None,
    init: Init | None = None,
    steps: int = 500,
    seed: int = 0,
    progress=False,
    mesh=None,
    checkpoints=None,
) -> FitResult:
    """Fit a coordinate network to ``objective`` and return a :class:`~inr.FitResult`.

    Args:
      objective: an :class:`~inr.Objective` (what each step draws and
        minimises), or a :class:`Stack` of them (one network each).
      model: any Flax module; default ``objective.default_model()`` (the
        paper's SIREN, 256 x 3, for a pointwise field).
      optimizer: any ``optax.GradientTransformation``; default
        :data:`DEFAULT_OPTIMIZER`, the paper's ``optax.adam(1e-4)``.
      init: an :class:`~inr.Init`, a learned initialisation: the fit starts
        from its parameters with its network and, unless ``optimizer`` is
        given, steps with SGD at its learned rates; ``model`` must then be
        ``None`` or its network.
      steps: optimisation steps.
      seed: the fit's key, ``PRNGKey(seed)``, for its draws and its
        initialisation (``PRNGKey(seed + i)`` for fit ``i`` of a stack).
      progress: ``True``, ``False`` or a callable ``(step, total, metrics)``
        (:mod:`inr.progress`).
      mesh: ``None`` (one device; a stack: this host's devices), a device
        count or a :class:`jax.sharding.Mesh` with a ``"data"`` axis: one
        fit's points per step are split over it where they divide evenly
        (data parallel, the same sums in parts); a stack's fits are.
      checkpoints: ``None``, a folder or an :class:`~inr.Checkpoints`: the
        fit saves there (orbax, atomic) every ``save_every`` steps, writes
        ``metrics.jsonl``, and a call with the same arguments resumes it
        where it stopped, to the same parameters as an uninterrupted run.

    Returns:
      A :class:`~inr.FitResult`: ``params``, ``model``, the per-step
      ``history`` of every metric the objective reports and, for a gridded
      objective, its ``layout``.

    Raises:
      ValueError: a bad argument, named.
      FloatingPointError: the loss was not finite at the end.
    """
    stacked = isinstance(objective, Stack)
    one = objective.objectives if stacked else objective
    if not isinstance(one, Objective):
        raise ValueError(f"objective must be an inr.Objective or a Stack; got {objective!r}")
    steps = as_positive_int(steps, "steps")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"seed must be an integer; got {seed!r}")
    model, optimizer, start = resolve_options(one, model, optimizer, init)
    saving = as_checkpoints(checkpoints)
    record = None if saving is None else _record(one, model, optimizer, int(seed), start)
    params, history, ended, _ = run(one, model, optimizer, steps, seed=int(seed), start=start,
                                    progress=progress, mesh=mesh, stacked=stacked,
                                    checkpoints=saving, record=record)  # fmt: skip
    offset = _offset(model, stacked, one, params)
    state = {name: getattr(ended, name) for name in getattr(ended, "state", ())}
    return FitResult(params=params, offset=offset, history=history, model=model,
                     layout=one.layout, state=state)  # fmt: skip

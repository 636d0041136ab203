"""``inr.fit``: fit a coordinate network to any objective, one or a stack at once.

The one public entry of every fit (the gridded conveniences of
:mod:`inr.gridded`, :func:`inr.shapes.fit_sdf` and the forward models are
thin layers that build an objective and call it).  What is minimised is
the objective's business (:mod:`inr.objective`), and so is the recipe a
caller leaves out: its default network, optimiser for a step count and
step count.  The network is any Flax module and the optimiser any
``optax.GradientTransformation``.

Compiled once per shape: a second fit with new data of the same shapes,
another step count, or an optimiser written anew with the same values
(``optax.adam(1e-3)`` again) runs the program the first one compiled.
What compiles anew: new shapes (another signal size, point count or
network), new options of the objective, and an optimiser of another
structure or other constants (``optax.adam(2e-3)``; put a rate in the
optimiser's state with ``optax.inject_hyperparams`` to vary it freely, as
:func:`ngp_adam` does).

Many fits at once: :func:`stack` makes a :class:`Stack` of objectives of
one kind and shape; ``fit`` of it trains one network per objective in one
program (``vmap``), split over the devices of ``mesh``, and returns a
batched :class:`~inr.FitResult`.  A fit goes on from where another
stopped with ``init=result``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import NamedTuple

import flax.linen as nn
import flax.struct
import jax
import jax.numpy as jnp
import numpy as np
import optax

from inr._by_value import ByValue
from inr._validate import as_positive_int
from inr.checkpoint import as_checkpoints, fingerprint, optimizer_probe
from inr.init import Init
from inr.loop import run, unshared
from inr.objective import DEFAULT_OPTIMIZER, Objective
from inr.result import FitResult

__all__ = ["DEFAULT_OPTIMIZER", "Stack", "decayed_adam", "fit", "ngp_adam", "resolve_options",
           "run_record", "stack"]  # fmt: skip


class DecayState(NamedTuple):
    """:func:`decayed_adam`'s schedule as data: the step count, the rate, its horizon and the
    factor it decays by over that horizon."""

    count: jax.Array
    rate: jax.Array
    horizon: jax.Array
    decay: jax.Array


def _decay(updates, state: DecayState, params=None, **extra_args):
    """Scale by ``-rate * decay ** (count / horizon)`` (optax's ``exponential_decay``)."""
    del params, extra_args
    scale = -state.rate * state.decay ** (state.count / state.horizon)
    updates = jax.tree.map(lambda u: jnp.asarray(scale, u.dtype) * u, updates)
    return updates, state._replace(count=optax.safe_int32_increment(state.count))


def decayed_adam(steps: int, rate: float, *, decay: float = 0.1, b1: float = 0.9,
                 b2: float = 0.999, eps: float = 1e-8) -> optax.GradientTransformation:  # fmt: skip
    """Adam whose rate decays exponentially by ``decay`` over ``steps``.

    The rate, the horizon and the decay are the optimiser's state, not
    constants of its program, so fits of any length or rate share one
    compiled program (Adam's own constants ``b1``, ``b2``, ``eps`` do not).
    """
    steps = as_positive_int(steps, "steps")
    for name, value in (("rate", rate), ("decay", decay)):
        if isinstance(value, bool) or not np.isfinite(value) or value <= 0:
            raise ValueError(f"{name} must be a positive number; got {value!r}")

    def init(params):
        del params
        return DecayState(jnp.zeros([], jnp.int32), jnp.float32(rate), jnp.float32(steps),
                          jnp.float32(decay))  # fmt: skip

    # Taking extra arguments itself, the decay is not wrapped by optax.chain, whose
    # wrapper would close over ``init`` and so over this fit's rate and length.
    schedule = optax.GradientTransformationExtraArgs(init, _decay)
    return optax.chain(optax.scale_by_adam(b1=b1, b2=b2, eps=eps), schedule)


def ngp_adam(steps: int, rate: float = 1e-2) -> optax.GradientTransformation:
    """instant-ngp's Adam (beta2 0.99, epsilon 1e-15), its rate decaying 10x over ``steps``.

    For hash grids: a table row that few points touch moves at once when
    they do (the small epsilon), and the decay settles the fit.  A
    :func:`decayed_adam`: its rate and horizon are state.
    """
    return decayed_adam(steps, rate, decay=0.1, b2=0.99, eps=1e-15)


@flax.struct.dataclass
class Stack:
    """Objectives of one kind and shape fitted at once: each leaf of ``objectives`` has a
    leading fit axis but those of its shared fields.  Fit ``i`` starts from
    ``PRNGKey(seed + i)``; all see the same draws.  Build one with :func:`stack`."""

    objectives: Objective

    def __len__(self) -> int:
        return jax.tree.leaves(unshared(self.objectives)[0])[0].shape[0]


def _same(a, b) -> bool:
    leaves_a, leaves_b = jax.tree.leaves(a), jax.tree.leaves(b)
    if jax.tree.structure(a) != jax.tree.structure(b):
        return False
    return all(x is y or np.array_equal(np.asarray(x), np.asarray(y))
               for x, y in zip(leaves_a, leaves_b, strict=True))  # fmt: skip


def stack(objectives: Sequence[Objective]) -> Stack:
    """A :class:`Stack` of same-shaped objectives of one kind: the one way to make one.

    Their leaves are stacked along a new leading axis, but for the fields
    the objective names in ``shared`` (a grid's coordinates, a functa's
    shared weights), which must be equal and are kept once.  The objectives
    must share their options and their value range.
    """
    objectives = list(objectives)
    if not objectives or not all(isinstance(o, Objective) for o in objectives):
        raise ValueError("objectives must be a non-empty sequence of inr.Objective")
    parts = [unshared(o) for o in objectives]
    kinds = {jax.tree.structure(p[0]) for p in parts}
    shapes = {tuple(np.shape(x) for x in jax.tree.leaves(p[0])) for p in parts}
    if len(kinds) > 1 or len(shapes) > 1:
        raise ValueError("objectives must be of one kind, with the same options and shapes")
    shared = parts[0][1]
    if not all(_same(shared, p[1]) for p in parts[1:]):
        raise ValueError(f"objectives must agree in their shared fields {sorted(shared)}")
    layouts = [o.layout for o in objectives]
    if layouts[0] is not None and not all(_same(layouts[0], v) for v in layouts[1:]):
        raise ValueError("objectives must share one value range (give value_range=)")
    stacked = jax.tree.map(lambda *xs: jnp.stack(xs), *[p[0] for p in parts])
    return Stack(stacked.replace(**shared))


def _continued(result: FitResult, objective: Objective, model, optimizer):
    """``(model, optimizer)`` of a fit that goes on from ``result``."""
    if model is not None and model != result.model:
        raise ValueError(f"model must be None or the result's own network {result.model!r}")
    if result.optimizer is None or result.opt_state is None:
        raise ValueError("init: this result keeps no optimiser state to go on from")
    if optimizer is not None and ByValue(optimizer.update) != ByValue(result.optimizer.update):
        raise ValueError("optimizer must be None or the result's own optimiser to go on")
    if result.layout is not None and objective.layout is not None:
        if result.layout.shape != objective.layout.shape:
            raise ValueError("init: the result was fitted to a field of another shape")
    return result.model, result.optimizer


def resolve_options(objective: Objective, model, optimizer, init=None, steps: int | None = None):
    """``(model, optimizer, start)`` validated for ``objective``: its defaults for ``None``,
    an init's network, rates and parameters, or a result's to go on from.  ``start`` is
    ``None``, starting parameters, or the :class:`~inr.FitResult` to continue.
    ``ValueError`` names a bad argument."""
    start = None
    if isinstance(init, FitResult):
        model, optimizer = _continued(init, objective, model, optimizer)
        start = init
    elif init is not None:
        if not isinstance(init, Init):
            raise ValueError(f"init must be None, an inr.Init or a FitResult; got "
                             f"{type(init).__name__}")  # fmt: skip
        if model is not None and model != init.model:
            raise ValueError(f"model must be None or the init's own network {init.model!r}")
        if init.dims != objective.dims:
            raise ValueError(f"init was learned for {init.dims}-axis signals; this objective "
                             f"has {objective.dims}")  # fmt: skip
        model, start = init.model, init.params
        optimizer = init.optimizer if optimizer is None else optimizer
    model = objective.default_model() if model is None else model
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a Flax module such as inr.Siren(); got {model!r}")
    if optimizer is None:
        optimizer = objective.default_optimizer(objective.default_steps if steps is None else steps)
    if not isinstance(optimizer, optax.GradientTransformation):
        raise ValueError(
            f"optimizer must be an optax.GradientTransformation such as optax.adam(1e-4); "
            f"got {optimizer!r}"
        )
    objective.check_model(model)
    return model, optimizer, start


def run_record(objective: Objective, model, optimizer, seed: int, start) -> dict:
    """What a resumed run must agree with: the objective's kind, options and data, the
    network, the optimiser (its probe's numbers), the seed and the starting point.

    The one resume record of every run on the loop (fits and meta-training).
    """
    static = {f.name: repr(getattr(objective, f.name)) for f in dataclasses.fields(objective)
              if not f.metadata.get("pytree_node", True)}  # fmt: skip
    if isinstance(start, FitResult):
        start = (start.params, start.step)
    return {"objective": type(objective).__name__, "options": static,
            "data": fingerprint(objective), "model": repr(model),
            "optimizer": optimizer_probe(optimizer), "seed": seed,
            "start": None if start is None else fingerprint(start)}  # fmt: skip


def _seed(seed, init) -> int:
    if isinstance(init, FitResult):
        if seed is not None and seed != init.seed:
            raise ValueError(f"seed must be None or the result's own seed {init.seed}")
        return init.seed
    seed = 0 if seed is None else seed
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"seed must be an integer; got {seed!r}")
    return int(seed)


def fit(
    objective: Objective | Stack,
    *,
    model: nn.Module | None = None,
    optimizer: optax.GradientTransformation | None = None,
    init: Init | FitResult | None = None,
    steps: int | None = None,
    seed: int | None = None,
    progress=False,
    mesh=None,
    checkpoints=None,
):
    """Fit a coordinate network to ``objective`` and return what the objective's fits return.

    Args:
      objective: an :class:`~inr.Objective` (what each step draws and
        minimises), or a :class:`Stack` of them (one network each).
      model: any Flax module; default ``objective.default_model()`` (the
        paper's SIREN, 256 x 3, for a pointwise field).
      optimizer: any ``optax.GradientTransformation``; default
        ``objective.default_optimizer(steps)`` (the paper's
        ``optax.adam(1e-4)`` for most).
      init: an :class:`~inr.Init`, a learned initialisation: the fit starts
        from its parameters with its network and, unless ``optimizer`` is
        given, steps with SGD at its learned rates; or a
        :class:`~inr.FitResult` of this objective: the fit goes on from
        where that one stopped (its parameters, optimiser and state, step
        and seed), so ``steps=500`` after 500 steps equals one fit of 1000.
      steps: optimisation steps (more steps, after a result);
        default ``objective.default_steps``.
      seed: the fit's key, ``PRNGKey(seed)``, for its draws and its
        initialisation (``PRNGKey(seed + i)`` for fit ``i`` of a stack);
        default 0 (a continued fit: its result's).
      progress: ``True``, ``False`` or a callable ``(step, total, metrics)``
        (:mod:`inr.progress`).
      mesh: ``None`` (one device; a stack: this host's devices), a device
        count or a :class:`jax.sharding.Mesh` with a ``"data"`` axis: one
        fit's points per step are split over it as the objective declares
        (:meth:`~inr.Objective.split`; data parallel, the same sums in
        parts); a stack's fits are.
      checkpoints: ``None``, a folder or an :class:`~inr.Checkpoints`: the
        fit saves there (orbax, atomic) every ``save_every`` steps, writes
        ``metrics.jsonl``, and a call with the same arguments resumes it
        where it stopped, to the same parameters as an uninterrupted run.

    Returns:
      ``objective.result(...)`` of a :class:`~inr.FitResult`: ``params``,
      ``model``, the per-step ``history`` of every metric the objective
      reports, the field's ``layout`` and where the fit stopped; a radiance
      field or a signed distance field for their objectives.

    Raises:
      ValueError: a bad argument, named.
      inr.checkpoint.FitDiverged: the loss or the parameters stopped being
        finite; the error's ``history`` holds every step up to it.
    """
    stacked = isinstance(objective, Stack)
    one = objective.objectives if stacked else objective
    if not isinstance(one, Objective):
        raise ValueError(f"objective must be an inr.Objective or a Stack; got {objective!r}")
    steps = one.default_steps if steps is None else as_positive_int(steps, "steps")
    seed = _seed(seed, init)
    model, optimizer, start = resolve_options(one, model, optimizer, init, steps)
    saving = as_checkpoints(checkpoints)
    record = None if saving is None else run_record(one, model, optimizer, seed, start)
    resume = start.outcome() if isinstance(start, FitResult) else None
    params = None if isinstance(start, FitResult) else start
    outcome = run(one, model, optimizer, steps, seed=seed, params=params, resume=resume,
                  progress=progress, mesh=mesh, stacked=stacked, checkpoints=saving,
                  record=record)  # fmt: skip
    return FitResult.of(one, model, outcome.params, outcome, stacked=stacked,
                        optimizer=optimizer, seed=seed)  # fmt: skip

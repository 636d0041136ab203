"""What a fit minimises, as an object: the objective protocol.

A fit of a field ``f_theta`` minimises, step by step, a loss over batches
that an *objective* draws:

    theta_{s+1} = theta_s + update(grad_theta L(f_theta; b_s)),    b_s = draw(key, s)

The objective says how the field is observed (samples of it, its
derivatives, a camera's rays, a PDE's residual, or anything a user writes);
the loop (:mod:`inr.loop`) and the optimiser (any optax transformation)
never change.  It is a pytree (a ``flax.struct.PyTreeNode``) whose array
leaves are the data it keeps on the device and whose static fields
(``flax.struct.field(pytree_node=False)``, hashable) are its options, so a
compiled fit is reused for every objective of the same shapes and options,
and a batch of objectives (leaves with a leading axis) is ``vmap``-ed.

An objective defines two pure functions, traced inside ``jit``:

* ``draw(key, step) -> batch``: what step ``step`` sees (a pytree of
  arrays of static shapes), a function of the fit's key and the step alone,
  so a resumed fit repeats the uninterrupted one;
* ``loss(model, params, batch) -> (value, metrics)``: the scalar the
  optimiser minimises and a dict of named scalars to report (``"loss"``
  first, the quantity the fit's history and progress lead with; no other
  metric is implied: a fit without a ground truth reports no PSNR).

and says what the network looks like: ``dims`` (its input width),
``channels`` (its output width), ``points`` (how many points one step
evaluates: the leading axis that a mesh splits) and, for a gridded signal,
``layout`` (what :class:`~inr.FitResult` renders).  The defaults of
:meth:`Objective.init`, :meth:`Objective.check_model` and
:meth:`Objective.default_model` suit a pointwise network ``(n, dims) ->
(n, channels)``; an objective whose network takes other inputs overrides
them.

Keys, stated once for every objective of the library.  A fit has one key,
``PRNGKey(seed)``.  Step ``s`` draws with ``step_key(key, s) = fold_in(key,
s)`` and nothing else.  An objective that draws one thing a step uses that
key; one that draws several independent things names them: stream ``name``
of step ``s`` is ``fold_in(step_key(key, s), crc32(name))``
(:func:`streams`), so adding a stream leaves every other stream's draws as
they were.  An objective nested in another (the inner fits of
meta-learning) takes one of those streams as its own fit key.  No two
streams, and no two steps, share a key.

Defaults live here too: an objective owns the recipe it is fitted with
when a caller gives none (:meth:`Objective.default_model`,
:meth:`Objective.default_optimizer` for a step count,
:attr:`Objective.default_steps`), and what a fit of it returns
(:meth:`Objective.result`), so ``inr.fit(X.create(data))`` is the same fit
as any convenience that builds ``X``.

Devices.  One fit's batch is split over a mesh's devices only where the
objective says so (:meth:`Objective.split`: which leaves of a batch hold
one row per point); a stack of fits (:func:`inr.stack`) keeps the fields
named in :attr:`Objective.shared` once, for every fit.
"""

from __future__ import annotations

import dataclasses
import functools
import zlib
from typing import Any

import flax.linen as nn
import flax.struct
import jax
import jax.numpy as jnp
import optax

from inr.nn.siren import Siren

__all__ = [
    "DEFAULT_OPTIMIZER",
    "Metrics",
    "Objective",
    "option",
    "output_shape",
    "step_key",
    "streams",
]

DEFAULT_OPTIMIZER = optax.adam(1e-4)
"""The paper's optimiser: Adam with learning rate 1e-4."""

Metrics = dict[str, jax.Array]
"""Named scalars an objective reports for one step: ``{"loss": ..., ...}``."""


def step_key(key: jax.Array, step) -> jax.Array:
    """The key of step ``step`` of the fit whose key is ``key``."""
    return jax.random.fold_in(key, step)


def streams(key: jax.Array, step, *names: str) -> tuple[jax.Array, ...]:
    """The keys of the named streams one step draws, in the order named.

    ``pick, jitter = streams(key, step, "pick", "jitter")``: each is
    ``fold_in(step_key(key, step), crc32(name))``, whatever other streams
    exist.
    """
    if not names or not all(isinstance(n, str) and n for n in names):
        raise ValueError(f"streams are named by non-empty strings; got {names!r}")
    if len(set(names)) != len(names):
        raise ValueError(f"stream names must differ; got {names!r}")
    at = step_key(key, step)
    return tuple(jax.random.fold_in(at, zlib.crc32(n.encode()) & 0x7FFFFFFF) for n in names)


def option(default=dataclasses.MISSING, **kw):
    """A static field of an objective (or any ``flax.struct`` dataclass): one of its options.

    Options are hashable values compared by ``==``; a compiled fit is
    reused for every objective whose options are equal.
    """
    if default is not dataclasses.MISSING:
        kw["default"] = default
    return flax.struct.field(pytree_node=False, **kw)


@functools.lru_cache(maxsize=128)
def output_shape(model: nn.Module, dims: int) -> tuple[int, ...]:
    """The output shape of a pointwise ``model`` on one point of ``dims`` coordinates."""
    try:
        out = jax.eval_shape(
            lambda x: model.apply(model.init(jax.random.PRNGKey(0), x), x),
            jax.ShapeDtypeStruct((1, dims), jnp.float32),
        )
    except Exception as exc:
        raise ValueError(f"model must map points (n, {dims}) to values (n, C): {exc}") from exc
    return tuple(out.shape)


class Objective(flax.struct.PyTreeNode):
    """The base of every objective: the protocol, and defaults for pointwise networks.

    Subclasses are ``flax.struct`` dataclasses: declare the data as fields
    and the options as :func:`option` fields, then define :meth:`draw`,
    :meth:`loss`, :attr:`dims`, :attr:`channels` and :attr:`points`, and
    say which rows of a batch a mesh may split (:meth:`split`).
    """

    def draw(self, key: jax.Array, step: jax.Array) -> Any:
        """The batch of step ``step`` (see :func:`step_key` for the key convention)."""
        raise NotImplementedError

    def loss(self, model: nn.Module, params, batch) -> tuple[jax.Array, Metrics]:
        """``(value to minimise, named metrics)`` of ``model`` with ``params`` on ``batch``."""
        raise NotImplementedError

    # What the network looks like, declared by each subclass as static fields or
    # properties (not here: a property of the base would shadow a subclass's field).
    #   dims: int      the network's input width (coordinate axes);
    #   channels: int  its output width;
    #   points: int    the points one step evaluates.
    layout = None  # what a result renders: a Layout (a grid, or a field's domain)
    state = ()  # the fields update() changes: carried through the loop, saved with checkpoints
    shared = ()  # fields equal for every fit of a stack: kept once, not stacked
    default_steps = 500  # the steps a fit takes when given none

    def split(self, batch) -> Any:
        """Which leaves of ``batch`` a mesh splits: a pytree of bools, a prefix of ``batch``.

        ``True`` marks a leaf (or a subtree) whose leading axis holds one
        row per point, so that each device of a mesh takes its share of
        the rows (the same sums, in parts).  The base splits nothing: an
        objective opts in by declaring its rows.
        """
        return jax.tree.map(lambda _: False, batch)

    def update(self, model: nn.Module, params, key: jax.Array, step: jax.Array) -> Objective:
        """The objective for step ``step`` given the field so far: itself unless stateful.

        A stateful objective names the fields this changes in ``state`` (an
        occupancy grid refreshed from the field's density); the loop calls
        it before each step's draw, inside the compiled loop, with the
        fit's key (take a named stream of it, :func:`streams`) and keeps
        the state in checkpoints.
        """
        del model, params, key, step
        return self

    def init(self, model: nn.Module, key: jax.Array):
        """Fresh parameters of ``model`` for this objective (traced; reads no data)."""
        return model.init(key, jnp.zeros((1, self.dims), jnp.float32))

    def check_model(self, model: nn.Module) -> None:
        """``ValueError`` unless ``model`` maps ``(n, dims)`` points to ``(n, channels)``."""
        out = output_shape(model, self.dims)
        if out != (1, self.channels):
            raise ValueError(
                f"model must map points (n, {self.dims}) to (n, {self.channels}) for this "
                f"objective (e.g. out_features={self.channels}); it gives {out[1:]} per point"
            )

    def default_model(self) -> nn.Module:
        """The network a fit uses when given none: the paper's SIREN, 256 x 3."""
        return Siren(out_features=self.channels)

    def default_optimizer(self, steps: int) -> optax.GradientTransformation:
        """The optimiser of a ``steps``-step fit given none: :data:`DEFAULT_OPTIMIZER`."""
        del steps
        return DEFAULT_OPTIMIZER

    def result(self, fitted):
        """What a fit of this objective returns, given the plain :class:`~inr.FitResult`."""
        return fitted

    def offset(self, model: nn.Module, params) -> jax.Array:
        """``(channels,)``: what a result adds to ``half * f`` (the value range's centre)."""
        del model, params
        value_range = None if self.layout is None else self.layout.value_range
        if value_range is None:
            return jnp.zeros((self.channels,), jnp.float32)
        lo, hi = value_range
        return jnp.full((self.channels,), 0.5 * (lo + hi), jnp.float32)

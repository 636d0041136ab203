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
s)`` and nothing else; an objective that draws several independent things
in one step splits that key (:func:`streams`), one part per stream, and an
objective nested in another (the inner fits of meta-learning) takes one of
those parts as its own fit key.  No two streams, and no two steps, share a
key.
"""

from __future__ import annotations

import functools
from typing import Any

import flax.linen as nn
import flax.struct
import jax
import jax.numpy as jnp

from inr.nn.siren import Siren

__all__ = ["Metrics", "Objective", "output_shape", "step_key", "streams"]

Metrics = dict[str, jax.Array]
"""Named scalars an objective reports for one step: ``{"loss": ..., ...}``."""


def step_key(key: jax.Array, step) -> jax.Array:
    """The key of step ``step`` of the fit whose key is ``key``."""
    return jax.random.fold_in(key, step)


def streams(key: jax.Array, step, n: int) -> jax.Array:
    """``n`` independent keys for the ``n`` streams one step draws (``(n, 2)``)."""
    return jax.random.split(step_key(key, step), n)


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
    and the options as ``flax.struct.field(pytree_node=False)``, then
    define :meth:`draw`, :meth:`loss`, :attr:`dims`, :attr:`channels` and
    :attr:`points`.
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
    #   points: int    the points one step evaluates: a batch's leaves with a
    #                  leading axis of this length are split over a mesh.
    layout = None  # the gridded signal a result renders like (a Layout), if any
    state = ()  # the fields update() changes: carried through the loop, saved with checkpoints

    def update(self, model: nn.Module, params, key: jax.Array, step: jax.Array) -> Objective:
        """The objective for step ``step`` given the field so far: itself unless stateful.

        A stateful objective names the fields this changes in ``state`` (an
        occupancy grid refreshed from the field's density); the loop calls
        it before each step's draw, inside the compiled loop, with the
        fit's key (split it as :func:`streams` says, apart from the draw's
        streams) and keeps the state in checkpoints.
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

    def offset(self, model: nn.Module, params) -> jax.Array:
        """``(channels,)``: what a result adds to ``half * f`` (the value range's centre)."""
        del model, params
        lo, hi = (-1.0, 1.0) if self.layout is None else self.layout.value_range
        return jnp.full((self.channels,), 0.5 * (lo + hi), jnp.float32)

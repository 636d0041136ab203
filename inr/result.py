"""``FitResult``: a fitted field, the ways to look at it, and where its fit can go on.

A result maps coordinates to values, ``u(x) = half * f(x) + offset`` (``f``
the network, fitted in [-1, 1] units, ``half`` half the width of the
field's value range: 0.5 for images, 1 for a field with no range).  One
verb per meaning:

* :meth:`FitResult.render`: the field on a grid of any size along each of
  its axes, over the whole domain or a box of it (see :mod:`inr.coords`);
  :meth:`~FitResult.gradient` and :meth:`~FitResult.laplacian`, its exact
  derivatives there;
* :meth:`FitResult.at`: its values at any points.

Both evaluate in fixed-size blocks (:func:`inr.render.evaluate_grid`,
:func:`inr.render.evaluate`), each run in slices of which only those
holding points run, so a 4096x4096 render needs one slice's memory, a
small one costs its own points, every point's value is independent of the
rendered size, and one compiled program serves every size and point count.

A result also keeps where its fit stopped (the optimiser, its state, the
step, the seed and the objective's state), so ``inr.fit(objective,
init=result, steps=n)`` goes on for ``n`` more steps exactly as one longer
fit would.  The results of radiance fields and signed distance fields
(:class:`inr.nerf.RadianceField`, :class:`inr.shapes.SDF`) are this class
with their own renders.

A result from a stack of fits (:func:`inr.fit_images`) is *batched*: its
``params`` and ``history`` carry a leading fit axis and renders gain one.
"""

from __future__ import annotations

import warnings
from functools import partial
from typing import Any

import flax.linen as nn
import flax.struct
import jax
import jax.numpy as jnp
import numpy as np
import optax

from inr._validate import as_box, as_positive_int, as_shape
from inr.coords import cell_axes
from inr.distributed import as_mesh, local_mesh, replicate
from inr.fields import gradient as field_gradient
from inr.fields import laplacian as field_laplacian
from inr.loop import Outcome, unshared
from inr.render import DEFAULT_CHUNK, evaluate, evaluate_grid
from inr.signal import Layout

__all__ = ["FitResult"]


def _field(model, quantity: str, args, x):
    """``quantity`` of every fit at points ``x``: ``(m, B, C[, d])``."""
    params, offset, steps, half = args

    def one(p, off):
        f = partial(model.apply, p)
        if quantity == "values":
            return half * f(x) + off
        if quantity == "gradient":
            return half * field_gradient(f, x, steps)
        return half * field_laplacian(f, x, steps)

    return jnp.moveaxis(jax.vmap(one)(params, offset), 0, 1)


@partial(jax.jit, static_argnums=(0, 1))
def _offsets(model, stacked: bool, objective, params):
    if not stacked:
        return objective.offset(model, params)
    mapped, shared = unshared(objective)
    return jax.vmap(lambda o, p: o.replace(**shared).offset(model, p))(mapped, params)


@flax.struct.dataclass
class FitResult:
    """A fitted coordinate network: a pytree (it passes through ``jit``).

    Attributes:
      params: the network's parameters (a pytree).
      offset: ``(C,)`` (``(N, C)`` batched) the value added to ``half * f``.
      history: ``{name: (steps,)}``, the metrics the objective reported at
        each step (``"loss"``, and ``"psnr"`` where there is a truth), with
        a leading ``N`` when batched.
      model: the Flax module (static).
      layout: what the field looks like (static): its grid (``None`` entries
        for a field with none of its own), channels and value range, which
        renders are clipped to (no range: no clipping); ``None`` for an
        objective whose network is not a field of points alone.
      state: what a stateful objective ended with, ``{name: pytree}`` (a
        radiance field's occupancy grid), ``{}`` for most.
      opt_state: the optimiser's state where the fit stopped.
      optimizer: the optax transformation it stepped with (static).
      step: the steps done (static).
      seed: the fit's seed (static).
      seconds: the wall time of the fit, over every piece (static).
    """

    params: Any
    offset: jax.Array
    history: dict
    model: nn.Module = flax.struct.field(pytree_node=False)
    layout: Layout | None = flax.struct.field(pytree_node=False, default=None)
    state: dict = flax.struct.field(default_factory=dict)
    opt_state: Any = None
    optimizer: optax.GradientTransformation | None = flax.struct.field(
        pytree_node=False, default=None
    )
    step: int = flax.struct.field(pytree_node=False, default=0)
    seed: int = flax.struct.field(pytree_node=False, default=0)
    seconds: float = flax.struct.field(pytree_node=False, default=0.0)

    @classmethod
    def of(cls, objective, model, params, outcome: Outcome | None = None, *, stacked=False,
           optimizer=None, seed: int = 0, history=None) -> FitResult:  # fmt: skip
        """The result of ``model`` with ``params`` for ``objective``, as ``objective.result`` says.

        The one place a result is assembled: the offset from the objective
        (:meth:`inr.Objective.offset`) and its layout, and where the fit
        stopped from ``outcome`` (``history`` when there is none).
        ``objective`` may be a bare :class:`~inr.signal.Layout` (a field
        made without a fit: its offset is the value range's centre).
        """
        if isinstance(objective, Layout):
            layout = objective.concrete()
            lo, hi = (0.0, 0.0) if layout.value_range is None else layout.value_range
            lead = jax.tree.leaves(params)[0].shape[:1] if stacked else ()
            offset = jnp.full((*lead, layout.channels), 0.5 * (lo + hi), jnp.float32)
            return cls(params=params, offset=offset, model=model, layout=layout,
                       history={} if history is None else history)  # fmt: skip
        offset = _offsets(model, stacked, objective, params)
        layout = None if objective.layout is None else objective.layout.concrete()
        run = {} if outcome is None else dict(
            history=outcome.history, state=outcome.state, opt_state=outcome.opt_state,
            step=outcome.step, seconds=outcome.seconds)  # fmt: skip
        run.setdefault("history", {} if history is None else history)
        fitted = cls(params=params, offset=offset, model=model, layout=layout,
                     optimizer=optimizer, seed=seed, **run)  # fmt: skip
        return objective.result(fitted)

    def outcome(self) -> Outcome:
        """Where this fit stopped, for a fit that goes on from it."""
        return Outcome(self.params, self.opt_state, self.state, self.history, self.step,
                       self.seconds)  # fmt: skip

    @property
    def shape(self) -> tuple:
        """The fitted signal's shape, ``(N_1, .., N_d[, C])`` (``None`` where no grid)."""
        return self._layout().shape

    @property
    def dims(self) -> int:
        """The number of coordinate axes."""
        return self._layout().dims

    @property
    def value_range(self) -> tuple[float, float] | None:
        """``(lo, hi)``: what the network's -1 and 1 stand for (``None``: no range)."""
        return (-1.0, 1.0) if self.layout is None else self.layout.value_range

    def _layout(self) -> Layout:
        if self.layout is None:
            raise ValueError("this fit has no layout (its network is not a field of points alone)")
        return self.layout

    def __repr__(self) -> str:
        model = type(self.model).__name__
        width = getattr(self.model, "hidden_features", None)
        if width is not None:
            model += f" {width}x{getattr(self.model, 'hidden_layers', '?')}"
        loss = self.history.get("loss")
        steps = f", {np.shape(loss)[-1]} steps" if loss is not None else ""
        psnr = np.asarray(self.history.get("psnr", np.nan))[..., -1:]
        lead = f"{len(self)} fits, " if self.batched else ""
        last = "" if np.all(np.isnan(psnr)) else f", PSNR {np.nanmean(psnr):.2f} dB"
        shape = "" if self.layout is None else f", shape {self.shape}"
        return f"{type(self).__name__}({lead}{model}{shape}{steps}{last})"

    @property
    def batched(self) -> bool:
        return self.offset.ndim == 2

    def __len__(self) -> int:
        if not self.batched:
            raise TypeError("an unbatched result has no length")
        return self.offset.shape[0]

    def __getitem__(self, i: int):
        """Fit ``i`` of a batched result."""
        if not self.batched:
            raise TypeError("only a batched result (from a stack of fits) can be indexed")
        return jax.tree.map(lambda x: x[i], self)

    def _args(self, mesh, steps=None):
        """``(params, offset, steps, half)`` on ``mesh``'s devices, with a leading fit axis."""
        params, offset = replicate((self.params, self.offset), mesh)
        if not self.batched:
            params = jax.tree_util.tree_map(lambda x: x[None], params)
            offset = offset[None]
        value_range = self.value_range
        half = 1.0 if value_range is None else 0.5 * (value_range[1] - value_range[0])
        steps = jnp.zeros((self.dims,), jnp.float32) if steps is None else steps
        return params, offset, steps, jnp.float32(half)

    def _size(self, shape) -> tuple[int, ...]:
        self._layout()
        if len(shape) != self.dims:
            raise ValueError(
                f"size must be {self.dims} positive integers, one per axis of the fitted "
                f"field {self.shape} (a region goes in region=); got {shape!r}"
            )
        return as_shape(shape)

    def _grid(self, quantity, shape, region, chunk, mesh):
        shape = self._size(shape)
        mesh = local_mesh() if mesh is None else as_mesh(mesh)
        box = as_box(region, self.dims)
        # One rendered cell is this many [-1, 1] coordinate units along each coordinate.
        sizes = shape[::-1]
        steps = [2.0 * (box[self.dims + i] - box[i]) / n for i, n in enumerate(sizes)]
        args = self._args(mesh, jnp.asarray(steps, jnp.float32))
        fn = partial(_field, self.model, quantity)
        out = evaluate_grid(fn, args, cell_axes(shape, region), chunk=self._chunk(chunk),
                            mesh=mesh)  # fmt: skip
        out = np.moveaxis(out, 1, 0)
        channels = self.shape[self.dims :]
        tail = (self.dims,) if quantity == "gradient" else ()
        out = out.reshape(out.shape[0], *shape, *channels, *tail)
        return out if self.batched else out[0]

    def _chunk(self, chunk) -> int:
        """Points per device per block, shared among a batch's fits."""
        fits = self.offset.shape[0] if self.batched else 1
        return max(1024, as_positive_int(chunk, "chunk") // fits)

    def _clip(self, out, clip: bool):
        value_range = self.value_range
        return np.clip(out, *value_range) if clip and value_range is not None else out

    def render(self, *shape: int, region=None, clip: bool = True, chunk: int = DEFAULT_CHUNK,
               mesh=None) -> np.ndarray:  # fmt: skip
        """The field on a grid of ``shape`` (one size per axis), optionally of a ``region``.

        ``fit.render(512, 512)`` for an image, ``fit.render(88200)`` for two
        seconds of audio fitted at 22.05 kHz (resampled at 44.1 kHz),
        ``fit.render(40, 180, 320, region=(0, 0, 0, 1, 1, 0.1))`` for the
        first tenth of a video at 40 frames: any size along every axis.
        ``region`` is a box of fractions, lower corner then upper corner in
        coordinate order (``(x0, y0, x1, y1)`` for an image; see
        :mod:`inr.coords`).  Returns float32 NumPy ``(*shape[, C])`` in the
        fitted signal's layout, clipped to its value range unless
        ``clip=False`` (a field with no range is never clipped).  ``chunk``
        points (shared among a batch's fits) are evaluated at once per device
        of ``mesh`` (``None``: this host's devices; see :mod:`inr.distributed`).
        """
        return self._clip(self._grid("values", shape, region, chunk, mesh), clip)

    def at(self, points, *, clip: bool = True, chunk: int = DEFAULT_CHUNK, mesh=None):
        """The field at any ``points`` ``(..., d)`` in [-1, 1] coordinates: ``(..., C)``.

        For what no grid holds: an oblique slice of a volume, a curve, a
        scattered set of samples.  Points outside [-1, 1] extrapolate.
        Clipped to the value range unless ``clip=False``; batched results
        gain a leading axis.  ``chunk`` and ``mesh`` as for :meth:`render`.
        """
        x = np.asarray(points, np.float32)
        dims = np.shape(x)[-1] if self.layout is None and x.ndim else self.dims
        if x.ndim < 1 or x.shape[-1] != dims or not np.isfinite(x).all():
            raise ValueError(f"points must be finite and shaped (..., {dims}); got shape {x.shape}")
        mesh = local_mesh() if mesh is None else as_mesh(mesh)
        args = self._args(mesh, jnp.zeros((dims,), jnp.float32))
        fn = partial(_field, self.model, "values")
        out = evaluate(fn, args, x.reshape(-1, dims), chunk=self._chunk(chunk), mesh=mesh)
        out = np.moveaxis(out, 1, 0)
        channels = out.shape[-1:] if self.layout is None else self.shape[self.dims :]
        out = self._clip(out.reshape(out.shape[0], *x.shape[:-1], *channels), clip)
        return out if self.batched else out[0]

    def evaluate(self, points, **kw) -> np.ndarray:
        """Deprecated: :meth:`at` (values at points), the one verb for it."""
        warnings.warn("FitResult.evaluate is renamed FitResult.at", DeprecationWarning,
                      stacklevel=2)  # fmt: skip
        return self.at(points, **kw)

    def gradient(self, *shape: int, region=None, chunk: int = DEFAULT_CHUNK, mesh=None):
        """Exact gradient ``(*shape[, C], d)`` in value per rendered cell.

        Taken by autodiff at each cell centre, in coordinate order: for an
        image ``[..., 0]`` is d/dx (along the width), ``[..., 1]`` d/dy.
        """
        return self._grid("gradient", shape, region, chunk, mesh)

    def laplacian(self, *shape: int, region=None, chunk: int = DEFAULT_CHUNK, mesh=None):
        """Exact Laplacian ``(*shape[, C])`` in value per rendered cell squared."""
        return self._grid("laplacian", shape, region, chunk, mesh)

"""``FitResult``: a fitted field and the ways to look at it.

A result maps coordinates to values, ``u(x) = half * f(x) + offset`` (``f``
the network, fitted in [-1, 1] units, ``half`` half the width of the
signal's value range: 0.5 for images).  It renders on a grid of any size
along each of the signal's axes, over the whole signal or a box of it (see
:mod:`inr.coords`).  Everything that renders goes through one jitted
function, evaluated in fixed-size chunks, so a 4096x4096 render needs one
chunk's memory and every point's value is independent of the rendered
size (see :mod:`inr.render`).

A result from :func:`inr.fit_images` is *batched*: its ``params`` and
``history`` carry a leading image axis and renders gain one too.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import flax.linen as nn
import flax.struct
import jax
import jax.numpy as jnp
import numpy as np

from inr._validate import as_box, as_shape
from inr.coords import cell_axes, points_from_axes
from inr.distributed import as_mesh, local_mesh, replicate, to_host
from inr.fields import gradient as field_gradient
from inr.fields import laplacian as field_laplacian
from inr.render import DEFAULT_CHUNK, evaluate_chunked
from inr.signal import Layout

__all__ = ["FitResult"]


def _over_points(model, quantity, chunk, mesh, params, offset, xy, steps, half):
    """``quantity`` at points ``xy`` for a batch of parameter sets: ``(B, n, C[, d])``.

    Each chunk of points is evaluated for every parameter set, so a device
    of ``mesh`` holds one chunk's activations per fit.
    """

    def one(p, off, x):
        f = partial(model.apply, p)
        if quantity == "values":
            return half * f(x) + off
        if quantity == "gradient":
            return half * field_gradient(f, x, steps)
        return half * field_laplacian(f, x, steps)

    every = lambda x: jax.vmap(one, in_axes=(0, 0, None))(params, offset, x)
    out = evaluate_chunked(lambda x: jnp.moveaxis(every(x), 0, 1), xy, chunk, mesh)
    return jnp.moveaxis(out, 1, 0)


@partial(jax.jit, static_argnums=(0, 1, 2, 3))
def _render(model, quantity, chunk, mesh, params, offset, axes, steps, half=0.5):
    """:func:`_over_points` on the grid of ``axes``, its points built on the device."""
    xy = points_from_axes(*axes)
    return _over_points(model, quantity, chunk, mesh, params, offset, xy, steps, half)


_at = jax.jit(_over_points, static_argnums=(0, 1, 2, 3))


@flax.struct.dataclass
class FitResult:
    """A fitted coordinate network: a pytree (it passes through ``jit``).

    Attributes:
      params: the network's parameters (a pytree).
      offset: ``(C,)`` (``(N, C)`` batched) intensity offset.
      history: ``{name: (steps,)}``, the metrics the objective reported at
        each step (``"loss"``, and ``"psnr"`` where there is a truth), with
        a leading ``N`` when batched.
      model: the Flax module (static).
      layout: the fitted signal's :class:`~inr.signal.Layout`: its shape,
        coordinate axes and value range, which renders are clipped to
        (static; ``None`` for an objective without a grid, whose result
        evaluates at points but does not render).
      state: what a stateful objective ended with, ``{name: pytree}`` (a
        radiance field's occupancy grid), ``{}`` for most.
    """

    params: Any
    offset: jax.Array
    history: dict
    model: nn.Module = flax.struct.field(pytree_node=False)
    layout: Layout | None = flax.struct.field(pytree_node=False, default=None)
    state: dict = flax.struct.field(default_factory=dict)

    @property
    def shape(self) -> tuple[int, ...]:
        """The fitted signal's shape, ``(N_1, .., N_d[, C])``."""
        return self._layout().shape

    @property
    def dims(self) -> int:
        """The number of coordinate axes."""
        return self._layout().dims

    @property
    def value_range(self) -> tuple[float, float]:
        """``(lo, hi)``: what the network's -1 and 1 stand for."""
        return (-1.0, 1.0) if self.layout is None else self.layout.value_range

    def _layout(self) -> Layout:
        if self.layout is None:
            raise ValueError(
                "this fit has no grid (its objective gave no layout): evaluate it at points"
            )
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
        return f"FitResult({lead}{model}{shape}{steps}{last})"

    @property
    def batched(self) -> bool:
        return self.offset.ndim == 2

    def __len__(self) -> int:
        if not self.batched:
            raise TypeError("an unbatched FitResult has no length")
        return self.offset.shape[0]

    def __getitem__(self, i: int) -> FitResult:
        """Fit ``i`` of a batched result."""
        if not self.batched:
            raise TypeError("only a batched FitResult (from fit_images) can be indexed")
        return jax.tree.map(lambda x: x[i], self)

    def _batch(self, mesh):
        """``(params, offset, half)`` on ``mesh``'s devices, with a leading fit axis."""
        params, offset = replicate((self.params, self.offset), mesh)
        if not self.batched:
            params = jax.tree_util.tree_map(lambda x: x[None], params)
            offset = offset[None]
        lo, hi = self.value_range
        return params, offset, jnp.float32(0.5 * (hi - lo))

    def _size(self, shape) -> tuple[int, ...]:
        self._layout()
        if len(shape) != self.dims:
            raise ValueError(
                f"size must be {self.dims} positive integers, one per axis of the fitted "
                f"signal {self.shape} (a region goes in region=); got {shape!r}"
            )
        return as_shape(shape)

    def _evaluate(self, quantity, shape, region, chunk, mesh):
        shape = self._size(shape)
        mesh = local_mesh() if mesh is None else as_mesh(mesh)
        box = as_box(region, self.dims)
        axes = cell_axes(shape, region)
        # One rendered cell is this many [-1, 1] coordinate units along each coordinate.
        sizes = shape[::-1]
        steps = [2.0 * (box[self.dims + i] - box[i]) / n for i, n in enumerate(sizes)]
        steps = jnp.asarray(steps, jnp.float32)
        params, offset, half = self._batch(mesh)
        per_fit = max(1024, chunk // offset.shape[0])
        args = (params, offset, axes, steps, half)
        out = to_host(_render(self.model, quantity, per_fit, mesh, *args))
        channels = self.shape[self.dims :]
        tail = (self.dims,) if quantity == "gradient" else ()
        out = out.reshape(offset.shape[0], *shape, *channels, *tail)
        return out if self.batched else out[0]

    def render(
        self,
        *shape: int,
        region=None,
        clip: bool = True,
        chunk: int = DEFAULT_CHUNK,
        mesh=None,
    ) -> np.ndarray:
        """The signal on a grid of ``shape`` (one size per axis), optionally of a ``region``.

        ``fit.render(512, 512)`` for an image, ``fit.render(88200)`` for two
        seconds of audio fitted at 22.05 kHz (resampled at 44.1 kHz),
        ``fit.render(40, 180, 320, region=(0, 0, 0, 1, 1, 0.1))`` for the
        first tenth of a video at 40 frames: any size along every axis.
        ``region`` is a box of fractions, lower corner then upper corner in
        coordinate order (``(x0, y0, x1, y1)`` for an image; see
        :mod:`inr.coords`).  Returns float32 NumPy ``(*shape[, C])`` in the
        fitted signal's layout, clipped to its value range unless
        ``clip=False``.  ``chunk`` points (shared among a batch's fits) are
        evaluated at once per device of ``mesh`` (``None``: this host's
        devices; see :mod:`inr.distributed`).
        """
        out = self._evaluate("values", shape, region, chunk, mesh)
        return np.clip(out, *self.value_range) if clip else out

    def evaluate(
        self, points, *, clip: bool = True, chunk: int = DEFAULT_CHUNK, mesh=None
    ) -> np.ndarray:
        """The field at arbitrary ``points`` ``(..., d)`` in [-1, 1] coordinates: ``(..., C)``.

        For what no grid holds: an oblique slice of a volume, a curve, a
        scattered set of samples.  Points outside [-1, 1] extrapolate.
        Clipped to the value range unless ``clip=False`` (a fit without a
        layout is never clipped); batched results gain a leading axis.
        ``chunk`` and ``mesh`` as for :meth:`render`.
        """
        x = np.asarray(points, np.float32)
        dims = np.shape(x)[-1] if self.layout is None and x.ndim else self.dims
        if x.ndim < 1 or x.shape[-1] != dims or not np.isfinite(x).all():
            raise ValueError(f"points must be finite and shaped (..., {dims}); got shape {x.shape}")
        mesh = local_mesh() if mesh is None else as_mesh(mesh)
        params, offset, half = self._batch(mesh)
        per_fit = max(1024, chunk // offset.shape[0])
        flat = jnp.asarray(x.reshape(-1, dims))
        out = to_host(_at(self.model, "values", per_fit, mesh, params, offset, flat, None, half))
        channels = out.shape[-1:] if self.layout is None else self.shape[self.dims :]
        out = out.reshape(offset.shape[0], *x.shape[:-1], *channels)
        out = np.clip(out, *self.value_range) if clip and self.layout is not None else out
        return out if self.batched else out[0]

    def gradient(self, *shape: int, region=None, chunk: int = DEFAULT_CHUNK, mesh=None):
        """Exact gradient ``(*shape[, C], d)`` in value per rendered cell.

        Taken by autodiff at each cell centre, in coordinate order: for an
        image ``[..., 0]`` is d/dx (along the width), ``[..., 1]`` d/dy.
        """
        return self._evaluate("gradient", shape, region, chunk, mesh)

    def laplacian(self, *shape: int, region=None, chunk: int = DEFAULT_CHUNK, mesh=None):
        """Exact Laplacian ``(*shape[, C])`` in value per rendered cell squared."""
        return self._evaluate("laplacian", shape, region, chunk, mesh)

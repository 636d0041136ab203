"""Objectives of gridded signals: their values, an image's gradients or Laplacian.

The three supervision modes of Sitzmann et al. 2020 (Sec. 4.1), each an
:class:`~inr.objective.Objective`:

* :class:`SignalValues`: ``min ||f(x) - u(x)||^2`` over the cell centres of
  any gridded signal (1 to 3 axes), every sample or ``points`` drawn per
  step;
* :class:`ImageGradients`: ``min ||grad f - grad u||^2``, the network's
  gradient by autodiff, the image's by forward differences
  (:func:`inr.image_gradient`);
* :class:`ImageLaplacian`: ``min ||lap f - lap u||^2``, the 5-point Laplacian.

Units: the network fits ``v = (u - mid) / half`` for the signal's value
range (:mod:`inr.signal`; ``2u - 1`` for an image).  Derivatives are in
intensity per pixel.  Forward differences estimate the derivative
*between* two pixels, so the network's x-derivative is taken half a pixel
to the right of each centre and its y-derivative half a pixel below: the
staggered grid of the Poisson solvers, which is what makes a SIREN fitted
to a gradient field agree with the exact least-squares reconstruction.

Gradient supervision fixes low frequencies slowly: the Poisson operator's
smallest eigenvalues shrink as 1/N^2, so a smooth error of the whole image
barely moves the loss.  :class:`ImageGradients` therefore adds, until step
``anneal_until`` with a weight falling linearly to zero, multi-scale terms
built from the gradient field alone: for ``k = 2, 4, 8, ...`` pixels,
``(1/k) mean (f(p + k e) - f(p) - D_k(p))^2`` along rows and columns,
where ``D_k(p)`` is the sum of the ``k`` target differences between ``p``
and ``p + k e``.  The rest of the fit minimises the paper's loss alone,
whose minimiser, for a smooth network such as SIREN, is the Poisson
least-squares image.  On the 128x128 "max" merge of camera and coins, 300
steps at ``lr=3e-4`` reach 34.6 dB against the exact Poisson merge with
these terms (until 70% of the steps, :data:`ANNEAL`) and 23.4 dB without.
A hash grid needs them to the end (``anneal_until=inf``): its derivatives
at the supervised points do not pin its values between them, so under the
paper's loss alone its pixel values drift while the loss still falls.
"""

from __future__ import annotations

from functools import partial
from typing import Annotated

import chex
import jax
import jax.numpy as jnp
import numpy as np

from inr._validate import as_channel_values, as_image, as_positive_int
from inr.coords import cell_axes, grid, points_from_axes
from inr.fields import directional_derivative
from inr.fields import laplacian as field_laplacian
from inr.objective import Objective, option, step_key
from inr.poisson.operators import forward_gradient, neumann_laplacian
from inr.signal import Layout, OnLayout, as_signal, coordinates, network_scale

__all__ = ["ANNEAL", "ImageGradients", "ImageLaplacian", "SignalValues", "psnr_from_mse"]

ANNEAL = 0.7
"""The default share of a gradient fit's steps that carries the multi-scale terms."""


def psnr_from_mse(mse_net_units: jax.Array) -> jax.Array:
    """PSNR (dB) relative to the value range's width, from an MSE in network units."""
    # Network units span 2 for the range, so its scale's MSE is a quarter.
    return -10.0 * jnp.log10(mse_net_units / 4.0)


class SignalValues(OnLayout, Objective):
    """The values of a gridded signal, every sample or ``points`` random ones per step.

    Build it with :meth:`create`.  The samples stay on the device in their
    own dtype (a uint8 video is a quarter of its float32 size), and a
    random step decodes only the points it draws: memory is bounded by
    ``points``, not by the signal.  A random draw is uniform with
    replacement, a function of the fit's key and the step.  A stack of
    signals of one shape shares its grid (``axes``).

    Attributes:
      samples: ``(n, C)`` in their storage dtype, row-major over the grid.
      axes: the per-axis cell centres, coordinate order.
      scale: ``(3,)``: ``v = samples / scale[0] * scale[1] + scale[2]``.
      layout: the signal's :class:`~inr.signal.Layout` (its value range is data).
      points: the samples one step evaluates (static).
      random: whether a step draws ``points`` at random (else every sample).
    """

    samples: Annotated[jax.Array, "n C"]
    axes: tuple
    scale: Annotated[jax.Array, "3"]
    layout: Layout
    points: int = option(0)
    random: bool = option(False)

    shared = ("axes",)

    @classmethod
    def create(cls, signal, *, points=None, dims=None, value_range=None):
        """From a signal as :func:`inr.signal.as_signal` reads it.

        ``points``: ``None`` for every sample at every step, or the samples
        drawn per step.
        """
        samples, layout = as_signal(signal, dims, value_range, "signal")
        return cls.from_samples(samples, layout, points)

    @classmethod
    def from_samples(cls, samples: np.ndarray, layout: Layout, points=None):
        """From :func:`inr.signal.as_signal`'s samples ``(n, C)``."""
        n = samples.shape[-2]
        random = points is not None
        points = as_positive_int(points, "points") if random else n
        axes, scale = cell_axes(layout.grid), network_scale(samples.dtype, layout)
        put = partial(jax.tree.map, jnp.asarray)
        return cls(put(samples), put(axes), put(scale), layout, points, random)

    def split(self, batch):
        """Every row of a step's coordinates and targets is a point."""
        return (True, True)

    def draw(self, key, step):
        """``(coordinates (m, d), targets (m, C))`` in network units."""
        if not self.random:
            return points_from_axes(*self.axes), self._decode(self.samples)
        pick = jax.random.randint(step_key(key, step), (self.points,), 0, self.samples.shape[0])
        return coordinates(pick, self.axes), self._decode(self.samples[pick])

    def _decode(self, samples):
        return samples.astype(jnp.float32) / self.scale[0] * self.scale[1] + self.scale[2]

    def loss(self, model, params, batch):
        """Mean squared error in network units, and its PSNR."""
        x, target = batch
        v = model.apply(params, x)
        chex.assert_equal_shape([v, target])
        mse = jnp.mean((v - target) ** 2)
        return mse, {"loss": mse, "psnr": psnr_from_mse(mse)}


# --------------------------------------------------------------------------
# Derivatives of an image: targets built once on the host, full batch.
# --------------------------------------------------------------------------


def _differences(g: np.ndarray) -> tuple[tuple, tuple]:
    """``D_k`` for ``k = 2, 4, ...``: sums of ``k`` consecutive forward differences.

    ``g`` is (H, W, C, 2).  Returns ``(dx, dy)``: ``dx[i]`` is (H, W - k, C),
    the target of ``v[:, j + k] - v[:, j]`` for ``k = 2^(i+1) < W``, and
    ``dy[i]`` (H - k, W, C) likewise down the columns.
    """
    h, w = g.shape[:2]
    cx = np.concatenate([np.zeros_like(g[:, :1, :, 0]), np.cumsum(g[..., 0], axis=1)], axis=1)
    cy = np.concatenate([np.zeros_like(g[:1, :, :, 1]), np.cumsum(g[..., 1], axis=0)], axis=0)
    ks = lambda n: [2**i for i in range(1, max(1, (n - 1).bit_length()))]  # noqa: E731
    dx = tuple((cx[:, k:w] - cx[:, : w - k]).astype(np.float32) for k in ks(w))
    dy = tuple((cy[k:h] - cy[: h - k]).astype(np.float32) for k in ks(h))
    return dx, dy


def _multiscale(v, dx, dy):
    """``sum_k (1/k) mean (dv_k - D_k)^2`` along rows and columns; ``v`` is (H, W, C)."""
    total = 0.0
    for d in dx:
        k = v.shape[1] - d.shape[1]
        total += jnp.mean((v[:, k:] - v[:, :-k] - d) ** 2) / k
    for d in dy:
        k = v.shape[0] - d.shape[0]
        total += jnp.mean((v[k:] - v[:-k] - d) ** 2) / k
    return total


def _centred(v):
    return v - jnp.mean(v, axis=0, keepdims=True)


class _ImageDerivatives(OnLayout, Objective):
    """What the derivative objectives share: the grid, its steps, the image and its mean.

    Full batch: every pixel at every step.  A stack of images of one size
    (:func:`inr.stack`) shares the grid.
    """

    xy: Annotated[jax.Array, "n 2"]
    cell: Annotated[jax.Array, "2"]  # one pixel in [-1, 1] units along x and y
    image: Annotated[jax.Array, "n C"] | None  # network units; None when only derivatives
    mean: Annotated[jax.Array, "C"]  # the result's mean intensity
    layout: Layout = None

    shared = ("xy", "cell")

    @classmethod
    def _build(cls, image, mean, layout, **targets):
        """The objective of ``(H, W, C)`` targets on ``layout``'s grid."""
        h, w = layout.grid
        fields = {"xy": grid(h, w).reshape(-1, 2), "cell": np.array([2 / w, 2 / h], np.float32),
                  "image": None if image is None else 2.0 * image.reshape(h * w, -1) - 1.0,
                  "mean": np.asarray(mean, np.float32), **targets}  # fmt: skip
        return cls(**jax.tree.map(jnp.asarray, fields), layout=layout)

    @property
    def points(self) -> int:
        return self.xy.shape[-2]

    def draw(self, key, step):
        return self

    def _rows(self):
        """``self`` as split flags: its per-pixel fields are points; its other targets are not."""
        rows = {f: True for f in ("xy", "image", "xy_x", "xy_y", "gx", "gy", "lap")
                if getattr(self, f, None) is not None}  # fmt: skip
        return jax.tree.map(lambda _: False, self).replace(**rows)

    def _metrics(self, model, params, loss):
        """The paper's loss and, with an image, the PSNR of mean-centred values."""
        if self.image is None:
            return {"loss": loss}
        v = jax.lax.stop_gradient(model.apply(params, self.xy))
        mse = jnp.mean((_centred(v) - _centred(self.image)) ** 2)
        return {"loss": loss, "psnr": psnr_from_mse(mse)}

    def offset(self, model, params):
        """The image's mean minus the network's: derivatives do not fix a constant."""
        return self.mean - 0.5 * jnp.mean(model.apply(params, self.xy), axis=0)


class ImageGradients(_ImageDerivatives):
    """An image's forward-difference gradient field, with annealed multi-scale terms.

    Build it with :meth:`create` (an image) or :meth:`from_gradient` (a
    given field).  Full batch: every pixel at every step.
    """

    xy_x: Annotated[jax.Array, "n 2"] = None  # half a pixel right of each centre
    xy_y: Annotated[jax.Array, "n 2"] = None  # half a pixel below
    gx: Annotated[jax.Array, "n C"] = None
    gy: Annotated[jax.Array, "n C"] = None
    dx: tuple = ()  # multi-scale targets along rows (empty: no terms)
    dy: tuple = ()
    anneal_until: jax.Array = None  # the step at which the terms' weight reaches zero

    shared = ("xy", "cell", "xy_x", "xy_y", "anneal_until")

    @classmethod
    def create(cls, image, *, anneal_until=np.inf):
        """From ``image`` ``(H, W[, C])`` in [0, 1].

        ``anneal_until``: the step at which the multi-scale terms end
        (``0``: none; ``inf``: never).
        """
        img = as_image(image)
        img = img.reshape(*img.shape[:2], -1)
        grad = np.asarray(forward_gradient(img))
        mean = img.reshape(-1, img.shape[-1]).mean(0)
        return cls._gradients(img, grad, mean, Layout(as_image(image).shape, 2), anneal_until)

    @classmethod
    def from_gradient(cls, grad, mean=0.5, *, anneal_until=np.inf):
        """From ``grad`` ``(H, W[, C], 2)`` in intensity per pixel, and the result's ``mean``."""
        g = np.asarray(grad, dtype=np.float32)
        if g.ndim not in (3, 4) or g.shape[-1] != 2 or 0 in g.shape:
            raise ValueError(f"grad must be shaped (H, W, 2) or (H, W, C, 2); got shape {g.shape}")
        if not np.all(np.isfinite(g)):
            raise ValueError("grad contains NaN or infinite values")
        g4 = g.reshape(*g.shape[:2], -1, 2)
        means = np.broadcast_to(as_channel_values(mean, "mean", g4.shape[2]), (g4.shape[2],))
        return cls._gradients(None, g4, means, Layout(g.shape[:-1], 2), anneal_until)

    @classmethod
    def _gradients(cls, image, grad, mean, layout, anneal_until):
        if isinstance(anneal_until, bool) or not np.isreal(anneal_until) or not anneal_until >= 0:
            raise ValueError(f"anneal_until must be a step >= 0 or inf; got {anneal_until!r}")
        h, w = layout.grid
        g = 2.0 * grad.reshape(h, w, -1, 2)
        dx, dy = _differences(g) if min(h, w) > 2 and anneal_until != 0 else ((), ())
        xy, half = grid(h, w).reshape(-1, 2), np.array([1 / w, 1 / h], np.float32)
        return cls._build(image, mean, layout, gx=g[..., 0].reshape(h * w, -1),
                          gy=g[..., 1].reshape(h * w, -1), dx=dx, dy=dy,
                          xy_x=xy + half * [1, 0], xy_y=xy + half * [0, 1],
                          anneal_until=np.float32(anneal_until if dx else 0.0))  # fmt: skip

    def draw(self, key, step):
        """Every pixel, and the multi-scale terms' weight at ``step``."""
        return self, jnp.maximum(0.0, 1.0 - step / self.anneal_until)

    def split(self, batch):
        return (batch[0]._rows(), False)

    def loss(self, model, params, batch):
        data, weight = batch
        f = partial(model.apply, params)
        # One directional derivative per staggered point set, not a full gradient.
        gx = directional_derivative(f, data.xy_x, data.cell * jnp.array([1.0, 0.0]))[1]
        gy = directional_derivative(f, data.xy_y, data.cell * jnp.array([0.0, 1.0]))[1]
        loss = jnp.mean((gx - data.gx) ** 2) + jnp.mean((gy - data.gy) ** 2)
        objective = loss
        if data.dx:
            h, w = data.dy[0].shape[0] + 2, data.dx[0].shape[1] + 2
            v = f(data.xy).reshape(h, w, -1)
            objective = weight * _multiscale(v, data.dx, data.dy) + loss
        return objective, data._metrics(model, params, loss)


class ImageLaplacian(_ImageDerivatives):
    """An image's 5-point Laplacian (Neumann boundary); build it with :meth:`create`."""

    lap: Annotated[jax.Array, "n C"] = None

    @classmethod
    def create(cls, image):
        """From ``image`` ``(H, W[, C])`` in [0, 1]."""
        img = as_image(image)
        flat = img.reshape(*img.shape[:2], -1)
        mean = flat.reshape(-1, flat.shape[-1]).mean(0)
        lap = 2.0 * np.asarray(neumann_laplacian(flat)).reshape(-1, flat.shape[-1])
        return cls._build(flat, mean, Layout(img.shape, 2), lap=lap)

    def split(self, batch):
        return batch._rows()

    def loss(self, model, params, batch):
        f = partial(model.apply, params)
        loss = jnp.mean((field_laplacian(f, batch.xy, batch.cell) - batch.lap) ** 2)
        return loss, batch._metrics(model, params, loss)

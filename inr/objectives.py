"""What a fit minimises: targets, losses and their units.

The three supervision modes of Sitzmann et al. 2020 (Sec. 4.1):

* ``"values"``: ``min ||f(x) - u(x)||^2`` over pixel centres;
* ``"gradients"``: ``min ||grad f - grad u||^2``, the network's gradient by
  autodiff, the image's by forward differences (:func:`inr.image_gradient`);
* ``"laplacian"``: ``min ||lap f - lap u||^2``, the 5-point Laplacian.

Forward differences estimate the derivative *between* two pixels, so the
network's x-derivative is taken half a pixel to the right of each centre
and its y-derivative half a pixel below: the same staggered grid as the
Poisson solvers, which is what makes a SIREN fitted to a gradient field
agree with the exact least-squares reconstruction.

Gradient supervision fixes low frequencies slowly: the Poisson operator's
smallest eigenvalues shrink as 1/N^2, so a smooth error of the whole image
barely moves the loss.  For ``"gradients"`` the loss therefore adds, during
the first ``ANNEAL`` (70%) of the steps with a weight falling linearly to
zero, multi-scale terms built from the gradient field alone: for
``k = 2, 4, 8, ...`` pixels, ``(1/k) mean (f(p + k e) - f(p) - D_k(p))^2``
along rows and columns, where ``D_k(p)`` is the sum of the ``k`` target
differences between ``p`` and ``p + k e`` (what the field says the
``k``-pixel difference is).  The last 30% minimise the paper's loss alone,
whose minimiser, for a smooth network such as SIREN, is the Poisson
least-squares image.  On the 128x128 "max" merge of camera and coins, 300
steps at ``lr=3e-4`` reach 34.6 dB against the exact Poisson merge with
these terms and 23.4 dB without them.

``anneal=None`` keeps the terms at full weight to the end.  A hash grid
needs that: its derivatives at the supervised points do not pin its values
between them (it has far more parameters than there are points, and each
cell's interpolation is local), so under the paper's loss alone its pixel
values drift while the loss still falls.  For the gradient of an image the
terms are consistent with the paper's loss (the image makes both zero);
for a field that is not a gradient, such as a merge, they pull the result
slightly towards agreeing with the field over longer distances.

Units: the network fits ``2u - 1`` (the reference's [-1, 1] normalisation);
results are mapped back to [0, 1].  Derivatives are in intensity per pixel.
A fit of values draws its points and targets from a signal of any number
of axes kept on the device (:mod:`inr.signal`); the derivative targets are
an image's (two axes).
"""

from __future__ import annotations

from functools import partial
from typing import Any

import chex
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from inr.coords import grid
from inr.fields import directional_derivative
from inr.fields import laplacian as field_laplacian
from inr.poisson.operators import forward_gradient, neumann_laplacian
from inr.signal import draw

__all__ = ["ANNEAL", "TARGETS", "loss", "problem", "problems"]

TARGETS = ("values", "gradients", "laplacian")
ANNEAL = 0.7  # fraction of the steps with multi-scale terms in gradient fits


# --------------------------------------------------------------------------
# Problem set-up (host side, NumPy): coordinates and targets in network units.
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
    ks = lambda n: [2**i for i in range(1, max(1, (n - 1).bit_length()))]
    dx = tuple((cx[:, k:w] - cx[:, : w - k]).astype(np.float32) for k in ks(w))
    dy = tuple((cy[k:h] - cy[: h - k]).astype(np.float32) for k in ks(h))
    return dx, dy


def problem(
    image: np.ndarray | None,
    grad: np.ndarray | None,
    target: str,
    n_steps: int = 1,
    anneal: float | None = ANNEAL,
) -> dict:
    """Coordinates, derivative targets and per-pixel steps for one image, flattened.

    For ``target`` ``"gradients"`` or ``"laplacian"`` (a fit of values keeps
    its signal as :func:`inr.signal.store`).  ``image`` is (H, W, C) in
    [0, 1] (or None when only ``grad`` (H, W, C, 2) is known).  Network
    units: ``v = 2u - 1``.  A gradient fit's multi-scale terms end after
    ``anneal * n_steps`` steps (``n_steps`` the fit's length); ``anneal=None``
    keeps them, ``0`` leaves them out.
    """
    h, w = (image if image is not None else grad).shape[:2]
    xy = grid(h, w).reshape(-1, 2)
    steps = np.array([2.0 / w, 2.0 / h], np.float32)
    batch: dict[str, Any] = {"steps": steps}
    if image is not None:
        batch["image"] = 2.0 * image.reshape(h * w, -1) - 1.0
    if target == "gradients":
        g = 2.0 * (np.asarray(forward_gradient(image)) if grad is None else grad)
        if min(h, w) > 2 and anneal != 0:
            batch["dx"], batch["dy"] = _differences(g.reshape(h, w, -1, 2))
            batch["anneal"] = np.float32(np.inf if anneal is None else anneal * n_steps)
        g = g.reshape(h * w, -1, 2)
        batch["xy_x"] = xy + np.array([steps[0] / 2, 0.0], np.float32)
        batch["xy_y"] = xy + np.array([0.0, steps[1] / 2], np.float32)
        batch["gx"], batch["gy"] = g[..., 0], g[..., 1]
        batch["xy"] = xy
    else:
        batch["xy"] = xy
        batch["lap"] = 2.0 * np.asarray(neumann_laplacian(image)).reshape(h * w, -1)
    return batch


# Entries that depend only on the grid, identical for every image of a stack.
_SHARED = frozenset({"steps", "anneal", "xy", "xy_x", "xy_y"})


def problems(
    images: np.ndarray, target: str, n_steps: int = 1, anneal: float | None = ANNEAL
) -> dict:
    """:func:`problem` for a stack ``(N, H, W, C)``: every entry gains a leading ``N``.

    The stack is folded into one ``(H, W, N*C)`` image, because every target
    is computed channel by channel: the grid and the differences are built
    once, not once per image, which keeps the host's share of a batched fit
    on an accelerator small.
    """
    n, h, w, c = images.shape
    folded = problem(np.moveaxis(images, 0, 2).reshape(h, w, n * c), None, target, n_steps, anneal)

    def unfold(x):  # (..., N*C) -> (N, ..., C)
        x = np.asarray(x)
        return np.moveaxis(x.reshape(*x.shape[:-1], n, c), -2, 0)

    def split(key, v):
        if key in _SHARED:
            return np.broadcast_to(v, (n, *np.shape(v)))
        return tuple(map(unfold, v)) if isinstance(v, tuple) else unfold(v)

    return {key: split(key, v) for key, v in folded.items()}


def _centred(v):
    return v - jnp.mean(v, axis=0, keepdims=True)


def _psnr_from_mse(mse_net_units):
    # Network units span 2, so [0, 1]-scale MSE is a quarter of it.
    return -10.0 * jnp.log10(mse_net_units / 4.0)


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


def loss(
    model: nn.Module, target: str, params, batch, step, points: int | None = None, split=None
) -> tuple[jax.Array, tuple]:
    """The objective of step ``step``, and (the target's mean squared error, PSNR).

    For ``"values"``, ``batch`` is a signal's :func:`inr.signal.store` and,
    with ``points``, the error is over that many samples drawn uniformly at
    step ``step`` (:func:`inr.signal.draw`).

    For derivative targets the image is known only up to a constant, so the
    PSNR compares mean-centred values (NaN when there is no image).  The
    reported error is the paper's, without the multi-scale terms.
    """
    f = partial(model.apply, params)
    if target == "values":
        xy, image = draw(batch, points, step)
        if split is not None:
            xy, image = (jax.lax.with_sharding_constraint(a, split) for a in (xy, image))
        v = f(xy)
        chex.assert_equal_shape([v, image])
        loss = jnp.mean((v - image) ** 2)
        return loss, (loss, _psnr_from_mse(loss))
    steps = batch["steps"]
    objective = 0.0
    if target == "gradients":
        # One directional derivative per staggered point set, not a full gradient.
        gx = directional_derivative(f, batch["xy_x"], steps * jnp.array([1.0, 0.0]))[1]
        gy = directional_derivative(f, batch["xy_y"], steps * jnp.array([0.0, 1.0]))[1]
        loss = jnp.mean((gx - batch["gx"]) ** 2) + jnp.mean((gy - batch["gy"]) ** 2)
        if "dx" in batch:
            h, w = batch["dy"][0].shape[0] + 2, batch["dx"][0].shape[1] + 2
            weight = jnp.maximum(0.0, 1.0 - step / batch["anneal"])
            v = f(batch["xy"]).reshape(h, w, -1)
            objective = weight * _multiscale(v, batch["dx"], batch["dy"])
    else:
        loss = jnp.mean((field_laplacian(f, batch["xy"], steps) - batch["lap"]) ** 2)
    objective = objective + loss
    if "image" not in batch:
        return objective, (loss, jnp.float32(jnp.nan))
    v = jax.lax.stop_gradient(f(batch["xy"]))
    mse = jnp.mean((_centred(v) - _centred(batch["image"])) ** 2)
    return objective, (loss, _psnr_from_mse(mse))

"""Along rays, as pure functions: intervals, compositing (volume rendering), line integrals.

A ray ``r(t) = o + t d`` (``d`` unit) is cut into *intervals* ``[s_i, e_i)``
(Max 1995; NeRF, Mildenhall et al. 2020, Eq. 3), each with a density
``sigma_i`` and a colour ``c_i`` evaluated at its midpoint.  Compositing
front to back:

    alpha_i = 1 - exp(-sigma_i (e_i - s_i))
    T_i     = exp(-sum_{j < i} sigma_j (e_j - s_j))        (transmittance)
    w_i     = T_i alpha_i
    C       = sum_i w_i c_i + (1 - sum_i w_i) background

``opacity = sum_i w_i`` and ``depth = sum_i w_i t_i / opacity`` (the
expected distance at which the ray ends, 0 where it meets nothing).  The
transmittance is an exclusive cumulative sum in the exponent (never a
product of many ``1 - alpha``), so it is exact for a constant density:
over ``[a, b]`` the opacity is ``1 - exp(-sigma (b - a))`` whatever the
number of intervals.

A line integral ``int f(r(t)) dt`` over the same intervals is
``sum_i f(r(t_i)) (e_i - s_i)`` (:func:`integrate`): what a CT scanner
measures of an attenuation.  Every function works on arrays of rays
``(R, ...)`` and is ``jit``-, ``vmap``- and ``grad``-able; none knows
what the density is.  Radiance fields (:mod:`inr.nerf`) and tomography
(:mod:`inr.tomography`) both sample their rays here.
"""

from __future__ import annotations

from typing import Annotated, NamedTuple

import jax
import jax.numpy as jnp

__all__ = ["Rendered", "box_interval", "composite", "integrate", "resample", "stratified"]

Rays = Annotated[jax.Array, "R 3"]


class Rendered(NamedTuple):
    """What compositing gives, per ray."""

    rgb: Annotated[jax.Array, "R C"]
    depth: Annotated[jax.Array, "R"]
    opacity: Annotated[jax.Array, "R"]
    weights: Annotated[jax.Array, "R S"]


def box_interval(origins: Rays, directions: Rays, lo, hi) -> tuple[jax.Array, jax.Array]:
    """``(t_in, t_out)`` of each ray through the box ``[lo, hi]`` (slabs; a miss has in >= out)."""
    inverse = 1.0 / jnp.where(directions == 0.0, 1e-30, directions)
    t0 = (jnp.asarray(lo) - origins) * inverse
    t1 = (jnp.asarray(hi) - origins) * inverse
    return jnp.max(jnp.minimum(t0, t1), axis=-1), jnp.min(jnp.maximum(t0, t1), axis=-1)


def stratified(near, far, n: int, key=None) -> tuple[jax.Array, jax.Array]:
    """``n`` contiguous intervals ``(starts, ends)`` ``(R, n)`` tiling each ray's ``[near, far]``.

    Without a ``key`` they are the ``n`` equal bins; with one the inner
    edges move together by a uniform fraction of a bin, ``[-1/2, 1/2)``, per
    ray (stratified sampling: every depth is a midpoint in expectation)
    while the first and last edges stay at the bounds.
    """
    near, far = jnp.asarray(near), jnp.asarray(far)
    step = (far - near) / n
    shift = 0.0 if key is None else jax.random.uniform(key, near.shape) - 0.5
    inner = near[..., None] + (jnp.arange(1, n) + jnp.asarray(shift)[..., None]) * step[..., None]
    edges = jnp.concatenate([near[..., None], inner, far[..., None]], axis=-1)
    return edges[..., :-1], edges[..., 1:]


def composite(sigma, rgb, starts, ends, background) -> Rendered:
    """Front-to-back compositing of intervals (the module's equations).

    ``sigma`` ``(R, S)`` >= 0, ``rgb`` ``(R, S, C)``, ``starts``/``ends``
    ``(R, S)``, ``background`` ``(C,)`` or ``(R, C)``.
    """
    optical = sigma * (ends - starts)
    before = jnp.cumsum(optical, axis=-1) - optical  # exclusive: what lies in front
    weights = jnp.exp(-before) * -jnp.expm1(-optical)
    opacity = jnp.sum(weights, axis=-1)
    colour = jnp.einsum("rs,rsc->rc", weights, rgb) + (1.0 - opacity)[:, None] * background
    mid = 0.5 * (starts + ends)
    depth = jnp.sum(weights * mid, axis=-1) / jnp.maximum(opacity, 1e-10)
    return Rendered(colour, jnp.where(opacity > 1e-10, depth, 0.0), opacity, weights)


def integrate(values, starts, ends) -> Annotated[jax.Array, "R"]:
    """``sum_i values_i (e_i - s_i)``: the midpoint rule of each ray's line integral."""
    return jnp.sum(values * (ends - starts), axis=-1)


def resample(key, starts, ends, weights, n: int, padding: float = 0.01):
    """``n`` contiguous intervals drawn where ``weights`` lie: hierarchical sampling.

    The weights (plus ``padding`` of their mean, so no interval has zero
    probability) are a piecewise-constant density along each ray (NeRF's
    fine network, Mip-NeRF's resampling); ``n + 1`` stratified quantiles of
    its distribution (``key``: jittered, ``None``: the centres) are the new
    edges, sorted.  Returns ``(starts, ends)`` ``(R, n)``.
    """
    w = weights + padding * jnp.mean(weights, axis=-1, keepdims=True) + 1e-12
    cdf = jnp.cumsum(w, axis=-1) / jnp.sum(w, axis=-1, keepdims=True)
    cdf = jnp.concatenate([jnp.zeros_like(cdf[..., :1]), cdf], axis=-1)
    edges = jnp.concatenate([starts, ends[..., -1:]], axis=-1)
    offset = 0.5 if key is None else jax.random.uniform(key, (*starts.shape[:-1], 1))
    u = jnp.clip((jnp.arange(n + 1) + offset) / (n + 1), 0.0, 1.0 - 1e-7)
    u = jnp.broadcast_to(u, (*starts.shape[:-1], n + 1))

    def invert(cdf_row, edge_row, u_row):
        i = jnp.clip(jnp.searchsorted(cdf_row, u_row, side="right") - 1, 0, edge_row.shape[0] - 2)
        frac = (u_row - cdf_row[i]) / jnp.maximum(cdf_row[i + 1] - cdf_row[i], 1e-12)
        return edge_row[i] + frac * (edge_row[i + 1] - edge_row[i])

    flat = lambda a: a.reshape(-1, a.shape[-1])  # noqa: E731
    t = jax.vmap(invert)(flat(cdf), flat(edges), flat(u)).reshape(u.shape)
    t = jax.lax.stop_gradient(jnp.sort(t, axis=-1))
    return t[..., :-1], t[..., 1:]

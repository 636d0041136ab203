"""Rays through a radiance field: candidate intervals, occupancy, compaction, compositing.

What training and rendering share.  A ray's stretch inside the scene box
(and between ``near`` and ``far``) is cut into stratified intervals;
those in occupied cells are kept; the field is evaluated at the kept ones
only, *compacted* into a fixed number of slots (``jnp.nonzero(...,
size=)``), and the results are scattered back before compositing, where a
skipped interval has zero density.  Training fixes the slots per step (a
budget: rays that do not fit wait for another step); rendering walks
through all kept samples in fixed-size chunks (a ``while_loop`` whose trip
count is the number of kept samples, so memory is bounded and nothing is
left out).  Points reach the field in its coordinates, the box mapped to
[-1, 1]^3.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from inr.volume import Rendered, box_interval, composite, stratified

__all__ = ["candidates", "composite_kept", "evaluate_all", "evaluate_budget", "shade"]


def candidates(origins, directions, sampling, key=None):
    """``(starts, ends, mids (R, S, 3) world points, kept (R, S))`` before occupancy."""
    box = sampling.box
    t_in, t_out = box_interval(origins, directions, (-box,) * 3, (box,) * 3)
    near = jnp.maximum(t_in, sampling.near)
    far = jnp.maximum(jnp.minimum(t_out, sampling.far), near)
    starts, ends = stratified(near, far, sampling.samples, key)
    mids = origins[:, None] + 0.5 * (starts + ends)[..., None] * directions[:, None]
    return starts, ends, mids, (far > near)[:, None] & (ends > starts)


def _padded(mids, directions):
    """Flat candidates and ray directions, each with one more row: where empty slots point."""
    flat = jnp.concatenate([mids.reshape(-1, 3), jnp.zeros((1, 3), mids.dtype)])
    return flat, jnp.concatenate([directions, directions[:1]])


def shade(model, params, flat, directions, index, samples: int, box: float):
    """``(sigma, rgb)`` at flat candidates ``index`` of :func:`_padded`'s rows (the last: none)."""
    ray = jnp.minimum(index // samples, directions.shape[0] - 1)
    return model.apply(params, flat[index] / box, directions[ray])


def _scatter(index, values, total: int):
    shape = (total + 1, *values.shape[1:])
    return jnp.zeros(shape, values.dtype).at[index].set(values)[:total]


def evaluate_budget(model, params, mids, directions, kept, budget: int, box: float):
    """``(sigma (R, S), rgb (R, S, 3), fits (R,))``: the kept candidates in ``budget`` slots.

    Rays are taken in order while their kept samples fit; a ray that does
    not fit is left out whole (its mask is ``False``).
    """
    r, s = kept.shape
    fits = jnp.cumsum(jnp.sum(kept, axis=1)) <= budget
    kept = kept & fits[:, None]
    (index,) = jnp.nonzero(kept.reshape(-1), size=budget, fill_value=r * s)
    sigma, rgb = shade(model, params, *_padded(mids, directions), index, s, box)
    sigma = jnp.where(index < r * s, sigma, 0.0)
    return (_scatter(index, sigma, r * s).reshape(r, s),
            _scatter(index, rgb, r * s).reshape(r, s, 3), fits)  # fmt: skip


def evaluate_all(model, params, mids, directions, kept, chunk: int, box: float):
    """Every kept candidate's ``(sigma (R, S), rgb (R, S, 3))``, ``chunk`` samples at a time."""
    r, s = kept.shape
    total = r * s
    (index,) = jnp.nonzero(kept.reshape(-1), size=total, fill_value=total)
    index = jnp.concatenate([index, jnp.full(chunk, total, index.dtype)])
    rounds = (jnp.sum(kept) + chunk - 1) // chunk
    flat, dirs = _padded(mids, directions)

    def body(i, acc):
        at = jax.lax.dynamic_slice(index, (i * chunk,), (chunk,))
        sigma, rgb = shade(model, params, flat, dirs, at, s, box)
        return acc[0].at[at].set(sigma), acc[1].at[at].set(rgb)

    start = (jnp.zeros(total + 1), jnp.zeros((total + 1, 3)))
    sigma, rgb = jax.lax.fori_loop(0, rounds, body, start)
    return sigma[:total].reshape(r, s), rgb[:total].reshape(r, s, 3)


def composite_kept(sigma, rgb, starts, ends, kept, background) -> Rendered:
    """Composite, with skipped intervals empty."""
    return composite(jnp.where(kept, sigma, 0.0), rgb, starts, ends, background)

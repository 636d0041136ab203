"""Projections: line integrals of a field along a scanner's rays, by the library's ray sampler.

Each ray's stretch inside the grid's box ([-1, 1]^d) is cut into
``samples`` intervals (:func:`inr.volume.stratified`) and the field is
summed at their midpoints (:func:`inr.volume.integrate`), in pixels of the
grid (:mod:`inr.tomography.geometry`).  The field is any function of
points, or a pixel grid read by linear interpolation (zero outside, as
scikit-image's ``radon`` rotates an image), so the projector of a
network and of an image are one function.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from inr._validate import as_positive_int
from inr.distributed import as_mesh
from inr.render import evaluate
from inr.volume import box_interval, integrate, stratified

__all__ = ["default_samples", "grid_shape", "line_integrals", "project", "sample_grid"]


def default_samples(geometry) -> int:
    """Two samples per pixel along the grid's longest chord."""
    side = max(geometry.size, getattr(geometry, "depth", 0))
    return int(np.ceil(2 * np.sqrt(geometry.dims) * side))


def _call(f, x):
    return f(x)


def sample_grid(values, points):
    """Linear interpolation of a pixel grid at field points (zero outside the grid).

    ``values`` is ``(H, W)`` for points ``(n, 2)`` ``(x, y)``, or ``(D, H, W)``
    for ``(n, 3)`` ``(x, y, z)``; cell centres as :mod:`inr.coords` places them.
    """
    shape = jnp.asarray(values.shape[::-1], jnp.float32)  # coordinate order
    pixel = (points + 1.0) * shape / 2.0 - 0.5
    return jax.scipy.ndimage.map_coordinates(values, list(pixel.T[::-1]), order=1, cval=0.0)


def line_integrals(field, origins, directions, per_unit, samples: int, key=None):
    """``int field ds`` in pixels along rays ``(R, d)``; ``per_unit`` pixels per field unit."""
    d = origins.shape[-1]
    t_in, t_out = box_interval(origins, directions, (-1.0,) * d, (1.0,) * d)
    t_out = jnp.maximum(t_out, t_in)
    starts, ends = stratified(t_in, t_out, samples, key)
    mids = origins[:, None] + 0.5 * (starts + ends)[..., None] * directions[:, None]
    values = field(mids.reshape(-1, d)).reshape(starts.shape)
    return integrate(values, starts, ends) * jnp.reshape(per_unit, (-1,))


def _integrals(field_fn, samples: int, args, rays):
    """Line integrals of ``field_fn(args, .)`` along rays packed as ``(R, 2d + 1)`` rows."""
    d = (rays.shape[1] - 1) // 2
    return line_integrals(lambda x: field_fn(args, x), rays[:, :d], rays[:, d : 2 * d],
                          rays[:, 2 * d], samples)  # fmt: skip


def project(field, geometry, *, samples: int | None = None, chunk: int = 4096,
            mesh=None) -> np.ndarray:  # fmt: skip
    """The sinogram of ``field`` seen by ``geometry``: ``geometry.shape``, float32 NumPy.

    ``field``: a pixel grid (``(N, N)`` for a slice, ``(N_z, N, N)`` for a
    cone's volume) or a function of field points ``(n, d) -> (n,)``.
    ``samples`` per ray (default :func:`default_samples`); ``chunk`` rays at
    a time per device of ``mesh`` (``None``: one device; memory is bounded
    by ``chunk * samples``); one program serves every number of rays.
    """
    samples = default_samples(geometry) if samples is None else as_positive_int(samples, "samples")
    if callable(field):
        fn, args = _call, jax.tree_util.Partial(field)
    else:
        grid = np.asarray(field, np.float32)
        want = grid_shape(geometry)
        if grid.shape != want or not np.isfinite(grid).all():
            raise ValueError(f"field must be finite and shaped {want}; got {grid.shape}")
        fn, args = sample_grid, jnp.asarray(grid)
    origins, directions, per_unit = geometry.rays()
    d, lead = geometry.dims, origins.shape[:-1]
    rays = np.concatenate([np.asarray(origins).reshape(-1, d),
                           np.asarray(directions).reshape(-1, d),
                           np.broadcast_to(np.asarray(per_unit), (*lead, 1)).reshape(-1, 1)],
                          axis=1)  # fmt: skip
    mesh = None if mesh is None else as_mesh(mesh)
    out = evaluate(partial(_integrals, fn, samples), args, rays,
                   chunk=as_positive_int(chunk, "chunk"), mesh=mesh)  # fmt: skip
    return np.asarray(out, np.float32).reshape(geometry.shape)


def grid_shape(geometry) -> tuple[int, ...]:
    """The pixel grid a geometry scans: ``(N, N)``, or ``(N_z, N, N)`` for a cone."""
    n = geometry.size
    return (n, n) if geometry.dims == 2 else (geometry.depth, n, n)

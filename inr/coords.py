"""Cell-centre coordinate grids of any number of axes.

Convention, stated once: a gridded signal of shape ``(N_1, ..., N_d[, C])``
(array order: audio ``(T,)``, an image ``(H, W)``, a video ``(T, H, W)``,
a volume ``(D, H, W)``) covers exactly [-1, 1]^d.  Its coordinates are in
*coordinate order*, the reverse of array order: coordinate 0 (``x``) runs
along the last array axis, coordinate 1 (``y``) along the one before, and
so on, so an image's points are ``(x, y)`` with ``x`` along the width and
``y`` down the height, and a video's are ``(x, y, t)``.  Cell ``j`` of an
axis of ``n`` cells has its centre at ``-1 + (2j + 1) / n``.

A *region* (a box) is given in fractions of the signal, lower corner then
upper corner, each in coordinate order: ``(x0, x1)`` for audio,
``(x0, y0, x1, y1)`` for an image, ``(x0, y0, z0, x1, y1, z1)`` for three
axes.  A render of a box puts cell ``j`` of ``n`` along coordinate ``i`` at
fraction ``lo_i + (hi_i - lo_i) * (j + 1/2) / n``.  Rendering the box
``(0, ..., 0, 1/2, ..., 1/2)`` at half the size along every axis therefore
uses exactly the cell centres of the first orthant of the full render
(computed in float64, they round to the same float32 coordinates).
"""

from __future__ import annotations

from typing import Annotated

import jax
import jax.numpy as jnp
import numpy as np

from inr._validate import as_box, as_shape

__all__ = ["cell_axes", "grid", "grid_axes", "pixel_centres", "points_from_axes"]


def pixel_centres(n: int, lo: float = 0.0, hi: float = 1.0) -> np.ndarray:
    """Centres of ``n`` equal cells covering fractions [lo, hi], mapped to [-1, 1].

    Returns a float64 (n,) array.
    """
    frac = lo + (hi - lo) * ((np.arange(n, dtype=np.float64) + 0.5) / n)
    return 2.0 * frac - 1.0


def cell_axes(shape, region=None) -> tuple[np.ndarray, ...]:
    """The float32 coordinate axes of a grid of ``shape`` (array order), in coordinate order.

    ``cell_axes((H, W))`` is ``(xs (W,), ys (H,))``; ``cell_axes((T, H, W))`` is
    ``(xs, ys, ts)``.  ``region`` is a box of fractions (module docstring),
    ``None`` for the whole signal.  Pass the axes to a jitted function and
    build the points there with :func:`points_from_axes`: building and
    copying ``(prod(shape), d)`` points on the host costs more than a GPU's
    whole render of a large image.
    """
    shape = as_shape(shape)
    box = as_box(region, len(shape))
    d = len(shape)
    return tuple(
        pixel_centres(n, box[i], box[d + i]).astype(np.float32)
        for i, n in enumerate(reversed(shape))
    )


def points_from_axes(*coordinate_axes: jax.Array) -> Annotated[jax.Array, "n d"]:
    """``(prod(shape), d)`` points in row-major (array) order from axes in coordinate order.

    The traceable twin of ``grid(*shape).reshape(-1, d)``: the points are
    broadcast from the axes, so they equal the host's float32 values exactly.
    """
    d = len(coordinate_axes)
    shape = tuple(a.shape[0] for a in reversed(coordinate_axes))

    def along(i, a):  # coordinate i varies along array axis d - 1 - i
        return jnp.broadcast_to(a.reshape([-1 if k == d - 1 - i else 1 for k in range(d)]), shape)

    columns = [along(i, jnp.asarray(a)) for i, a in enumerate(coordinate_axes)]
    return jnp.stack(columns, axis=-1).reshape(-1, d)


def grid(*shape: int, region=None) -> np.ndarray:
    """``(*shape, d)`` float32 cell-centre coordinates in [-1, 1], in coordinate order.

    ``grid(H, W)[i, j] == (x_j, y_i)``; ``grid(T, H, W)[t, i, j] == (x_j, y_i, t_t)``.

    Args:
      *shape: the grid's size along each array axis.
      region: a box of fractions (see the module docstring), ``None`` for all.
    """
    cols = cell_axes(shape, region)
    mesh = np.meshgrid(*reversed(cols), indexing="ij")
    return np.stack(mesh[::-1], axis=-1)


def grid_axes(height: int, width: int, region=None) -> tuple[np.ndarray, np.ndarray]:
    """An image's :func:`cell_axes`: float32 ``xs`` (width,) and ``ys`` (height,)."""
    return cell_axes((height, width), region)

"""Pixel-centre coordinate grids.

Convention: the network sees coordinates in [-1, 1]; ``x`` runs left to
right along the width, ``y`` top to bottom along the height, and the image
covers exactly [-1, 1]^2, so pixel ``j`` of ``W`` has its centre at
``-1 + (2j + 1) / W``.  Coordinates are ``(x, y)`` in the last axis.

A *region* ``(x0, y0, x1, y1)`` is given in fractions of the image: a render
of ``region`` at ``(h, w)`` puts pixel ``j`` at fraction
``x0 + (x1 - x0) * (j + 1/2) / w``.  Rendering ``(0, 0, 1/2, 1/2)`` at
half size therefore uses exactly the pixel centres of the top-left
quadrant of the full render (computed in float64, they round to the same
float32 coordinates).
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from inr._validate import as_region, as_size

__all__ = ["grid", "grid_axes", "pixel_centres", "points_from_axes"]


def pixel_centres(n: int, lo: float = 0.0, hi: float = 1.0) -> np.ndarray:
    """Centres of ``n`` equal cells covering fractions [lo, hi], mapped to [-1, 1].

    Returns a float64 (n,) array.
    """
    frac = lo + (hi - lo) * ((np.arange(n, dtype=np.float64) + 0.5) / n)
    return 2.0 * frac - 1.0


def grid(height: int, width: int, region=None) -> np.ndarray:
    """``(height, width, 2)`` float32 pixel-centre coordinates ``(x, y)`` in [-1, 1].

    Args:
      height, width: output size in pixels.
      region: ``(x0, y0, x1, y1)`` fractions of the image, ``None`` for all.
    """
    xs, ys = grid_axes(height, width, region)
    xx, yy = np.meshgrid(xs, ys, indexing="xy")
    return np.stack([xx, yy], axis=-1)


def grid_axes(height: int, width: int, region=None) -> tuple[np.ndarray, np.ndarray]:
    """The axes of :func:`grid`: float32 ``xs`` (width,) and ``ys`` (height,).

    ``grid(h, w, region)[i, j] == (xs[j], ys[i])`` exactly.  Pass the axes to
    a jitted function and build the points there with
    :func:`points_from_axes`: building and copying (H*W, 2) points on the
    host costs more than a GPU's whole render at 1024x1024.
    """
    height, width = as_size(height, width)
    x0, y0, x1, y1 = as_region(region)
    xs = pixel_centres(width, x0, x1).astype(np.float32)
    ys = pixel_centres(height, y0, y1).astype(np.float32)
    return xs, ys


def points_from_axes(xs: jnp.ndarray, ys: jnp.ndarray) -> jnp.ndarray:
    """``(H*W, 2)`` points ``(x, y)`` in row-major pixel order from (W,) and (H,) axes.

    The traceable twin of ``grid(...).reshape(-1, 2)``.
    """
    xx = jnp.broadcast_to(xs[None, :], (ys.shape[0], xs.shape[0]))
    yy = jnp.broadcast_to(ys[:, None], (ys.shape[0], xs.shape[0]))
    return jnp.stack([xx, yy], axis=-1).reshape(-1, 2)

"""Exact Poisson solves on the full rectangle.

The 5-point Laplacian with Neumann boundary (``divergence(image_gradient(u))``)
is diagonalised by the DCT-II: its eigenvalues on an ``H x W`` grid are
``lambda_ky + lambda_kx`` with ``lambda_k = -4 sin^2(pi k / 2N)``.  With
Dirichlet values fixed on the outer ring of pixels, the interior Laplacian
is diagonalised by the DST-I with ``lambda_k = -4 sin^2(pi (k+1) / 2(N+1))``.
So each solve is a forward transform, a division, an inverse transform:
``O(HW log HW)``, exact to float32 rounding, differentiable.

Neumann problems have a solution only when ``sum(rhs) = 0`` and then only up
to a constant; the solver projects out the constant mode, which gives the
least-squares solution, and adds the requested mean.  (``reconstruct`` of a
gradient field ``g`` solves ``lap u = div g``, the normal equations of
``min ||D u - g||^2``, always compatible.)

Eigenvalue tables are computed in float64 with NumPy.  Shapes: ``(H, W)`` or
``(H, W, C)``, channels solved independently.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated

import jax
import jax.numpy as jnp
import numpy as np

from inr._validate import as_channel_values, as_field
from inr.poisson.operators import divergence_channels_first
from inr.poisson.transforms import dct_filter_2d, dst1, idst1

__all__ = ["BOUNDARIES", "poisson_solve", "reconstruct"]

BOUNDARIES = ("neumann", "dirichlet")


@cache
def _neumann_inverse(h: int, w: int) -> np.ndarray:
    ky = -4 * np.sin(np.pi * np.arange(h) / (2 * h)) ** 2
    kx = -4 * np.sin(np.pi * np.arange(w) / (2 * w)) ** 2
    lam = ky[:, None] + kx[None, :]
    lam[0, 0] = 1.0
    inv = 1.0 / lam
    inv[0, 0] = 0.0  # the constant mode is fixed by ``mean`` instead
    return inv.astype(np.float32)


@cache
def _dirichlet_inverse(h: int, w: int) -> np.ndarray:
    ky = -4 * np.sin(np.pi * np.arange(1, h + 1) / (2 * (h + 1))) ** 2
    kx = -4 * np.sin(np.pi * np.arange(1, w + 1) / (2 * (w + 1))) ** 2
    return (1.0 / (ky[:, None] + kx[None, :])).astype(np.float32)


def _spatial_last(x):
    """(H, W[, C]) -> (C, H, W): transforms then run over contiguous axes."""
    return jnp.moveaxis(x, -1, 0) if x.ndim == 3 else x


def _restore(x, ndim):
    return jnp.moveaxis(x, 0, -1) if ndim == 3 else x


def _solve_neumann(f, ndim, mean):
    """The Neumann solve of a channels-first ``f`` plus ``mean``, in the (H, W[, C]) layout."""
    u = _restore(dct_filter_2d(f, _neumann_inverse(*f.shape[-2:])), ndim)
    return u + jnp.asarray(mean, u.dtype)


def dirichlet_interior(rhs, values):
    """The interior ``(..., H-2, W-2)`` of the Dirichlet solve, channels-first.

    ``rhs`` and ``values`` are ``(..., H, W)``: the transforms run over the
    last two axes, so callers that can build ``rhs`` in this layout skip a
    transpose (see :func:`inr.poisson.operators.divergence_channels_first`).
    """
    h, w = rhs.shape[-2:]
    # Move the known ring into the right-hand side of the interior equations.
    ring = values.at[..., 1:-1, 1:-1].set(0)
    known = ring[..., :-2, 1:-1] + ring[..., 2:, 1:-1] + ring[..., 1:-1, :-2] + ring[..., 1:-1, 2:]
    f = rhs[..., 1:-1, 1:-1] - known
    spec = dst1(dst1(f, -1), -2) * _dirichlet_inverse(h - 2, w - 2)
    return idst1(idst1(spec, -2), -1)


def _solve_dirichlet(rhs, values):
    """``lap u = rhs`` on the interior, ``u = values`` on the outer ring."""
    values = jnp.asarray(values, rhs.dtype)
    inner = dirichlet_interior(_spatial_last(rhs), _spatial_last(values))
    return values.at[1:-1, 1:-1].set(_restore(inner, rhs.ndim))


@jax.jit
def _neumann(rhs, mean):
    return _solve_neumann(_spatial_last(rhs), rhs.ndim, mean)


@jax.jit
def _reconstruct(grad, mean):
    # Materialise the divergence: fused into the reordering, XLA recomputes it per use.
    f = jax.lax.optimization_barrier(divergence_channels_first(grad))
    return _solve_neumann(f, grad.ndim - 1, mean)


_dirichlet = jax.jit(_solve_dirichlet)


def _channels(shape) -> int:
    return shape[2] if len(shape) == 3 else 1


def poisson_solve(
    rhs: Annotated[jax.Array, "H W *C"],
    *,
    boundary: str = "neumann",
    mean=None,
    boundary_values=None,
) -> Annotated[jax.Array, "H W *C"]:
    """Solve the 5-point Poisson equation ``lap u = rhs`` exactly.

    Args:
      rhs: (H, W) or (H, W, C), finite.
      boundary: ``"neumann"`` (zero flux through the border; DCT) or
        ``"dirichlet"`` (``u`` fixed on the outermost ring of pixels; DST).
      mean: Neumann only. The mean of ``u`` (scalar or per channel). ``None``
        gives zero mean. The mean of ``rhs`` is projected out (the
        least-squares solution).
      boundary_values: Dirichlet only. Same shape as ``rhs``. Its outermost
        ring gives ``u`` there and the rest is ignored. ``rhs`` on the ring is
        ignored too.

    Returns:
      ``u``, the same shape as ``rhs``. The arguments are checked on the
      host, then one compiled program per shape runs; it also works inside
      the caller's ``jit``, ``vmap`` and ``grad`` (where values are not
      checked).
    """
    rhs = as_field(rhs, "rhs", (2, 3), "(H, W) or (H, W, C)")
    if boundary == "neumann":
        if boundary_values is not None:
            raise ValueError("boundary_values is for boundary='dirichlet'")
        return _neumann(rhs, as_channel_values(mean, "mean", _channels(rhs.shape)))
    if boundary == "dirichlet":
        if mean is not None:
            raise ValueError("mean is for boundary='neumann'; Dirichlet values fix the constant")
        if boundary_values is None:
            raise ValueError("boundary='dirichlet' needs boundary_values (the shape of rhs)")
        values = as_field(boundary_values, "boundary_values", (2, 3), "like rhs")
        if values.shape != rhs.shape:
            raise ValueError(
                f"boundary_values must have the shape of rhs {rhs.shape}; got {values.shape}"
            )
        if min(rhs.shape[:2]) < 3:
            raise ValueError(f"a Dirichlet solve needs at least 3x3 pixels; got shape {rhs.shape}")
        return _dirichlet(rhs, values.astype(rhs.dtype))
    raise ValueError(f"boundary must be one of {BOUNDARIES}; got {boundary!r}")


def reconstruct(
    grad: Annotated[jax.Array, "H W *C 2"], *, mean=0.5
) -> Annotated[jax.Array, "H W *C"]:
    """The image whose gradient is closest to ``grad`` in least squares.

    Minimises ``||image_gradient(u) - grad||^2``: its normal equations are
    ``lap u = divergence(grad)`` with Neumann boundary, solved exactly.  The
    constant is free, so ``mean`` (scalar or per channel; ``None`` for zero)
    sets it.  Not clipped to [0, 1].  Checked and compiled as
    :func:`poisson_solve`.
    """
    g = as_field(grad, "grad", (3, 4), "(H, W, 2) or (H, W, C, 2)")
    if g.shape[-1] != 2:
        raise ValueError(f"grad must be shaped (H, W, 2) or (H, W, C, 2); got shape {g.shape}")
    channels = g.shape[2] if g.ndim == 4 else 1
    return _reconstruct(g, as_channel_values(mean, "mean", channels))

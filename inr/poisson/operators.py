"""Finite-difference gradient and divergence of images (Neumann boundary).

``image_gradient`` uses forward differences, ``(D_x u)[i, j] = u[i, j+1] -
u[i, j]``, set to zero in the last column (zero flux through the border);
likewise ``D_y`` along rows.  ``divergence`` is ``-(D_x^T g_x + D_y^T g_y)``,
the negative adjoint, so ``divergence(image_gradient(u))`` is the 5-point
Laplacian with Neumann boundary and ``<D u, g> = -<u, div g>`` exactly.
This is the discretisation of Perez et al. (SIGGRAPH 2003) and of the
DCT-based Poisson solvers.

Shapes: an image ``(H, W)`` or ``(H, W, C)``; a gradient field adds a
trailing axis of 2, ``(..., 2)`` holding ``(d/dx, d/dy)`` in intensity per
pixel.  The public functions check their input's shape on the host and run
one compiled program per shape.  They are local, like ``numpy.gradient``: a
NaN or an infinity in the input stays in the output pixels that read it, so
they skip the solvers' pass over the values (on a 1024x1024 RGB gradient it
costs as much as the operator); they also work inside the caller's
``jit``/``vmap``/``grad``.  ``forward_gradient``, ``field_divergence`` and
``neumann_laplacian`` are the same operators unchecked, for any number of
trailing channels, for code that is already traced.
"""

from __future__ import annotations

from typing import Annotated

import jax
import jax.numpy as jnp

from inr._validate import as_field, check_image_shape

__all__ = [
    "divergence",
    "divergence_channels_first",
    "field_divergence",
    "forward_gradient",
    "image_gradient",
    "laplacian_5pt",
    "neumann_laplacian",
]


def _forward_diff(u, axis: int):
    d = jnp.diff(u, axis=axis)
    pad = [(0, 0)] * u.ndim
    pad[axis] = (0, 1)
    return jnp.pad(d, pad)


def _adjoint_diff(g, axis: int):
    # -(D^T g)[j] = g[j] - g[j-1], with g[-1] = 0 and the zero-flux last entry
    # dropped; static slices only, so XLA fuses it into one pass.
    n = g.shape[axis]
    zero = jnp.zeros_like(jax.lax.slice_in_dim(g, 0, 1, axis=axis))
    inner = jax.lax.slice_in_dim(g, 0, n - 1, axis=axis)
    return jnp.concatenate([inner, zero], axis) - jnp.concatenate([zero, inner], axis)


def forward_gradient(u: Annotated[jax.Array, "H W *C"]) -> Annotated[jax.Array, "H W *C 2"]:
    """:func:`image_gradient` for any number of trailing channels, unchecked (traceable)."""
    u = u.astype(jnp.float32) if not jnp.issubdtype(u.dtype, jnp.floating) else u
    return jnp.stack([_forward_diff(u, 1), _forward_diff(u, 0)], axis=-1)


def field_divergence(g: Annotated[jax.Array, "H W *C 2"]) -> Annotated[jax.Array, "H W *C"]:
    """:func:`divergence` for any number of trailing channels, unchecked (traceable)."""
    return _adjoint_diff(g[..., 0], 1) + _adjoint_diff(g[..., 1], 0)


def neumann_laplacian(u: Annotated[jax.Array, "H W *C"]) -> Annotated[jax.Array, "H W *C"]:
    """:func:`laplacian_5pt` for any number of trailing channels, unchecked (traceable)."""
    return field_divergence(forward_gradient(u))


def divergence_channels_first(grad: Annotated[jax.Array, "H W *C 2"]) -> jax.Array:
    """:func:`field_divergence` laid out ``(C, H, W)`` for ``(H, W, C, 2)`` input (``(H, W)`` else).

    The DCT/DST solvers run over the last two axes.  Computed channel by
    channel and stacked, so no transpose reaches the transforms' reordering,
    where XLA fuses it badly (``benchmarks/poisson.py``, the reconstruct row).
    """
    g = jnp.asarray(grad)
    if g.ndim == 3:
        return field_divergence(g)
    return jnp.stack([field_divergence(g[:, :, c]) for c in range(g.shape[2])])


# The public calls validate on the host, then run one compiled program per shape.
_gradient = jax.jit(forward_gradient)
_divergence = jax.jit(field_divergence)
_laplacian = jax.jit(neumann_laplacian)


def _image(image):
    u = as_field(image, "image", (2, 3), "(H, W) or (H, W, C)", finite=False)
    check_image_shape(u.shape, "image")
    return u


def _grad(grad):
    g = as_field(grad, "grad", (3, 4), "(H, W, 2) or (H, W, C, 2)", finite=False)
    if g.shape[-1] != 2:
        raise ValueError(f"grad must be shaped (H, W, 2) or (H, W, C, 2); got shape {g.shape}")
    return g


def image_gradient(image: Annotated[jax.Array, "H W *C"]) -> Annotated[jax.Array, "H W *C 2"]:
    """Forward-difference gradient ``(H, W[, C], 2)``, zero flux at the far border."""
    return _gradient(_image(image))


def divergence(grad: Annotated[jax.Array, "H W *C 2"]) -> Annotated[jax.Array, "H W *C"]:
    """``-(D_x^T g_x + D_y^T g_y)``: the adjoint partner of :func:`image_gradient`."""
    return _divergence(_grad(grad))


def laplacian_5pt(image: Annotated[jax.Array, "H W *C"]) -> Annotated[jax.Array, "H W *C"]:
    """The 5-point Laplacian with Neumann boundary, ``divergence(image_gradient(u))``."""
    return _laplacian(_image(image))

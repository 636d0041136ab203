"""Gradient-domain image editing: merging, seamless cloning and friends.

Every edit here builds a *guidance field*, a gradient field ``V``
``(H, W, C, 2)`` in the forward-difference layout of
:func:`inr.image_gradient`, and finds the image whose gradient is closest
to it:

* on the whole frame (:func:`merge`), by the exact DCT solve of
  :func:`inr.reconstruct`; :func:`merge_gradients` returns ``V`` itself, for
  :func:`inr.fit_gradients` to fit a network that renders at any size;
* inside a mask with the destination fixed around it (:func:`seamless_clone`
  and the OpenCV-style edits), by solving Perez et al.'s discrete equations
  ``lap u = div V`` on the mask's exact pixels (:mod:`inr.poisson.masked`).

Images follow the package convention (float in [0, 1], (H, W) or
(H, W, C)); results are clipped to [0, 1]; the caller's arrays are never
modified.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from inr._validate import as_image, as_mask, as_number, as_offset, same_shapes
from inr.color import rgb_to_gray
from inr.poisson.masked import DEFAULT_TOL, solve_masked
from inr.poisson.operators import (
    divergence_channels_first,
    field_divergence,
    forward_gradient,
    image_gradient,
    neumann_laplacian,
)
from inr.poisson.solve import dirichlet_interior, reconstruct

__all__ = [
    "CLONE_MODES",
    "MERGE_MODES",
    "color_change",
    "illumination_change",
    "merge",
    "merge_gradients",
    "seamless_clone",
    "texture_flatten",
]

MERGE_MODES = ("average", "max", "sum")
CLONE_MODES = ("normal", "mixed", "monochrome")


def _channels(img: np.ndarray) -> np.ndarray:
    return img.reshape(*img.shape[:2], -1)


def _luma(img: np.ndarray) -> np.ndarray:
    """BT.601 luma of an (H, W, 3) image; the channel mean of any other."""
    return rgb_to_gray(img) if img.shape[2] == 3 else img.mean(-1)


def _larger(a, b):
    """Per pixel and channel, the gradient vector (last axis) of larger magnitude."""
    keep_a = jnp.sum(a * a, axis=-1, keepdims=True) > jnp.sum(b * b, axis=-1, keepdims=True)
    return jnp.where(keep_a, a, b)


def _merged(images, mode, weights):
    """The merged field ``(H, W, C, 2)`` and the result's mean ``(C,)``, validated."""
    if mode not in MERGE_MODES:
        raise ValueError(f"mode must be one of {MERGE_MODES}; got {mode!r}")
    if isinstance(images, (str, bytes)) or not hasattr(images, "__len__"):
        raise ValueError(f"images must be a sequence of images; got {type(images).__name__}")
    if len(images) < 2:
        raise ValueError(f"images must hold at least two images; got {len(images)}")
    names = [f"images[{i}]" for i in range(len(images))]
    same_shapes(images, names)
    imgs = [_channels(as_image(im, n)) for im, n in zip(images, names, strict=True)]
    w = np.ones(len(imgs), np.float32) if weights is None else np.asarray(weights, np.float32)
    if w.shape != (len(imgs),) or not np.all(np.isfinite(w)):
        raise ValueError(f"weights must be {len(imgs)} finite numbers; got {weights!r}")
    if mode == "average" and w.sum() == 0:
        raise ValueError("weights must not sum to zero for mode='average'")
    grads = [image_gradient(im) for im in imgs]
    if mode == "max":
        merged = grads[0]
        for g in grads[1:]:
            merged = _larger(g, merged)
        w = np.ones(len(imgs), np.float32)
    else:
        merged = sum(wi * g for wi, g in zip(w, grads, strict=True))
        if mode == "average":
            merged = merged / w.sum()
    mean = sum(wi * im.mean(axis=(0, 1)) for wi, im in zip(w, imgs, strict=True)) / w.sum()
    return merged, mean


def merge_gradients(images, *, mode: str = "average", weights=None) -> np.ndarray:
    """The merged gradient field of same-sized images.

    Args:
      images: a sequence of two or more images of one shape, or an array
        ``(N, H, W[, C])``.
      mode: ``"average"`` (weighted mean of the gradients), ``"max"`` (per
        pixel and channel, the gradient vector of largest magnitude) or
        ``"sum"`` (weighted sum).
      weights: per-image weights for ``"average"``/``"sum"`` (default all 1).

    Returns:
      The field ``(H, W[, C], 2)`` in the layout of :func:`inr.image_gradient`.
      Feed it to :func:`inr.reconstruct` for the exact least-squares image
      (that is :func:`merge`), or to :func:`inr.fit_gradients` for a network
      that renders it at any size.  A gradient does not fix the mean: pass
      the images' (weighted) mean intensity along.
    """
    merged, _ = _merged(images, mode, weights)
    return np.asarray(merged).reshape(*np.shape(images[0]), 2)


def merge(images, *, mode: str = "average", weights=None) -> np.ndarray:
    """Merge same-sized images by combining their gradients and reconstructing.

    The exact least-squares image of :func:`merge_gradients` (one DCT solve,
    :func:`inr.reconstruct`), clipped to [0, 1].  Its mean is the weighted
    mean of the inputs' means (plain for ``"max"``).

    Returns:
      The merged image, the inputs' shape (H, W[, C]), float32 in [0, 1].
    """
    merged, mean = _merged(images, mode, weights)
    out = np.asarray(reconstruct(merged, mean=mean)).reshape(np.shape(images[0]))
    return np.clip(out, 0.0, 1.0).astype(np.float32)


# --------------------------------------------------------------------------
# Masked solves: the destination fixed outside the mask.
# --------------------------------------------------------------------------


def _masked_reconstruct(guidance_fn, fixed, mask, tol):
    """The image equal to ``fixed`` off ``mask`` with ``lap u = div V`` on it, clipped to [0, 1].

    Works on the mask's bounding box plus a one-pixel ring, where every
    equation of a masked pixel lives.  ``guidance_fn(box)`` returns ``V`` for
    that box of slices.  ``fixed`` must be the caller's own copy (the
    validated input): it is written in place and returned.  Guidance on
    edges leaving the box (its last column's x-component, its last row's
    y-component) never enters: :func:`divergence` drops them, the zero-flux
    convention, so a box that ends inside the image needs no special case.
    """
    out = fixed
    if not mask.any():
        return out
    h, w = mask.shape
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    y0, y1 = max(rows[0] - 1, 0), min(rows[-1] + 2, h)
    x0, x1 = max(cols[0] - 1, 0), min(cols[-1] + 2, w)
    box = (slice(y0, y1), slice(x0, x1))
    m = mask[box]
    # A rectangle strictly inside the image is solved exactly by one DST.
    rectangle = min(m.shape) >= 3 and int(m.sum()) == (m.shape[0] - 2) * (m.shape[1] - 2)
    rectangle = rectangle and bool(m[1:-1, 1:-1].all())
    v, f = jnp.asarray(guidance_fn(box), jnp.float32), jnp.asarray(fixed[box])
    if rectangle:
        solved = _solve_rectangle(v, f)
    else:
        # Not one jit around all of it: solve_masked runs a CPU's channels
        # as separate calls, whose temporaries malloc can reuse.
        x, _ = solve_masked(_masked_rhs(v, f), m, tol=tol)
        solved = _add_clipped(f, x)
    out[box] = np.asarray(solved)
    return out


@jax.jit
def _solve_rectangle(v, f):
    """``f`` fixed on the box's one-pixel ring, guidance ``v`` inside: one exact DST solve."""
    # Channels-first, as the transforms run (see divergence_channels_first).
    f_cf = jnp.moveaxis(f, -1, 0)
    inner = dirichlet_interior(divergence_channels_first(v), f_cf)
    return jnp.clip(f.at[1:-1, 1:-1].set(jnp.moveaxis(inner, 0, -1)), 0.0, 1.0)


@jax.jit
def _masked_rhs(v, f):
    """``A x = -lap x = lap f - div v`` on the mask, for ``u = f + x``.

    Solved by multigrid-preconditioned CG from zero.  (A DST solve of the
    same equations on the box, used as a start, is far off outside the
    mask, max error 1.4 on the benchmark's ellipse, and saved no CG
    iteration.)
    """
    return neumann_laplacian(f) - field_divergence(v)


@jax.jit
def _add_clipped(f, x):
    return jnp.clip(f + x, 0.0, 1.0)


def _place(mask, dst_shape, offset):
    """``mask`` at ``offset = (x, y)`` in a destination-sized frame, clipped.

    Returns the placed mask and ``(oy, ox, ys, xs)``: the offset and the
    destination rows and columns the source covers.
    """
    ox, oy = (int(v) for v in offset)
    h, w = mask.shape
    H, W = dst_shape[:2]
    ys, xs = slice(max(oy, 0), min(oy + h, H)), slice(max(ox, 0), min(ox + w, W))
    placed = np.zeros((H, W), bool)
    if ys.start < ys.stop and xs.start < xs.stop:
        placed[ys, xs] = mask[ys.start - oy : ys.stop - oy, xs.start - ox : xs.stop - ox]
    return placed, (oy, ox, ys, xs)


def _source_patch(src, dst, box, placement):
    """The placed source over ``box``, and the destination where the source does not reach."""
    oy, ox, ys, xs = placement
    patch = dst[box].copy()
    (by, bx) = box
    iy = slice(max(by.start, ys.start), min(by.stop, ys.stop))
    ix = slice(max(bx.start, xs.start), min(bx.stop, xs.stop))
    if iy.start < iy.stop and ix.start < ix.stop:
        patch[
            iy.start - by.start : iy.stop - by.start, ix.start - bx.start : ix.stop - bx.start
        ] = src[iy.start - oy : iy.stop - oy, ix.start - ox : ix.stop - ox]
    return patch


@jax.jit
def _clone_guidance(src_patch, dst_patch=None):
    """The source's gradient, or with ``dst_patch`` Perez's mixed field."""
    g = forward_gradient(src_patch)
    return g if dst_patch is None else _larger(g, forward_gradient(dst_patch))


def seamless_clone(
    src, dst, mask, offset=(0, 0), *, mode: str = "normal", tol: float = DEFAULT_TOL
) -> np.ndarray:
    """Paste ``src`` into ``dst`` inside ``mask`` without a seam (Perez et al. 2003).

    Solves ``lap u = div V`` on the mask's pixels with ``u = dst`` around
    them, exactly on the mask's own domain (not its bounding box), by
    multigrid-preconditioned CG to a relative residual of ``tol``.

    Args:
      src: (h, w[, C]) source image.
      dst: (H, W[, C]) destination, with as many channels as ``src``.
      mask: (h, w) bool (or 0/1, 0/255) on ``src``: the pixels to clone.
      offset: ``(x, y)``, where ``src``'s top-left pixel lands in ``dst``.
        Parts of ``src`` that fall outside ``dst`` are clipped away.
      mode: ``"normal"`` (``V`` = the source gradient), ``"mixed"`` (per pixel
        and channel, whichever of the source and destination gradient vectors
        is larger: Perez's definition) or ``"monochrome"`` (the source's
        luminance gradient, for colour images).
      tol: relative residual of the solve.

    Returns:
      A new (H, W[, C]) image in [0, 1].  An empty mask returns ``dst``.
    """
    if mode not in CLONE_MODES:
        raise ValueError(f"mode must be one of {CLONE_MODES}; got {mode!r}")
    offset = as_offset(offset)
    tol = _as_tol(tol)
    s, d = as_image(src, "src"), as_image(dst, "dst")
    if s.ndim != d.ndim or (s.ndim == 3 and s.shape[2] != d.shape[2]):
        raise ValueError(
            f"src and dst must have the same channels; got src {s.shape}, dst {d.shape}"
        )
    m = as_mask(mask, s.shape)
    s3, d3 = _channels(s), _channels(d)
    if mode == "monochrome":
        luma = _luma(s3)
        s3 = np.repeat(luma[..., None], s3.shape[2], axis=2)
    m_full, placement = _place(m, d3.shape, offset)

    def guidance(box):
        # Where the source does not reach, its "gradient" comes from dst.
        patch = _source_patch(s3, d3, box, placement)
        return _clone_guidance(patch, d3[box] if mode == "mixed" else None)

    return _masked_reconstruct(guidance, d3, m_full, tol).reshape(d.shape)


def _as_tol(tol) -> float:
    return as_number(tol, "tol", 0.0, 1.0, low_open=True)


def _edit(image, mask, transform, tol):
    """Reconstruct ``image`` inside ``mask`` from ``transform(gradient)``."""
    tol = _as_tol(tol)
    img = _channels(as_image(image))
    m = as_mask(mask, img.shape)
    guidance = lambda box: transform(np.asarray(image_gradient(img[box])), img[box])
    return _masked_reconstruct(guidance, img, m, tol).reshape(np.shape(image))


def color_change(image, mask, factors, *, tol: float = DEFAULT_TOL) -> np.ndarray:
    """Recolour the masked region seamlessly: its gradients scaled per channel.

    ``factors`` has one multiplier per channel (OpenCV's ``colorChange``
    with ``red_mul, green_mul, blue_mul`` in RGB order).
    """
    f = np.asarray(factors, np.float32).reshape(-1)
    channels = 1 if np.ndim(image) == 2 else np.shape(image)[2]
    if f.shape != (channels,) or not np.all(np.isfinite(f)):
        raise ValueError(f"factors must be {channels} finite numbers; got {factors!r}")
    return _edit(image, mask, lambda g, _: g * f[:, None], tol)


def illumination_change(
    image, mask, *, alpha: float = 0.2, beta: float = 0.4, tol: float = DEFAULT_TOL
) -> np.ndarray:
    """Even out the lighting inside ``mask`` (Fattal et al. 2002 attenuation).

    Gradients become ``alpha^beta |g|^-beta g``: strong ones are compressed,
    weak ones lifted (OpenCV's ``illuminationChange``, with gradients in
    [0, 1] units, so ``alpha`` is relative to a unit gradient).
    """

    alpha = as_number(alpha, "alpha", 0.0, low_open=True)
    beta = as_number(beta, "beta", -np.inf)

    def attenuate(g, _):
        mag = np.sqrt(np.sum(g * g, axis=-1, keepdims=True))
        return g * (alpha**beta) * np.power(np.maximum(mag, 1e-6), -beta)

    return _edit(image, mask, attenuate, tol)


def texture_flatten(image, mask, *, threshold: float = 0.1, tol: float = DEFAULT_TOL) -> np.ndarray:
    """Wash out texture inside ``mask``, keeping only strong edges.

    Gradients whose luminance magnitude is below ``threshold`` (intensity
    per pixel) are set to zero; OpenCV's ``textureFlattening`` uses a Canny
    edge map for the same purpose.
    """

    threshold = as_number(threshold, "threshold", 0.0)

    def flatten(g, img):
        luma = _luma(img)
        edge = np.linalg.norm(np.asarray(image_gradient(luma)), axis=-1) >= threshold
        return g * edge[:, :, None, None]

    return _edit(image, mask, flatten, tol)

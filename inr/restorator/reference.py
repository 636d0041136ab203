"""Texture transfer from a reference image (TTSR, Yang et al., CVPR 2020), per point.

TTSR restores a low-resolution input with the textures of a reference photo
(another photo of the same face, or scene).  Its texture transformer:

* a learnable texture extractor (LTE) maps three images to features: the
  upsampled input (Q), the reference blurred down to the input's detail
  (K) and the reference itself (V);
* relevance ``r_ij = <q_i / |q_i|, k_j / |k_j|>`` between 3x3 patches of Q
  and K; hard attention ``h_i = argmax_j r_ij`` picks, for every input
  position, the most relevant reference position; soft attention
  ``s_i = max_j r_ij`` says how much to trust it;
* the textures of V at ``h_i`` are transferred at several scales (cross-scale
  integration) and weighted by ``s_i``.

TTSR searches the whole reference.  For references framed like the input
(aligned faces), ``radius`` restricts the search to a window of
``(2 radius + 1)^2`` cells around each input cell's own position: a local
prior that the content match alone lacks (a blank or smooth patch matches
anything, anywhere).

Here the same steps serve a decoder of continuous coordinates.  Q and K are
compared at the input's own resolution: Q from the input, K from the
reference resized to the input's size (the reference is assumed framed like
the target, as TTSR's are: same face or scene, similar scale).  A query point
``p`` falls in input cell ``i`` at an offset ``o`` (in cells); its matched
reference point is the centre of cell ``h_i`` plus the same offset, and the
textures there are sampled bilinearly from every scale of V.  So a point
between input pixels reads the reference between *its* pixels: the transfer
works at any output size or region, beyond the x4 TTSR was built for.  The
decoder receives ``s_i * V(p_ref)`` at each scale of V (the restorator puts
the reference's own colours first, then its learned texture maps) and
``s_i``.  Without a reference both are zero, which a model trained with
reference dropout handles as a plain restorator.
"""

from __future__ import annotations

from typing import Annotated, NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp

from inr.interpolation import pixel_position, sample_bilinear

__all__ = ["TextureExtractor", "Transfer", "match", "transfer"]


class TextureExtractor(nn.Module):
    """TTSR's LTE: a small conv pyramid, ``(h, w, c) -> maps`` at 1, 1/2, 1/4 (finest first).

    Attributes:
      features: channels per scale (each scale halves the resolution after
        the first).
    """

    features: tuple[int, ...] = (32, 32, 32)

    @nn.compact
    def __call__(self, x: Annotated[jax.Array, "b h w c"]) -> tuple[jax.Array, ...]:
        maps = []
        for level, width in enumerate(self.features):
            if level:
                x = nn.max_pool(x, (2, 2), strides=(2, 2), padding="SAME")
            x = nn.relu(nn.Conv(width, (3, 3))(x))
            x = nn.relu(nn.Conv(width, (3, 3))(x))
            maps.append(x)
        return tuple(maps)


class Transfer(NamedTuple):
    """What a reference gives the decoder, computed once per input.

    Attributes:
      values: V, the reference's texture maps, finest first, ``(b, H_k, W_k, C_k)``.
      index: ``(b, h w)`` hard attention: the reference cell (row-major in
        the input-sized grid) most relevant to each input cell.
      confidence: ``(b, h, w)`` soft attention, the relevance of that match
        (zero where there is no reference).
    """

    values: tuple[jax.Array, ...]
    index: jax.Array
    confidence: jax.Array


def _patches(x):
    """3x3 neighbourhoods, flattened and L2-normalised: ``(b, h, w, c) -> (b, h w, 9 c)``."""
    b, h, w, c = x.shape
    # Nine shifted slices of the zero-padded map: unlike an identity
    # convolution (``conv_general_dilated_patches``), whose backward pass is
    # a full transposed convolution, these differentiate as cheap pads.
    padded = jnp.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    shifts = [padded[:, i : i + h, j : j + w] for i in range(3) for j in range(3)]
    p = jnp.concatenate(shifts, axis=-1).reshape(b, h * w, 9 * c)
    return p / (jnp.linalg.norm(p, axis=-1, keepdims=True) + 1e-6)


def _window(query_shape, key_shape, radius: int) -> jax.Array:
    """``(h w, h' w')``: whether key cell j lies within ``radius`` query cells of query cell i.

    Cell centres are compared on the query's grid (a key of another size is
    scaled onto it), in the Chebyshev distance.
    """

    def centres(n, m):  # m cells' centres, in units of the n-cell grid
        return (jnp.arange(m) + 0.5) * n / m - 0.5

    (h, w), (hk, wk) = query_shape, key_shape
    near_r = jnp.abs(jnp.arange(h)[:, None] - centres(h, hk)[None, :]) <= radius + 1e-6
    near_c = jnp.abs(jnp.arange(w)[:, None] - centres(w, wk)[None, :]) <= radius + 1e-6
    return (near_r[:, None, :, None] & near_c[None, :, None, :]).reshape(h * w, hk * wk)


def match(query: jax.Array, key: jax.Array, radius: int = 0) -> tuple[jax.Array, jax.Array]:
    """Hard and soft attention of ``query (b, h, w, c)`` over ``key (b, h', w', c)``.

    Returns ``(index (b, h w), confidence (b, h, w))``.  The relevance
    matrix is ``(h w) x (h' w')`` per row of the batch: quadratic in the
    input's size, which is small (the input is the low-resolution side).
    ``radius > 0`` searches only the key cells within that many cells of
    each query cell's position (see the module's docstring); 0 searches all.
    """
    q, k = _patches(query), _patches(key)
    # The argmax has no gradient and the max's gradient reaches only the
    # chosen pair, so the dense relevance matrix is built without one and
    # the confidence is recomputed from that pair: the same value and
    # gradient, without a backward pass through the (h w) x (h' w') product.
    relevance = jnp.einsum("bic,bjc->bij", jax.lax.stop_gradient(q), jax.lax.stop_gradient(k))
    if radius:
        window = _window(query.shape[1:3], key.shape[1:3], radius)
        relevance = jnp.where(window, relevance, -jnp.inf)
    index = jnp.argmax(relevance, axis=-1)
    chosen = jnp.take_along_axis(k, index[..., None], axis=1)
    confidence = jnp.sum(q * chosen, axis=-1)
    return index, confidence.reshape(query.shape[:3])


def _reference_points(points, index, height: int, width: int):
    """Each point's matched position in the reference, ``(n, 2)`` in [-1, 1]."""
    row, col = pixel_position(points, height, width)
    r = jnp.clip(jnp.round(row), 0, height - 1)
    c = jnp.clip(jnp.round(col), 0, width - 1)
    cell = (r * width + c).astype(jnp.int32)
    matched = index[cell]
    mr, mc = matched // width, matched % width
    # The matched cell's centre plus the point's offset from its own centre.
    x = -1.0 + (2.0 * (mc + (col - c)) + 1.0) / width
    y = -1.0 + (2.0 * (mr + (row - r)) + 1.0) / height
    return jnp.stack([x, y], axis=-1), cell


def transfer(t: Transfer, points: Annotated[jax.Array, "b n 2"]) -> jax.Array:
    """Per point: ``s * V(p_ref)`` at every scale of V, and ``s``; ``(b, n, sum C_k + 1)``."""
    height, width = t.confidence.shape[1:]

    def one(values, index, confidence, p):
        where, cell = _reference_points(p, index, height, width)
        s = confidence.reshape(-1)[cell][:, None]
        textures = [sample_bilinear(v, where) for v in values]
        return jnp.concatenate([s * v for v in textures] + [s], axis=-1)

    return jax.vmap(one)(t.values, t.index, t.confidence, points)

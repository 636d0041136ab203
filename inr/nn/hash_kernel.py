"""The hash encoding as a fused Pallas (Triton) kernel, forward and backward.

XLA runs :func:`inr.nn.hash_encoding.encode` as one gather, and its gradient as
one scatter-add, between fusions that compute the ``(n, L, 2^d)`` rows and
weights; where they meet, XLA decides what goes through memory.  These
kernels do what tiny-cuda-nn's do: each program takes a block of points
and, level by level and corner by corner, computes the row, the weight and
the feature in registers, so a point's coordinates are read once and its
``L F`` features written once.

* forward: ``out[l F + f] = sum_c w_c(x) table[row_c(x) + f]``;
* backward, the table: ``dtable[row_c(x) + f] += w_c(x) g[l F + f]`` by
  atomic adds (rows shared by points, the coarse levels' above all, are
  summed by the hardware);
* backward, the coordinates: the XLA encoding's vector-Jacobian product,
  which ``jit`` removes when nothing asks for it (as in a plain fit).

Only reverse mode is defined (a ``jax.custom_vjp``): what a fit of values
needs, and ``jax.grad`` with respect to the coordinates.  Forward mode, and
so :func:`inr.gradient`, :func:`inr.laplacian` and fits of gradients or
Laplacians, raises JAX's ``TypeError``; those need ``implementation="xla"``.
Row and weight arithmetic is the XLA encoding's, so both agree to float32
rounding; the table may be bfloat16 (its gradient is accumulated in
float32, then cast).

Off a GPU the kernels run in Pallas's interpreter, for tests: it is slow,
and as its ``atomic_add`` keeps one of the indices repeated within a call,
the backward adds with a scatter-add there.
"""

from __future__ import annotations

import functools
from typing import Annotated

import jax
import jax.numpy as jnp
from jax.experimental import pallas as pl
from jax.experimental.pallas import triton as plt

from inr.nn.hash_encoding import GridSpec, corners, encode, hash_coordinates

__all__ = ["BLOCK", "encode_pallas"]

BLOCK = 256  # points per program: a multiple of the 32 lanes of a warp


def _rows_and_weights(x_ref, spec: GridSpec, features: int):
    """Yield ``(level, flat row index (B,), weight (B,))`` for every level and corner."""
    d = x_ref.shape[0]
    u = [jnp.clip((x_ref[i, :] + 1.0) * 0.5, 0.0, 1.0) for i in range(d)]
    for level, res in enumerate(spec.resolution):
        pos = [ui * float(res) for ui in u]
        cell = [jnp.clip(jnp.floor(p), 0.0, float(res - 1)) for p in pos]
        t = [p - c for p, c in zip(pos, cell, strict=True)]
        if spec.smooth:
            t = [ti * ti * (3.0 - 2.0 * ti) for ti in t]
        vertex0 = [c.astype(jnp.uint32) for c in cell]
        for corner in corners(d):
            v = [vi + jnp.uint32(o) for vi, o in zip(vertex0, corner, strict=True)]
            if spec.dense[level]:
                row = v[0]
                for i in range(1, d):
                    row = row + v[i] * jnp.uint32(((res + 1) ** i) % 2**32)
            else:
                row = hash_coordinates(v, spec.table_size)
            weight = t[0] if corner[0] else 1.0 - t[0]
            for i in range(1, d):
                weight = weight * (t[i] if corner[i] else 1.0 - t[i])
            flat = (row.astype(jnp.int32) + spec.offset[level]) * features
            yield level, flat, weight


def _forward_kernel(x_ref, table_ref, out_ref, *, spec: GridSpec, features: int):
    acc = {}
    for level, flat, weight in _rows_and_weights(x_ref, spec, features):
        for f in range(features):
            value = weight * table_ref[flat + f].astype(jnp.float32)
            key = level * features + f
            acc[key] = value if key not in acc else acc[key] + value
    for key, value in acc.items():
        out_ref[key, :] = value


def _add(ref, index, value, interpret: bool):
    """``ref[index] += value``, repeated indices summed."""
    if interpret:
        # The interpreter's atomic_add keeps one of repeated indices; its
        # programs run one at a time, so a plain scatter-add is exact there.
        ref[...] = ref[...].at[index].add(value)
    else:
        plt.atomic_add(ref, index, value)


def _backward_kernel(x_ref, g_ref, zeros_ref, dtable_ref, *, spec, features, interpret):
    del zeros_ref  # the same buffer as dtable_ref
    for level, flat, weight in _rows_and_weights(x_ref, spec, features):
        for f in range(features):
            _add(dtable_ref, flat + f, weight * g_ref[level * features + f, :], interpret)


def _call(kernel, inputs, out_shape, n_pad, block, interpret, **extra):
    params = None if interpret else plt.CompilerParams(num_warps=4)
    return pl.pallas_call(
        kernel,
        grid=(n_pad // block,),
        out_shape=out_shape,
        interpret=interpret,
        compiler_params=params,
        **extra,
    )(*inputs)


def _columns(a, block):
    """``a (n, k)`` as float32 ``(k, n_pad)``, zero-padded to whole blocks of points."""
    n_pad = -(-a.shape[0] // block) * block
    return jnp.pad(a.T.astype(jnp.float32), ((0, 0), (0, n_pad - a.shape[0]))), n_pad


def _forward(x, table, spec, block, interpret):
    n, d = x.shape
    xt, n_pad = _columns(x, block)
    width = len(spec.resolution) * table.shape[1]
    kernel = functools.partial(_forward_kernel, spec=spec, features=table.shape[1])
    out = _call(
        kernel,
        (xt, table.reshape(-1)),
        jax.ShapeDtypeStruct((width, n_pad), jnp.float32),
        n_pad,
        block,
        interpret,
        in_specs=[pl.BlockSpec((d, block), lambda i: (0, i)), pl.BlockSpec(memory_space=pl.ANY)],
        out_specs=pl.BlockSpec((width, block), lambda i: (0, i)),
    )
    return out[:, :n].T


def _backward(x, g, spec, table_shape, block, interpret):
    d = x.shape[1]
    (xt, n_pad), (gt, _) = _columns(x, block), _columns(g, block)
    width = g.shape[1]
    kernel = functools.partial(
        _backward_kernel, spec=spec, features=table_shape[1], interpret=interpret
    )
    size = table_shape[0] * table_shape[1]
    dtable = _call(
        kernel,
        (
            xt,
            gt,
            jnp.zeros((size,), jnp.float32),
        ),
        jax.ShapeDtypeStruct((size,), jnp.float32),
        n_pad,
        block,
        interpret,
        in_specs=[
            pl.BlockSpec((d, block), lambda i: (0, i)),
            pl.BlockSpec((width, block), lambda i: (0, i)),
            pl.BlockSpec(memory_space=pl.ANY),
        ],
        out_specs=pl.BlockSpec(memory_space=pl.ANY),
        input_output_aliases={2: 0},
    )
    return dtable.reshape(table_shape)


@functools.partial(jax.custom_vjp, nondiff_argnums=(2, 3, 4))
def _encode(x, table, spec, block, interpret):
    return _forward(x, table, spec, block, interpret)


def _encode_fwd(x, table, spec, block, interpret):
    return _forward(x, table, spec, block, interpret), (x, table)


def _encode_bwd(spec, block, interpret, residuals, g):
    x, table = residuals
    dtable = _backward(x, g, spec, table.shape, block, interpret).astype(table.dtype)
    _, vjp_x = jax.vjp(lambda x: encode(x, table, spec), x)
    (dx,) = vjp_x(g)
    return dx, dtable


_encode.defvjp(_encode_fwd, _encode_bwd)


def encode_pallas(
    x: Annotated[jax.Array, "n d"],
    table: Annotated[jax.Array, "rows F"],
    spec: GridSpec,
    *,
    block: int = BLOCK,
    interpret: bool | None = None,
) -> Annotated[jax.Array, "n LF"]:
    """:func:`inr.nn.hash_encoding.encode` by the fused kernels (module docstring).

    ``block`` points go to each program (a power of two); ``interpret``
    defaults to running the kernels in Pallas's interpreter off a GPU.
    """
    if block < 1 or block & (block - 1):
        raise ValueError(f"block must be a power of two; got {block}")
    if interpret is None:
        interpret = jax.default_backend() != "gpu"
    if x.shape[0] == 0:  # no program to launch
        return encode(x, table, spec)
    return _encode(x, table, spec, block, bool(interpret))

"""A fitted codec field to integers and bits, and back: the weights, then the latents.

The entropy model's weights are its fixed-point integers, multiples of
``2^-j`` (:func:`inr.codec.entropy.quantize_params`), stored as counts of
that step; each of the synthesis's tensors is rounded to its own step
``2^-k`` (``j`` and every ``k`` chosen by the encoder, in the header).  Each
tensor of integers is coded under one zero-centred Laplace whose scale
index the header carries.  The latents follow, coarsest grid first, each
grid in its passes (:mod:`inr.codec.entropy`): every latent of a pass
is coded under the Laplace the integer entropy model predicts from what
was decoded before it.
"""

from __future__ import annotations

import numpy as np

from inr.codec import entropy, tables
from inr.codec.bitstream import Reader, Writer

__all__ = ["read_latents", "read_tensors", "tensor_scale", "write_latents", "write_tensors"]


def tensor_scale(values: np.ndarray) -> int:
    """The table scale closest to integers' mean absolute value (a Laplace's ``b``)."""
    b = max(float(np.mean(np.abs(values))), 1e-3)
    position = (np.log(b) - tables.LOG_B_MIN) / (tables.LOG_B_MAX - tables.LOG_B_MIN)
    return int(np.clip(round(position * (tables.SCALES - 1)), 0, tables.SCALES - 1))


def write_tensors(writer: Writer, tensors: dict[str, np.ndarray]) -> dict[str, int]:
    """Code integer ``tensors`` in name order; returns each one's scale index (for the header)."""
    scales = {}
    for name in sorted(tensors):
        values = np.asarray(tensors[name], np.int64).reshape(-1)
        scales[name] = s = tensor_scale(values)
        zeros = np.zeros_like(values)
        writer.integers(values, zeros + s, zeros, zeros)
    return scales


def read_tensors(reader: Reader, shapes: dict[str, tuple], scales: dict[str, int]) -> dict:
    """The tensors of :func:`write_tensors`, shaped by ``shapes``."""
    out = {}
    for name in sorted(shapes):
        n = int(np.prod(shapes[name]))
        zeros = np.zeros(n, np.int64)
        out[name] = reader.integers(zeros + scales[name], zeros, zeros).reshape(shapes[name])
    return out


def _pass_rows(qcontext, plane: int, grid, parent, previous, step: int):
    """``(positions, s, f, m)`` of pass ``step``: where its latents are and their rows."""
    where = np.flatnonzero(entropy.phase(grid.shape).reshape(-1) == step)
    features = entropy.contexts(grid, parent, previous, np, rows=where)
    mu, log_b = entropy.predict_int(qcontext, features, plane)
    shift = entropy.FRACTION
    fraction = (mu & (2**shift - 1)) >> (shift - int(np.log2(tables.FRACTIONS)))
    return where, tables.scale_index(log_b, shift), fraction, mu >> shift


def write_latents(writer: Writer, qcontext: dict, latents: list[np.ndarray]) -> None:
    """Code integer latent grids ``(*m_l, C_l)`` (finest first) in the entropy model's order."""
    latents = [np.asarray(z, np.int64) for z in latents]
    for plane, grid, parent, previous in entropy.planes(latents):
        for step in range(2**grid.ndim):
            where, s, f, m = _pass_rows(qcontext, plane, grid, parent, previous, step)
            writer.integers(grid.reshape(-1)[where], s, f, m)


def read_latents(reader: Reader, qcontext: dict, shapes: list[tuple]) -> list[np.ndarray]:
    """The latent grids of :func:`write_latents`, shaped ``shapes`` (finest first)."""
    latents = [np.zeros(shape, np.int64) for shape in shapes]
    for plane, grid, parent, previous in entropy.planes(latents):  # views: filled in place
        for step in range(2**grid.ndim):
            where, s, f, m = _pass_rows(qcontext, plane, grid, parent, previous, step)
            grid[np.unravel_index(where, grid.shape)] = reader.integers(s, f, m)
    return latents

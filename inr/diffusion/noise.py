"""The sampler's Gaussian noise: JAX's Threefry stream, written as plain ``uint32`` operations.

``random_bits(key, shape)`` returns exactly ``jax.random.bits(key, shape)``
for a Threefry key (JAX's default, partitionable counter layout: element
``i`` hashes the 64-bit counter ``(hi, lo) = (0, i)`` and keeps the XOR of
the two output words).  ``normal_from_bits`` turns them into exactly
``jax.random.normal(key, shape)``.  So the sampler draws the same numbers as
``jax.random.normal``; only the lowering differs.

Why a second implementation: on CPU, JAX lowers the Threefry-2x32 hash as a
rolled loop of five 4-round blocks, each a pass over memory.  Written as
plain ``uint32`` operations the 20 rounds fuse into one loop that stays in
registers: 0.55 vs 1.7 ms for 786k words on the 2-core CI machine.  Fused
into the consumer together with ``erf_inv``, however, XLA:CPU vectorises the
combined loop badly (10 ms), so on a CPU
:func:`~inr.diffusion.sampler.sample` draws the next step's bits one step
ahead and carries them, which materialises them between the two halves.
(A GPU already fuses JAX's own hash, and the carry only costs it a pass.)

Threefry-2x32 with 20 rounds is Salmon et al., "Parallel random numbers:
as easy as 1, 2, 3" (SC 2011), with the rotation constants and key-schedule
parity of the Random123 reference.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

__all__ = ["threefry2x32", "random_bits", "normal_from_bits"]

_ROTATIONS = (13, 15, 26, 6, 17, 29, 16, 24)
_PARITY = np.uint32(0x1BD11BDA)
# jax.random.normal draws uniforms in [nextafter(-1, 1), 1) and maps them by sqrt(2) erfinv.
_LO = np.nextafter(np.float32(-1.0), np.float32(1.0))


def _rotate_left(x, r: int):
    return (x << np.uint32(r)) | (x >> np.uint32(32 - r))


def threefry2x32(key, x0, x1):
    """Threefry-2x32-20 of the counter pairs ``(x0, x1)`` under ``key``.

    Args:
      key: (2,) uint32, the key words ``(k0, k1)``.
      x0, x1: uint32 arrays of one shape, the two counter words.

    Returns:
      ``(y0, y1)``, uint32 arrays of that shape.  Five blocks of four rounds
      ``x0 += x1; x1 = rotl(x1, R) ^ x0``, each followed by a key injection
      from the schedule ``(k0, k1, k0 ^ k1 ^ 0x1BD11BDA)`` plus the block
      number.
    """
    k = (key[0], key[1], key[0] ^ key[1] ^ _PARITY)
    x0, x1 = x0 + k[0], x1 + k[1]
    for block in range(5):
        for r in _ROTATIONS[4 * (block % 2) : 4 * (block % 2) + 4]:
            x0 = x0 + x1
            x1 = _rotate_left(x1, r) ^ x0
        x0 = x0 + k[(block + 1) % 3]
        x1 = x1 + k[(block + 2) % 3] + np.uint32(block + 1)
    return x0, x1


def _threefry_words(key):
    """The (2,) uint32 words of a Threefry key, or ``None`` for another PRNG."""
    if jnp.issubdtype(key.dtype, jax.dtypes.prng_key):
        if str(jax.random.key_impl(key)) != "threefry2x32":
            return None
        return jax.random.key_data(key)
    if jax.config.jax_default_prng_impl != "threefry2x32":
        return None
    return key


def random_bits(key: jax.Array, shape: tuple[int, ...]) -> jax.Array:
    """``jax.random.bits(key, shape)`` (uint32), from fused Threefry rounds.

    Keys of other PRNGs (``rbg``, ``unsafe_rbg``) go to ``jax.random.bits``.
    """
    words = _threefry_words(key)
    if words is None or not jax.config.jax_threefry_partitionable:
        return jax.random.bits(key, shape, jnp.uint32)
    n = math.prod(shape)
    if n >= 2**32:
        raise ValueError(f"shape must hold fewer than 2**32 values; got {shape}")
    lo = lax.iota(jnp.uint32, n).reshape(shape)
    y0, y1 = threefry2x32(words, jnp.zeros_like(lo), lo)
    return y0 ^ y1


def normal_from_bits(bits: jax.Array, dtype=jnp.float32) -> jax.Array:
    """Standard normal samples from uniform uint32 ``bits``, as ``jax.random.normal`` maps them.

    The top 23 bits give ``f`` uniform on [0, 1), then ``u = max(lo, 2 f + lo)``
    with ``lo = nextafter(-1, 1)`` is uniform on (-1, 1) and
    ``z = sqrt(2) erfinv(u)``.  Computed in float32, then cast to ``dtype``.
    """
    f = lax.bitcast_convert_type((bits >> np.uint32(9)) | np.uint32(0x3F800000), jnp.float32)
    u = jnp.maximum(_LO, (f - np.float32(1.0)) * (np.float32(1.0) - _LO) + _LO)
    return (np.float32(np.sqrt(2.0)) * lax.erf_inv(u)).astype(dtype)

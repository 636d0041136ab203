"""The sampler's noise against Random123's known answers and against jax.random itself."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from inr.diffusion.noise import normal_from_bits, random_bits, threefry2x32

# Known-answer vectors of Threefry-2x32-20 from the Random123 distribution:
# (key, counter) -> output.
KAT = [
    ((0x00000000, 0x00000000), (0x00000000, 0x00000000), (0x6B200159, 0x99BA4EFE)),
    ((0xFFFFFFFF, 0xFFFFFFFF), (0xFFFFFFFF, 0xFFFFFFFF), (0x1CB996FC, 0xBB002BE7)),
    ((0x13198A2E, 0x03707344), (0x243F6A88, 0x85A308D3), (0xC4923A9C, 0x483DF7A0)),
]


@pytest.mark.parametrize("key, counter, expected", KAT)
def test_threefry_known_answers(key, counter, expected):
    key = jnp.asarray(key, jnp.uint32)
    y0, y1 = jax.jit(threefry2x32)(key, *(jnp.asarray([c], jnp.uint32) for c in counter))
    assert (int(y0[0]), int(y1[0])) == expected


SHAPES = [(1,), (7,), (1000, 3), (4, 5, 6)]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("new_style", [False, True])
def test_bits_and_normals_equal_jax_random(shape, new_style):
    key = jax.random.key(42) if new_style else jax.random.PRNGKey(42)
    bits = jax.jit(random_bits, static_argnums=1)(key, shape)
    np.testing.assert_array_equal(bits, jax.random.bits(key, shape, jnp.uint32))
    np.testing.assert_array_equal(normal_from_bits(bits), jax.random.normal(key, shape))


def test_equal_jax_random_under_vmap():
    keys = jax.random.split(jax.random.PRNGKey(3), 50)
    ours = jax.vmap(lambda k: normal_from_bits(random_bits(k, (3,))))(keys)
    theirs = jax.vmap(lambda k: jax.random.normal(k, (3,)))(keys)
    np.testing.assert_array_equal(ours, theirs)


def test_other_prngs_use_jax_random():
    key = jax.random.key(5, impl="rbg")
    np.testing.assert_array_equal(random_bits(key, (17,)), jax.random.bits(key, (17,)))


def test_normal_extremes_are_finite():
    # The smallest and largest uniforms map to the distribution's far tails, not to infinity.
    z = normal_from_bits(jnp.asarray([0, 2**32 - 1], jnp.uint32))
    assert np.all(np.isfinite(z)) and z[0] < -5 and z[1] > 5

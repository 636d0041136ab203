"""Volume rendering (inr.volume) against closed forms."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from inr import nerf


@pytest.mark.parametrize("n", [1, 7, 64])
def test_a_constant_slab_composites_to_its_closed_form(n):
    """Density sigma on [a, b]: opacity 1 - exp(-sigma (b - a)) for any tiling, weights T alpha."""
    sigma, a, b = 1.7, 2.0, 3.5
    starts, ends = nerf.stratified(jnp.array([a]), jnp.array([b]), n)
    rgb = jnp.broadcast_to(jnp.array([0.2, 0.4, 0.6]), (1, n, 3))
    out = nerf.composite(jnp.full((1, n), sigma), rgb, starts, ends, jnp.array([1.0, 1.0, 1.0]))
    opacity = 1 - np.exp(-sigma * (b - a))
    np.testing.assert_allclose(out.opacity, [opacity], rtol=1e-6)
    s, e = np.asarray(starts[0]), np.asarray(ends[0])
    expected = np.exp(-sigma * (s - a)) * (1 - np.exp(-sigma * (e - s)))
    np.testing.assert_allclose(out.weights[0], expected, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(out.rgb[0], opacity * np.array([0.2, 0.4, 0.6]) + (1 - opacity),
                               rtol=1e-6)  # fmt: skip
    if n == 64:  # the expected depth, E[t | the ray ends in the slab]
        mean = a + 1 / sigma - (b - a) * np.exp(-sigma * (b - a)) / opacity
        np.testing.assert_allclose(out.depth, [mean], rtol=1e-3)


def test_stratified_intervals_tile_the_ray_and_move_with_the_key():
    near, far = jnp.array([1.0, 2.0]), jnp.array([3.0, 2.5])
    starts, ends = nerf.stratified(near, far, 8, jax.random.PRNGKey(0))
    np.testing.assert_allclose(starts[:, 0], near)
    np.testing.assert_allclose(ends[:, -1], far)
    np.testing.assert_allclose(starts[:, 1:], ends[:, :-1])  # contiguous
    assert np.all(np.asarray(ends) > np.asarray(starts))
    fixed = nerf.stratified(near, far, 8)
    assert not np.allclose(fixed[0], starts)
    np.testing.assert_allclose(fixed[0][:, 1] - near, (far - near) / 8)


def test_resampling_puts_the_intervals_where_the_weights_are():
    starts, ends = nerf.stratified(jnp.array([0.0]), jnp.array([10.0]), 10)
    weights = jnp.zeros((1, 10)).at[0, 6].set(1.0)
    s, e = nerf.resample(jax.random.PRNGKey(1), starts, ends, weights, 32, padding=0.0)
    mids = np.asarray(0.5 * (s + e))
    assert mids.shape == (1, 32) and np.all((mids >= 6.0) & (mids <= 7.0))
    assert np.all(np.diff(mids) >= 0)
    uniform = nerf.resample(None, starts, ends, jnp.ones((1, 10)), 10)
    # Uniform weights: the edges are the 11 centred quantiles of [0, 10].
    np.testing.assert_allclose(uniform[0][0], (np.arange(10) + 0.5) * 10 / 11, atol=1e-4)


def test_a_box_interval_is_where_a_ray_is_inside():
    o = jnp.array([[0.0, 0.0, -5.0], [3.0, 3.0, -5.0]])
    d = jnp.array([[0.0, 0.0, 1.0], [0.0, 0.0, 1.0]])
    t_in, t_out = nerf.box_interval(o, d, (-1,) * 3, (1,) * 3)
    np.testing.assert_allclose([t_in[0], t_out[0]], [4.0, 6.0])
    assert t_in[1] >= t_out[1]  # a miss

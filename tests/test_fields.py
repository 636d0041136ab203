import jax.numpy as jnp
import numpy as np

import inr


def _f(x):  # an analytic pointwise field with two channels
    return jnp.stack([jnp.sin(3 * x[:, 0]) * jnp.cos(2 * x[:, 1]), x[:, 0] ** 2 * x[:, 1]], -1)


def test_gradient_and_laplacian_match_analytic():
    x = jnp.asarray(np.random.default_rng(0).uniform(-1, 1, (50, 2)), jnp.float32)
    steps = jnp.array([0.5, 0.25])
    g = np.asarray(inr.gradient(_f, x, steps))
    lap = np.asarray(inr.laplacian(_f, x, steps))
    X, Y = np.asarray(x, np.float64).T
    np.testing.assert_allclose(g[:, 0, 0], 0.5 * 3 * np.cos(3 * X) * np.cos(2 * Y), atol=1e-5)
    np.testing.assert_allclose(g[:, 0, 1], -0.25 * 2 * np.sin(3 * X) * np.sin(2 * Y), atol=1e-5)
    np.testing.assert_allclose(g[:, 1], np.stack([0.5 * 2 * X * Y, 0.25 * X**2], -1), atol=1e-5)
    expect0 = -(9 * 0.25 + 4 * 0.0625) * np.sin(3 * X) * np.cos(2 * Y)
    np.testing.assert_allclose(lap[:, 0], expect0, atol=1e-5)
    np.testing.assert_allclose(lap[:, 1], 0.25 * 2 * Y, atol=1e-5)

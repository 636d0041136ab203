import jax
import jax.numpy as jnp
import numpy as np
import pytest

from inr import fast_cos, fast_sin

# Pre-activations w0 * (xW + b) seen in 256x256 fits stay well below 1e3;
# the test covers ten times more.
RANGE = 1e4


@pytest.mark.parametrize("jit", [True, False])
@pytest.mark.parametrize("fn, ref", [(fast_sin, np.sin), (fast_cos, np.cos)])
def test_accuracy_against_float64(fn, ref, jit):
    x = np.concatenate(
        [
            np.linspace(-RANGE, RANGE, 2_000_001),
            np.linspace(-4 * np.pi, 4 * np.pi, 200_001),
            np.random.default_rng(0).normal(0, 30, 200_000),
        ]
    ).astype(np.float32)
    got = np.asarray((jax.jit(fn) if jit else fn)(x), np.float64)
    err = np.abs(got - ref(x.astype(np.float64)))
    assert err.max() < 3e-7
    # At least as accurate as a correctly rounded float32 result would need.
    assert err.mean() < 3e-8


def test_exact_at_special_points():
    assert float(fast_sin(jnp.float32(0.0))) == 0.0
    assert abs(float(fast_cos(jnp.float32(0.0))) - 1.0) <= 1.2e-7  # one ulp
    assert np.isclose(float(fast_sin(jnp.float32(np.pi / 2))), 1.0, atol=1e-7)


def test_derivatives_any_order():
    x = jnp.linspace(-50, 50, 1001, dtype=jnp.float32)
    d1 = jax.vmap(jax.grad(fast_sin))(x)
    d2 = jax.vmap(jax.grad(jax.grad(fast_sin)))(x)
    d3 = jax.vmap(jax.jacfwd(jax.grad(jax.grad(fast_sin))))(x)
    np.testing.assert_allclose(d1, np.cos(np.float64(x)), atol=3e-7)
    np.testing.assert_allclose(d2, -np.sin(np.float64(x)), atol=3e-7)
    np.testing.assert_allclose(d3, -np.cos(np.float64(x)), atol=3e-7)


def test_other_dtypes_use_library_routine():
    x = np.linspace(-10, 10, 11)
    with jax.enable_x64(True):
        y = fast_sin(jnp.asarray(x, jnp.float64))
        assert y.dtype == jnp.float64
        np.testing.assert_allclose(y, np.sin(x), rtol=0, atol=1e-15)

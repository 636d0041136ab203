import jax
import jax.numpy as jnp
import numpy as np
import pytest

import inr


def _shapes(params):
    layers = params["params"]
    return [layers[k]["kernel"].shape for k in sorted(layers, key=lambda s: int(s.split("_")[-1]))]


def test_reference_layer_shapes():
    model = inr.Siren(hidden_features=256, hidden_layers=3, out_features=1)
    params = model.init(jax.random.PRNGKey(0), jnp.zeros((1, 2)))
    assert _shapes(params) == [(2, 256), (256, 256), (256, 256), (256, 256), (256, 1)]
    assert model.apply(params, jnp.zeros((5, 7, 2))).shape == (5, 7, 1)


@pytest.mark.parametrize(
    "make, fan_in, bound",
    [
        (lambda: inr.siren_first_init(2), 2, 0.5),
        (lambda: inr.siren_hidden_init(256, 30.0), 256, np.sqrt(6 / 256) / 30),
        (lambda: inr.siren_bias_init(256), 256, 1 / 16),
    ],
)
def test_initialisers_are_uniform_on_their_bounds(make, fan_in, bound):
    w = np.asarray(make()(jax.random.PRNGKey(1), (fan_in, 2**18 // fan_in)))
    assert np.abs(w).max() <= np.float32(bound)
    assert np.abs(w).max() > 0.99 * bound
    # Uniform on [-b, b]: mean 0, variance b^2 / 3.
    assert abs(w.mean()) < 0.01 * bound
    np.testing.assert_allclose(w.var(), bound**2 / 3, rtol=0.02)


def test_initial_activations_follow_arcsine():
    """Sitzmann et al. Thm. 1: with this init, hidden activations ~ arcsine(-1, 1)."""
    model = inr.Siren(hidden_features=512, hidden_layers=4, sin=jnp.sin)
    x = jax.random.uniform(jax.random.PRNGKey(0), (4096, 2), minval=-1, maxval=1)
    params = model.init(jax.random.PRNGKey(1), x)
    _, state = model.apply(params, x, capture_intermediates=True, mutable=["intermediates"])
    inter = state["intermediates"]
    for name in ["SineLayer_1", "SineLayer_2", "SineLayer_3", "SineLayer_4"]:
        a = np.sort(np.asarray(inter[name]["__call__"][0]).ravel())
        cdf = 2 / np.pi * np.arcsin(np.sqrt((np.clip(a, -1, 1) + 1) / 2))
        ks = np.abs(cdf - np.arange(1, a.size + 1) / a.size).max()
        assert ks < 0.02, (name, ks)


def test_sine_layer_formula():
    layer = inr.SineLayer(3, w0=7.0)
    x = jax.random.normal(jax.random.PRNGKey(0), (10, 4))
    p = layer.init(jax.random.PRNGKey(1), x)
    k, b = p["params"]["kernel"], p["params"]["bias"]
    np.testing.assert_allclose(layer.apply(p, x), np.sin(7.0 * (x @ k + b)), atol=1e-6)


def test_float32_dtype_is_the_default():
    model = inr.Siren(64, 2, 3)
    x = jax.random.uniform(jax.random.PRNGKey(0), (100, 2), minval=-1, maxval=1)
    p = model.init(jax.random.PRNGKey(1), x)
    explicit = inr.Siren(64, 2, 3, dtype=jnp.float32).apply(p, x)
    np.testing.assert_array_equal(explicit, model.apply(p, x))


def test_bfloat16_first_layer_rounds_its_output_not_its_phase():
    x = jax.random.uniform(jax.random.PRNGKey(0), (1024, 2), minval=-1, maxval=1)
    exact = inr.SineLayer(256, is_first=True)
    p = exact.init(jax.random.PRNGKey(1), x)
    out = inr.SineLayer(256, is_first=True, dtype=jnp.bfloat16).apply(p, x)
    assert out.dtype == jnp.bfloat16
    np.testing.assert_array_equal(out, exact.apply(p, x).astype(jnp.bfloat16))


def test_bfloat16_hidden_layer_within_its_rounding_bound():
    """Against float64: each bfloat16 rounding (unit roundoff u = 2^-8) is accounted for.

    The operands (2u relative on each product), the product, the bias and
    their sum move ``z`` by at most ``2u sum|x||W| + u (|xW| + |b| + |z|)``;
    ``w0`` scales that, the sine is 1-Lipschitz, and rounding the output adds
    ``u``.  A float32 layer would sit ~1000 times inside the bound.
    """
    w0 = 30.0
    x = jnp.sin(jax.random.normal(jax.random.PRNGKey(0), (2048, 256)))
    layer = inr.SineLayer(256, w0=w0, dtype=jnp.bfloat16)
    p = layer.init(jax.random.PRNGKey(1), x)
    out = layer.apply(p, x)
    assert out.dtype == jnp.bfloat16
    x64 = np.asarray(x, np.float64)
    k, b = (np.asarray(p["params"][n], np.float64) for n in ("kernel", "bias"))
    xk, u = x64 @ k, 2.0**-8
    z = xk + b
    bound = w0 * (2 * u * (np.abs(x64) @ np.abs(k)) + u * (np.abs(xk) + np.abs(b) + np.abs(z))) + u
    err = np.abs(np.asarray(out, np.float64) - np.sin(w0 * z))
    assert np.all(err <= 1.05 * bound)
    assert err.max() > 1e-3  # the rounding did happen


@pytest.mark.parametrize("outermost_linear", [True, False])
def test_bfloat16_siren_returns_float32(outermost_linear):
    model = inr.Siren(32, 2, 3, outermost_linear=outermost_linear, dtype=jnp.bfloat16)
    x = jnp.zeros((5, 2))
    p = model.init(jax.random.PRNGKey(0), x)
    assert model.apply(p, x).dtype == jnp.float32
    assert {v.dtype for v in jax.tree.leaves(p)} == {jnp.dtype(jnp.float32)}


def test_fast_and_library_sine_agree():
    x = jax.random.uniform(jax.random.PRNGKey(0), (256, 2), minval=-1, maxval=1)
    fast, ref = inr.Siren(), inr.Siren(sin=jnp.sin)
    params = fast.init(jax.random.PRNGKey(0), x)
    np.testing.assert_allclose(fast.apply(params, x), ref.apply(params, x), atol=1e-5)

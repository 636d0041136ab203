"""inr.MLP: the ReLU network against NumPy, and its bfloat16 hidden layers."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import inr


def _numpy_mlp(params, x):
    layers = [params["params"][f"Dense_{i}"] for i in range(len(params["params"]))]
    h = np.asarray(x, np.float64)
    for i, layer in enumerate(layers):
        h = h @ np.asarray(layer["kernel"], np.float64) + np.asarray(layer["bias"], np.float64)
        if i < len(layers) - 1:
            h = np.maximum(h, 0.0)
    return h


def test_float32_mlp_is_relu_layers_and_a_linear_output():
    model = inr.MLP(48, hidden_layers=2, out_features=3)
    x = jax.random.normal(jax.random.PRNGKey(0), (200, 5))
    p = model.init(jax.random.PRNGKey(1), x)
    out = model.apply(p, x)
    assert out.dtype == jnp.float32
    np.testing.assert_allclose(out, _numpy_mlp(p, x), rtol=1e-5, atol=1e-5)
    explicit = inr.MLP(48, hidden_layers=2, out_features=3, dtype=jnp.float32).apply(p, x)
    np.testing.assert_array_equal(explicit, out)


def test_bfloat16_hidden_layer_within_its_rounding_bound():
    """One bfloat16 hidden layer, a float32 output layer, against float64.

    With unit roundoff ``u = 2^-8``, the hidden pre-activation ``z`` moves by
    at most ``e = 2u sum|x||W1| + u (|xW1| + |b1| + |z|)`` (operands, product,
    bias, sum), ReLU is 1-Lipschitz, and rounding the activation adds
    ``u |h|``; the float32 output layer passes ``sum_j |W2_j| (e_j + u |h_j|)``.
    """
    model = inr.MLP(256, hidden_layers=0, out_features=3, dtype=jnp.bfloat16)
    x = jax.random.normal(jax.random.PRNGKey(0), (2048, 32))
    p = model.init(jax.random.PRNGKey(1), x)
    out = model.apply(p, x)
    assert out.dtype == jnp.float32
    assert {v.dtype for v in jax.tree.leaves(p)} == {jnp.dtype(jnp.float32)}
    x64 = np.asarray(x, np.float64)
    w1, b1, w2 = (
        np.asarray(p["params"][layer][name], np.float64)
        for layer, name in (("Dense_0", "kernel"), ("Dense_0", "bias"), ("Dense_1", "kernel"))
    )
    u, xw = 2.0**-8, x64 @ w1
    z = xw + b1
    e = 2 * u * (np.abs(x64) @ np.abs(w1)) + u * (np.abs(xw) + np.abs(b1) + np.abs(z))
    bound = (e + u * np.maximum(z, 0.0)) @ np.abs(w2)
    err = np.abs(np.asarray(out, np.float64) - _numpy_mlp(p, x))
    assert np.all(err <= 1.05 * bound + 1e-6)
    assert err.max() > 1e-3 * np.abs(_numpy_mlp(p, x)).max()  # the rounding did happen


@pytest.mark.slow  # a long fit
def test_bfloat16_hash_grid_mlp_fits_as_well_as_float32(camera64):
    """tiny-cuda-nn's recipe at half precision: the fit loses little to the rounding."""
    adam = optax.adam(1e-2, b1=0.9, b2=0.99, eps=1e-15)
    grid = inr.HashGrid(levels=6, features=2, log2_table_size=12, base_resolution=4)
    db = {}
    for dtype in (None, jnp.bfloat16):
        model = inr.MLP(32, hidden_layers=1, out_features=1, encoding=grid, dtype=dtype)
        fit = inr.fit_image(camera64, model=model, optimizer=adam, steps=200)
        db[dtype] = inr.psnr(fit.render(64, 64), camera64)
    assert db[None] > 30 and db[jnp.bfloat16] > db[None] - 1.0


@pytest.mark.parametrize("dtype", [jnp.int32, "half-ish", np.bool_])
def test_a_dtype_that_is_not_floating_is_refused(dtype):
    with pytest.raises(ValueError, match="MLP.dtype must be None or a floating dtype"):
        inr.MLP(dtype=dtype)

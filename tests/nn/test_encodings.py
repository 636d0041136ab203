import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

import inr


def test_positional_encoding_formula():
    x = jnp.array([[0.25, -0.5]])
    out = np.asarray(inr.PositionalEncoding(num_frequencies=3).apply({}, x))
    assert out.shape == (1, 2 + 2 * 3 * 2)
    freqs = np.pi * 2.0 ** np.arange(3)
    angles = (np.asarray(x)[0][None, :] * freqs[:, None]).ravel()
    np.testing.assert_allclose(
        out[0], np.concatenate([x[0], np.sin(angles), np.cos(angles)]), atol=1e-6
    )


def test_fourier_features_are_fixed_and_match_formula():
    enc = inr.FourierFeatures(num_features=16, scale=5.0)
    x = jax.random.uniform(jax.random.PRNGKey(0), (8, 2))
    variables = enc.init(jax.random.PRNGKey(1), x)
    assert "params" not in variables  # B is a constant, never trained
    b = np.asarray(variables["constants"]["B"])
    assert b.shape == (2, 16)
    out = enc.apply(variables, x)
    ang = 2 * np.pi * np.asarray(x) @ b
    np.testing.assert_allclose(out, np.concatenate([np.cos(ang), np.sin(ang)], -1), atol=1e-5)


def test_mlp_with_encoding_shapes():
    model = inr.MLP(
        hidden_features=32, hidden_layers=2, out_features=3, encoding=inr.PositionalEncoding(4)
    )
    x = jnp.zeros((5, 2))
    params = model.init(jax.random.PRNGKey(0), x)
    assert model.apply(params, x).shape == (5, 3)
    dense = [k for k in params["params"] if k.startswith("Dense")]
    assert len(dense) == 4  # same layer count as Siren(hidden_layers=2)
    assert isinstance(model, nn.Module)


def test_spherical_harmonics_are_orthonormal_on_the_sphere():
    """A Fibonacci sphere's quadrature of Y_i Y_j over 4 pi is the identity."""
    n = 20000
    k = np.arange(n) + 0.5
    z = 1 - 2 * k / n
    phi = np.pi * (1 + 5**0.5) * k
    d = np.stack([np.sqrt(1 - z**2) * np.cos(phi), np.sqrt(1 - z**2) * np.sin(phi), z], -1)
    encoding = inr.nn.SphericalHarmonics(4)
    y = np.asarray(encoding.apply({}, jnp.asarray(d, jnp.float32)), np.float64)
    assert y.shape == (n, 16)
    np.testing.assert_allclose(4 * np.pi * y.T @ y / n, np.eye(16), atol=2e-3)
    # The first bands: a constant, then the direction itself (tiny-cuda-nn's order and signs).
    np.testing.assert_allclose(y[:, 1:4] / 0.48860251190291987, d[:, [1, 2, 0]] * [-1, 1, -1],
                               atol=1e-5)  # fmt: skip
    assert inr.nn.SphericalHarmonics(2).apply({}, jnp.asarray(d[:3], jnp.float32)).shape == (3, 4)

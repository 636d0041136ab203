import jax
import jax.numpy as jnp
import numpy as np
import pytest

from inr.restorator import Encoder
from inr.restorator.encoder import ResidualBlock

from .conftest import compile_unoptimised


def _init(activation, shape=(2, 32, 24, 1)):
    enc = Encoder(features=(8, 16, 32), latent=5, activation=activation)
    x = jnp.asarray(np.random.default_rng(0).random(shape, np.float32))
    params = compile_unoptimised(enc.init, jax.random.PRNGKey(0), x)
    return enc, params, x


@pytest.mark.parametrize("activation", ["relu", "sine", "sine-relu-sine"])
def test_pyramid_shapes(activation):
    enc, params, x = _init(activation)
    maps, latent = enc.apply(params, x)
    assert [m.shape for m in maps] == [(2, 32, 24, 8), (2, 16, 12, 16), (2, 8, 6, 32)]
    assert latent.shape == (2, 5)


def test_fully_convolutional():
    enc, params, _ = _init("relu")
    maps, _ = enc.apply(params, jnp.zeros((1, 50, 38, 1)))
    assert maps[0].shape == (1, 50, 38, 8) and maps[-1].shape == (1, 13, 10, 32)


def _sine_layers(params):
    return sorted(k for k in params["params"] if k.startswith("SineConv"))


def test_activation_placement():
    assert _sine_layers(_init("relu")[1]) == []
    assert len(_sine_layers(_init("sine")[1])) == 6
    # Sines only in the first and the last convolution.
    assert _sine_layers(_init("sine-relu-sine")[1]) == ["SineConv_0", "SineConv_1"]


def test_sine_initialisation_bounds():
    _, params, _ = _init("sine")
    p = params["params"]
    first = np.asarray(p["SineConv_0"]["Conv_0"]["kernel"])  # fan_in = 9
    assert np.abs(first).max() <= 1 / 9
    assert np.abs(first).max() > 0.8 / 9
    hidden = np.asarray(p["SineConv_1"]["Conv_0"]["kernel"])  # fan_in = 72
    bound = np.sqrt(6 / 72) / 30
    assert np.abs(hidden).max() <= bound and np.abs(hidden).max() > 0.8 * bound


def test_sine_activations_keep_arcsine_spread():
    """SIREN's initialisation keeps each layer's output spread like sin of a unit normal."""
    enc, params, _ = _init("sine", (4, 64, 64, 1))
    x = jnp.asarray(np.random.default_rng(2).random((4, 64, 64, 1), np.float32))
    maps, _ = enc.apply(params, x)
    for m in maps:
        std = float(jnp.std(m))
        assert 0.5 < std < 0.8  # arcsine on [-1, 1] has std 0.707


def test_unknown_activation():
    with pytest.raises(ValueError, match="activation"):
        Encoder(activation="tanh").init(jax.random.PRNGKey(0), jnp.zeros((1, 8, 8, 1)))


def test_a_residual_block_starts_as_the_identity_and_learns():
    block = ResidualBlock()
    x = jnp.asarray(np.random.default_rng(3).normal(size=(2, 9, 7, 4)), jnp.float32)
    params = compile_unoptimised(block.init, jax.random.PRNGKey(0), x)
    np.testing.assert_array_equal(block.apply(params, x), x)
    # The zero kernel still gets a gradient, so the block leaves the identity.
    grads = jax.grad(lambda p: jnp.sum(block.apply(p, x) ** 2))(params)["params"]
    assert float(jnp.abs(grads["Conv_1"]["kernel"]).max()) > 0


def test_residual_body_is_edsr_sized_and_keeps_the_pyramid():
    x = jnp.zeros((1, 16, 16, 3))
    plain = Encoder(features=(8, 16), latent=5)
    deep = Encoder(features=(8, 16), latent=5, residual_blocks=3)
    count = [
        sum(a.size for a in jax.tree.leaves(jax.eval_shape(e.init, jax.random.PRNGKey(0), x)))
        for e in (plain, deep)
    ]
    conv = 9 * 8 * 8 + 8  # one 3x3 convolution of the finest width, with bias
    assert count[1] - count[0] == (2 * 3 + 1) * conv  # two per block and the closing one
    params = compile_unoptimised(deep.init, jax.random.PRNGKey(0), x)
    maps, latent = deep.apply(params, x)
    assert [m.shape for m in maps] == [(1, 16, 16, 8), (1, 8, 8, 16)] and latent.shape == (1, 5)

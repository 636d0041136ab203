"""``to_diffusion`` and ``deepen``: larger restorators that start as trained ones."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import traverse_util

import inr
from inr.diffusion import SamplerConfig
from inr.restorator import RestoratorNet, deepen, to_diffusion

from .conftest import random_params, recipe, untrained

VARIANTS = {
    "relu": {},
    "sine, no cell": {"decoder_activation": "sine", "cell": False},
    "local ensemble, rgb": {"local_ensemble": True, "color_space": "rgb"},
    "reference": {"reference": True, "texture": (4, 4)},
}


@pytest.mark.parametrize("changes", VARIANTS.values(), ids=VARIANTS.keys())
def test_denoiser_returns_the_single_pass_residual(tiny, changes):
    """Any ``x_t`` and ``t``: the x0 prediction times the scale is the single pass's residual."""
    config = dataclasses.replace(tiny, **changes)
    single = inr.Restorator(random_params(RestoratorNet(config), config), config)
    diffusion = to_diffusion(single, diffusion_scale=0.25)
    assert diffusion.config.decoding == "diffusion"
    assert diffusion.config.prediction == "x0"
    rng = np.random.default_rng(0)
    image = jnp.asarray(rng.random((2, 16, 16, 1)), jnp.float32)
    points = jnp.asarray(rng.uniform(-1, 1, (2, 7, 2)), jnp.float32)
    cell = jnp.full((2, 2), 0.1)
    reference = None
    if config.reference:
        reference = jnp.asarray(rng.random((2, 24, 20, 3)), jnp.float32)
    x_t = jnp.asarray(rng.normal(size=(2, 7, 3)), jnp.float32)
    t = jnp.asarray(rng.integers(0, config.num_steps, (2, 7)), jnp.int32)

    # Jitted: eagerly, each of the model's operations would compile alone.
    apply = jax.jit(RestoratorNet(config).apply, static_argnames="method")
    want = apply(single.params, image, points, cell, reference=reference)
    base = apply(single.params, image, points, method=RestoratorNet.base)
    args = (image, points, cell, x_t, t, reference)
    x0 = jax.jit(diffusion.net.apply)(diffusion.params, *args)
    got = apply(single.params, base, x0 * 0.25, method=RestoratorNet.to_rgb)
    np.testing.assert_allclose(got, want, atol=2e-5)


@pytest.mark.parametrize(
    "sampler",
    [SamplerConfig(), SamplerConfig(stride=8, noise="zero"), SamplerConfig(stride="quadratic")],
)
def test_every_sampler_ends_at_the_single_pass(tiny, sampler):
    """The last visited step has ``alpha_bar' = 1``: the sample is the final x0 prediction."""
    single = inr.Restorator(random_params(RestoratorNet(tiny), tiny), tiny)
    diffusion = to_diffusion(single)
    image = np.random.default_rng(1).random((16, 16)).astype(np.float32)
    want = single.restore(image, size=(20, 18))
    got = diffusion.restore(image, size=(20, 18), sampler=sampler, seed=3)
    np.testing.assert_allclose(got, want, atol=1e-5)


def _two_steps(convert, tiny, colour_images):
    """``(start, trained)``: a random colorizer converted, then fine-tuned for two steps."""
    config = dataclasses.replace(tiny, task="colorize")
    start = convert(inr.Restorator(random_params(RestoratorNet(config), config), config))
    model = inr.train_restorator(
        list(colour_images[:4]),
        start.config,
        recipe(batch_size=2, points_per_image=16, steps=2, lr=1e-2),
        init=start,
        progress=False,
    )
    return start, model


def test_converted_model_learns_from_x_t(tiny, colour_images):
    """Fine-tuning moves the first layer's rows for ``x_t`` and ``t`` off zero."""
    start, model = _two_steps(to_diffusion, tiny, colour_images)
    first = start.params["params"]["decoder"]["Dense_0"]["kernel"]
    inserted = np.all(np.asarray(first) == 0, axis=1)
    assert inserted.sum() == 3 + 13  # x_t and the step's embedding (6 octaves)
    trained = np.asarray(model.params["params"]["decoder"]["Dense_0"]["kernel"])
    assert np.all(np.abs(trained[inserted]).max(axis=1) > 0)


def test_bad_arguments_are_named(tiny):
    single = untrained(tiny)
    with pytest.raises(ValueError, match="single must be a Restorator"):
        to_diffusion(single.params)
    with pytest.raises(ValueError, match="single must be a single-pass"):
        to_diffusion(to_diffusion(single))
    with pytest.raises(ValueError, match="changes may set"):
        to_diffusion(single, hidden=8)


@pytest.mark.parametrize("task", ["upscale", "restore"])
def test_deepened_model_computes_the_same_function(tiny, task):
    """Every output equal, the old parameters copied, only the body new, its closing conv zero."""
    config = dataclasses.replace(tiny, task=task)
    model = inr.Restorator(random_params(RestoratorNet(config), config), config)
    size = 24 if task == "upscale" else config.input_size  # an upscaler's crops may change
    deep = deepen(model, 3, input_size=size)
    assert deep.config == dataclasses.replace(config, residual_blocks=3, input_size=size)
    added = _same_function_added(model, deep)
    assert len(added) == 2 * (2 * 3 + 1)  # kernel and bias: two convs a block, one closing
    new = traverse_util.flatten_dict(deep.params)
    assert not np.any(new["params", "encoder", "body", "Conv_0", "kernel"])
    assert np.std(new["params", "encoder", "body", "ResidualBlock_2", "Conv_0", "kernel"]) > 0


def test_grown_body_computes_the_same_function(tiny):
    """A trained body (random here, closing conv included) keeps its blocks; new ones follow."""
    config = dataclasses.replace(tiny, task="upscale", residual_blocks=2)
    model = inr.Restorator(random_params(RestoratorNet(config), config), config)
    deep = deepen(model, 5)
    assert deep.config == dataclasses.replace(config, residual_blocks=5)
    added = _same_function_added(model, deep)
    assert {path[3] for path in added} == {f"ResidualBlock_{i}" for i in (2, 3, 4)}
    new = traverse_util.flatten_dict(deep.params)
    assert np.any(new["params", "encoder", "body", "Conv_0", "kernel"])  # the trained one
    assert not np.any(new["params", "encoder", "body", "ResidualBlock_4", "Conv_1", "kernel"])


def _same_function_added(model, deep):
    """Check ``deep`` renders as ``model`` and copies its parameters; its added paths."""
    c = model.config.in_channels
    image = np.random.default_rng(2).random((16, 12, c)).astype(np.float32)
    np.testing.assert_array_equal(
        deep.restore(image, size=(20, 30)), model.restore(image, size=(20, 30))
    )
    old = traverse_util.flatten_dict(model.params)
    new = traverse_util.flatten_dict(deep.params)
    for path, value in old.items():
        np.testing.assert_array_equal(new[path], value)
    added = sorted(set(new) - set(old))
    assert {path[:3] for path in added} == {("params", "encoder", "body")}
    return added


def test_deepened_body_learns(tiny, colour_images):
    """The zero closing convolution gets a gradient, so the body leaves the identity."""
    _, model = _two_steps(lambda m: deepen(m, 1), tiny, colour_images)
    closing = model.params["params"]["encoder"]["body"]["Conv_0"]["kernel"]
    assert float(jnp.abs(closing).max()) > 0


def test_deepen_bad_arguments_are_named(tiny):
    model = untrained(tiny)
    with pytest.raises(ValueError, match="model must be a Restorator"):
        deepen(model.params, 2)
    with pytest.raises(ValueError, match="residual_blocks must be more than model's 0"):
        deepen(model, 0)
    with pytest.raises(ValueError, match="residual_blocks must be an int"):
        deepen(model, 2.0)
    with pytest.raises(ValueError, match="more than model's 2"):
        deepen(deepen(model, 2), 2)
    with pytest.raises(ValueError, match="changes may set"):
        deepen(model, 1, hidden=8)
    with pytest.raises(ValueError, match="input_size of a 'restore' model"):
        deepen(model, 1, input_size=32)

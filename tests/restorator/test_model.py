import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import inr
from inr.restorator import RestoratorConfig, RestoratorNet, ensemble

from .conftest import TINY, random_params


@pytest.mark.parametrize("task", ["restore", "upscale"])
def test_untrained_model_is_bicubic(tiny, task, astronaut64):
    """The zero-initialised output layer makes a new model its baseline."""
    config = dataclasses.replace(tiny, task=task)
    model = inr.Restorator(
        params=random_params(RestoratorNet(config), config, scale=0), config=config
    )
    small = inr.resize(astronaut64, (16, 16))
    if task == "restore":
        small = inr.rgb_to_gray(small)
    out = model.restore(small, size=(40, 36))
    ref = inr.resize(small, (40, 36), "bicubic")
    ref = np.repeat(ref[..., None], 3, axis=-1) if ref.ndim == 2 else ref
    np.testing.assert_allclose(out, ref, atol=2e-5)


def test_colorize_keeps_the_input_luma(tiny, camera64):
    config = dataclasses.replace(tiny, task="colorize")
    model = inr.Restorator(params=random_params(RestoratorNet(config), config), config=config)
    out = model.restore(camera64)  # 64x64 in, encoded at 16x16, rendered at 64x64
    assert out.shape == (64, 64, 3)
    assert out.std(axis=-1).mean() > 1e-3  # it does predict colour
    inside = (out > 1e-3).all(-1) & (out < 1 - 1e-3).all(-1)  # unclipped pixels
    np.testing.assert_allclose(inr.rgb_to_gray(out)[inside], camera64[inside], atol=2e-5)


@pytest.mark.parametrize("local_ensemble", [False, True])
def test_output_depends_on_both_coordinates(tiny, local_ensemble):
    """On a constant input only the position encodes where a point is: x and y both."""
    config = dataclasses.replace(tiny, local_ensemble=local_ensemble)
    net = RestoratorNet(config)
    params = random_params(net, config)
    image = jnp.full((1, 16, 16, 1), 0.5)

    def out(p):
        return net.apply(params, image, p[None, None], jnp.ones((1, 2)))[0, 0].sum()

    g = jax.jit(jax.grad(out))(jnp.array([0.13, -0.41]))  # eagerly, each operation compiles alone
    assert abs(float(g[0])) > 1e-4 and abs(float(g[1])) > 1e-4


def test_region_is_a_crop_of_the_full_render(tiny, astronaut64):
    config = dataclasses.replace(tiny, task="upscale")
    model = inr.Restorator(params=random_params(RestoratorNet(config), config), config=config)
    small = inr.resize(astronaut64, (16, 12))
    full = model.restore(small, size=(64, 48))
    quad = model.restore(small, size=(32, 24), region=(0, 0, 0.5, 0.5))
    np.testing.assert_allclose(quad, full[:32, :24], atol=1e-6)
    # The upscaler takes any input size and any aspect.
    assert model.restore(inr.resize(astronaut64, (19, 30)), size=(38, 60)).shape == (38, 60, 3)


@pytest.fixture(scope="module")
def upscaler():
    config = RestoratorConfig(**dict(TINY, task="upscale"))
    return inr.Restorator(params=random_params(RestoratorNet(config), config), config=config)


def test_the_ensemble_is_equivariant_where_the_model_is_not(upscaler, astronaut64):
    small = inr.resize(astronaut64, (16, 12))
    plain = upscaler.restore(small, size=(40, 30))
    averaged = upscaler.restore(small, size=(40, 30), ensemble="dihedral")
    for m in ensemble.members("dihedral")[1:]:
        size = ensemble.transform_size((40, 30), m)
        moved = ensemble.transform(small, m)
        out = upscaler.restore(moved, size=size, ensemble="dihedral")
        np.testing.assert_allclose(out, ensemble.transform(averaged, m), atol=1e-5)
        # A single render has no such symmetry: the test can tell.
        assert not np.allclose(upscaler.restore(moved, size=size), ensemble.transform(plain, m))


def test_flip_is_the_mean_of_the_image_and_its_mirror(upscaler, astronaut64):
    small = inr.resize(astronaut64, (16, 12))
    truth = inr.resize(astronaut64, (40, 30))
    one = upscaler.restore(small, size=(40, 30))
    mirror = upscaler.restore(small[:, ::-1], size=(40, 30))[:, ::-1]
    averaged = upscaler.restore(small, size=(40, 30), ensemble="flip")
    np.testing.assert_allclose(averaged, (one + mirror) / 2, atol=1e-6)

    def mse(x):
        return np.mean((x - truth) ** 2)

    # Convexity of the squared error: the mean is never worse than its members on average.
    assert mse(averaged) <= (mse(one) + mse(mirror)) / 2


def test_a_region_of_the_ensemble_is_a_crop_of_it(upscaler, astronaut64):
    small = inr.resize(astronaut64, (16, 12))
    full = upscaler.restore(small, size=(40, 30), ensemble="dihedral")
    part = upscaler.restore(small, size=(20, 12), region=(0.2, 0, 0.6, 0.5), ensemble="dihedral")
    np.testing.assert_allclose(part, full[:20, 6:18], atol=1e-5)


def test_a_gray_input_moves_with_the_image(tiny, camera64):
    model = inr.Restorator(params=random_params(RestoratorNet(tiny), tiny), config=tiny)
    small = inr.resize(camera64, (16, 16))
    out = model.restore(small, size=(30, 30), ensemble="flip")
    mirrored = model.restore(small[:, ::-1], size=(30, 30), ensemble="flip")
    np.testing.assert_allclose(mirrored, out[:, ::-1], atol=1e-5)


def test_chunking_does_not_change_values(tiny, camera64):
    model = inr.Restorator(params=random_params(RestoratorNet(tiny), tiny), config=tiny)
    small = inr.resize(camera64, (16, 16))
    np.testing.assert_allclose(
        model.restore(small, size=(30, 30), chunk=7), model.restore(small, size=(30, 30)), atol=1e-6
    )


def test_input_validation(tiny):
    model = inr.Restorator(params=random_params(RestoratorNet(tiny), tiny), config=tiny)
    with pytest.raises(ValueError, match="grayscale"):
        model.restore(np.zeros((16, 16, 3)))
    with pytest.raises(ValueError, match="image"):
        model.restore(np.full((16, 16), np.nan))
    up = dataclasses.replace(tiny, task="upscale")
    with pytest.raises(ValueError, match="colour"):
        inr.Restorator(params=None, config=up).restore(np.zeros((16, 16)))


def test_config_round_trip_and_validation(tiny):
    assert RestoratorConfig.from_json(tiny.to_json()) == tiny
    with pytest.raises(ValueError, match="task"):
        RestoratorConfig(task="denoise")
    with pytest.raises(ValueError, match="color_space"):
        RestoratorConfig(color_space="lab")
    with pytest.raises(ValueError, match="input_size"):
        RestoratorConfig(input_size=4)
    with pytest.raises(ValueError, match="residual_blocks"):
        RestoratorConfig(residual_blocks=-1)
    with pytest.raises(ValueError, match="residual_blocks"):
        RestoratorConfig(residual_blocks=2.0)


def test_default_size_is_about_0_6_m_parameters():
    config = RestoratorConfig()
    shapes = jax.eval_shape(
        RestoratorNet(config).init,
        jax.random.PRNGKey(0),
        jnp.zeros((1, 64, 64, 1)),
        jnp.zeros((1, 1, 2)),
        jnp.ones((1, 2)),
    )
    count = sum(int(np.prod(s.shape)) for s in jax.tree.leaves(shapes))
    assert 0.45e6 < count < 0.75e6


def test_restore_checks_each_picture_once(upscaler, astronaut64, monkeypatch):
    """One call, one check per picture, however many renders an ensemble makes."""
    from inr.restorator import inference

    seen = []

    def counting(image, name="image"):
        seen.append(name)
        return as_image(image, name)

    as_image = inference.as_image
    monkeypatch.setattr(inference, "as_image", counting)
    upscaler.restore(inr.resize(astronaut64, (16, 12)), size=(20, 15), ensemble="dihedral")
    assert seen == ["image"]
    # The size is read from the image only after the image passed its check.
    with pytest.raises(ValueError, match="image"):
        upscaler.restore(np.full((8, 8, 3), np.nan), size=None)

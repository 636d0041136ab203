"""Signals of 1 to 3 axes: grids, boxes, the on-device draw, derivatives and small fits."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import inr
from inr.coords import cell_axes, points_from_axes
from inr.signal import as_signal


def _centres(n):
    return -1 + (2 * np.arange(n) + 1) / n


def test_grid_is_cell_centres_in_coordinate_order():
    g = inr.grid(3, 4, 5)
    assert g.shape == (3, 4, 5, 3) and g.dtype == np.float32
    t, i, j = 2, 1, 3
    np.testing.assert_allclose(g[t, i, j], [_centres(5)[j], _centres(4)[i], _centres(3)[t]])
    np.testing.assert_allclose(inr.grid(6)[:, 0], _centres(6))


@pytest.mark.parametrize("shape", [(64,), (8, 6, 10), (14, 18)])
def test_first_orthant_box_is_exactly_the_crop(shape):
    d = len(shape)
    full = inr.grid(*shape)
    half = tuple(n // 2 for n in shape)
    part = inr.grid(*half, region=(0.0,) * d + (0.5,) * d)
    assert np.array_equal(part, full[tuple(slice(0, h) for h in half)])


@pytest.mark.parametrize("shape", [(11,), (3, 5, 4)])
def test_points_from_axes_is_the_grid_in_any_dimension(shape):
    box = tuple(np.linspace(0.1, 0.3, len(shape))) + tuple(np.linspace(0.7, 0.9, len(shape)))
    got = jax.jit(points_from_axes)(*cell_axes(shape, box))
    np.testing.assert_array_equal(
        np.asarray(got), inr.grid(*shape, region=box).reshape(-1, len(shape))
    )


@pytest.mark.parametrize(
    "region, match",
    [((0, 1, 1), "six numbers"), ((0, 0, 0.5, 1, 1, 0.5), "z0 < z1"), ((0, np.nan), "finite")],
)
def test_bad_boxes_are_named(region, match):
    with pytest.raises(ValueError, match=match):
        inr.grid(4, 4, 4, region=region) if len(region) != 2 else inr.grid(4, region=region)


def test_draw_reaches_every_sample_and_is_a_function_of_seed_and_step():
    signal = np.arange(3 * 4 * 2, dtype=np.uint8).reshape(3, 4, 2, 1)
    objective = inr.SignalValues.create(signal, points=64)
    key = jax.random.PRNGKey(5)
    xy, v = objective.draw(key, 3)
    again = objective.draw(key, 3)
    assert np.array_equal(xy, again[0]) and np.array_equal(v, again[1])
    assert not np.array_equal(objective.draw(jax.random.PRNGKey(6), 3)[1], v)
    seen = set()
    grid = inr.grid(3, 4, 2).reshape(-1, 3)
    for step in range(20):
        xy, v = map(np.asarray, objective.draw(key, step))
        index = np.round((v[:, 0] + 1) / 2 * 255).astype(int)  # uint8 n -> 2 n/255 - 1
        np.testing.assert_array_equal(xy, grid[index])  # each target sits at its own centre
        seen.update(index.tolist())
    assert seen == set(range(24))


def test_value_ranges_follow_the_convention():
    assert as_signal(np.zeros((4, 1), np.uint8))[1].value_range == (0.0, 1.0)
    assert as_signal(np.full((4, 1), -0.5))[1].value_range == (-1.0, 1.0)
    assert as_signal(np.array([0, 2000], np.int16), dims=1)[1].value_range == (0.0, 2000.0)
    samples, layout = as_signal(np.array([[0, 2000]], np.int16).T)
    assert samples.dtype == np.int16 and layout.shape == (2, 1)


@pytest.mark.parametrize(
    "signal, kwargs, match",
    [
        (np.zeros((4, 4, 4)), {"dims": 4}, "dims"),
        (np.zeros(5), {}, "dims"),
        (np.zeros((0, 3)), {}, "empty"),
        (np.array([[np.nan], [0.0]]), {}, "NaN"),
        (np.zeros((4, 2), bool), {}, "numbers"),
        (np.zeros((4, 2)), {"value_range": (1, 0)}, "lo < hi"),
    ],
)
def test_bad_signals_are_named(signal, kwargs, match):
    with pytest.raises(ValueError, match=match):
        inr.fit_signal(signal, steps=1, **kwargs)


def test_fit_signal_of_an_image_is_fit_image(camera64):
    model = inr.Siren(16, 1, 1)
    a = inr.fit_image(camera64[:16, :16], model=model, steps=5)
    b = inr.fit_signal(camera64[:16, :16, None], model=model, steps=5)
    np.testing.assert_array_equal(a.history["loss"], b.history["loss"])
    np.testing.assert_array_equal(a.render(8, 8), b.render(8, 8)[..., 0])


@pytest.fixture(scope="module")
def chirp_fit():
    """A 1-D fit: two tones in [-1, 1], as audio is."""
    t = np.arange(400) / 400
    audio = (0.6 * np.sin(2 * np.pi * 5 * t) + 0.3 * np.sin(2 * np.pi * 23 * t))[:, None]
    model = inr.Siren(64, 2, 1, first_w0=100.0)
    return audio, inr.fit_signal(audio, model=model, optimizer=optax.adam(1e-3), steps=300)


def test_audio_like_fit_reaches_a_small_error_and_resamples(chirp_fit):
    audio, fit = chirp_fit
    assert fit.value_range == (-1.0, 1.0) and fit.history["loss"][-1] < 1e-4
    np.testing.assert_allclose(fit.render(400), audio, atol=0.03)
    twice = fit.render(800)  # resampled at twice the rate
    np.testing.assert_allclose(twice[1::2][:-1], (audio[:-1] + audio[1:]) / 2, atol=0.05)
    tail = fit.render(200, region=(0.5, 1.0))  # the second half, exactly the full render's
    np.testing.assert_array_equal(tail, fit.render(400, chunk=1024)[200:])


def test_1d_derivatives_match_finite_differences(chirp_fit):
    _, fit = chirp_fit
    n = 4000
    values = fit.render(n, clip=False).astype(np.float64)[:, 0]
    grad = fit.gradient(n)[:, 0, 0]
    np.testing.assert_allclose(grad[1:-1], (values[2:] - values[:-2]) / 2, atol=2e-4)
    lap = fit.laplacian(n)[:, 0][1:-1]
    second = values[2:] - 2 * values[1:-1] + values[:-2]
    assert np.linalg.norm(lap - second) < 0.02 * np.linalg.norm(lap)


def test_3d_derivatives_of_an_analytic_field():
    """gradient and laplacian of sin(a.x) per step, against calculus."""
    a = jnp.array([1.0, 2.0, -0.5])
    steps = jnp.array([0.1, 0.2, 0.3])
    x = jax.random.uniform(jax.random.PRNGKey(0), (50, 3), minval=-1, maxval=1)
    f = lambda p: jnp.sin(p @ a)[:, None]
    g = inr.gradient(f, x, steps)
    np.testing.assert_allclose(g[:, 0], np.cos(x @ a)[:, None] * a * steps, rtol=1e-5, atol=1e-6)
    lap = inr.laplacian(f, x, steps)[:, 0]
    np.testing.assert_allclose(lap, -np.sin(x @ a) * np.sum((a * steps) ** 2), rtol=1e-4, atol=1e-6)


def test_volume_fit_by_random_batches_from_uint8():
    """A smooth 3-D uint8 volume fitted from random batches; renders at any size."""
    z, y, x = np.meshgrid(*(np.linspace(-1, 1, 16),) * 3, indexing="ij")
    vol = np.round(255 * (0.5 + 0.4 * np.sin(2 * x + y) * np.cos(1.5 * z))).astype(np.uint8)
    model = inr.MLP(
        32, 1, 1, encoding=inr.HashGrid(levels=4, base_resolution=4, log2_table_size=12)
    )
    fit = inr.fit_signal(
        vol, dims=3, model=model, optimizer=optax.adam(1e-2), steps=200, points=1024
    )
    assert fit.render(16, 16, 16).shape == (16, 16, 16)
    mse = np.mean((fit.render(16, 16, 16) - vol / 255.0) ** 2)
    assert -10 * np.log10(mse) > 30
    corner = fit.render(8, 8, 8, region=(0, 0, 0, 0.5, 0.5, 0.5))
    np.testing.assert_array_equal(corner, fit.render(16, 16, 16)[:8, :8, :8])
    assert fit.gradient(4, 5, 6).shape == (4, 5, 6, 3)
    with pytest.raises(ValueError, match="size must be 3 positive integers"):
        fit.render(16, 16)


def test_fit_signals_equals_separate_fits():
    rng = np.random.default_rng(0)
    clips = rng.uniform(-1, 1, size=(3, 32, 2)).astype(np.float32)
    model = inr.Siren(16, 1, 2, first_w0=30.0)
    many = inr.fit_signals(clips, model=model, steps=20, seed=4)
    assert len(many) == 3 and many.render(32).shape == (3, 32, 2)
    one = inr.fit_signal(clips[1], model=model, steps=20, seed=5)
    np.testing.assert_allclose(many[1].render(32), one.render(32), atol=1e-5)

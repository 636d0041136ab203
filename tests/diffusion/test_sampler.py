"""The sampler against exact denoisers: a point mass, a Gaussian, and textbook DDPM."""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from inr.diffusion import (
    SamplerConfig,
    add_noise,
    cosine_schedule,
    from_prediction,
    prediction_target,
    random_steps,
    sample,
    visited_steps,
)

SCHEDULE = cosine_schedule(100)
AB = np.asarray(SCHEDULE.alpha_bar, np.float64)


def test_visited_steps():
    assert visited_steps(100, 1).tolist() == list(range(99, -1, -1))
    eight = visited_steps(100, 8)
    assert len(eight) == 15 and eight[0] == 99 and eight[-1] == 0
    assert eight[1:-1].tolist() == list(reversed(range(1, 99, 8)))
    quad = visited_steps(100, "quadratic")
    assert quad.tolist() == [99, 81, 64, 49, 36, 25, 16, 9, 4, 1, 0]
    with pytest.raises(ValueError, match="stride"):
        visited_steps(100, 0)


def _point_denoiser(x_star, prediction):
    """Exact for data that is the single point ``x_star``: x0 is known."""

    def denoise(x, t):
        ab = SCHEDULE.alpha_bar[t]
        eps = (x - jnp.sqrt(ab) * x_star) / jnp.sqrt(1 - ab)
        return {
            "epsilon": eps,
            "x0": jnp.broadcast_to(x_star, x.shape),
            "v": jnp.sqrt(ab) * eps - jnp.sqrt(1 - ab) * x_star,
        }[prediction]

    return denoise


SETTINGS = list(
    itertools.product(
        [0.0, 0.5, 1.0], [1, 8, "quadratic"], ["normal", "squared", "zero"], [False, True]
    )
)


@pytest.mark.parametrize("stochasticity, stride, noise, project", SETTINGS)
def test_point_mass_is_recovered_exactly(stochasticity, stride, noise, project):
    x_star = jnp.array([0.2, -0.7, 0.9])
    x_T = jax.random.normal(jax.random.PRNGKey(0), (64, 3))
    config = SamplerConfig(stride, stochasticity, noise, project)
    denoise = _point_denoiser(x_star, "epsilon")
    out = sample(denoise, x_T, jax.random.PRNGKey(1), SCHEDULE, **config.kwargs())
    np.testing.assert_allclose(out, jnp.broadcast_to(x_star, out.shape), atol=2e-5)


@pytest.mark.parametrize("prediction", ["epsilon", "x0", "v"])
def test_point_mass_for_every_parameterisation(prediction):
    x_star = jnp.array([0.5, 0.1, -0.3])
    x_T = jax.random.normal(jax.random.PRNGKey(2), (32, 3))
    out = jax.jit(
        lambda x: sample(
            _point_denoiser(x_star, prediction),
            x,
            jax.random.PRNGKey(3),
            SCHEDULE,
            stride=4,
            prediction=prediction,
        )
    )(x_T)
    np.testing.assert_allclose(out, jnp.broadcast_to(x_star, out.shape), atol=2e-5)


MU, S = 0.3, 0.2


def _gaussian_denoiser(x, t):
    ab = SCHEDULE.alpha_bar[t]
    x0 = MU + jnp.sqrt(ab) * S**2 / (ab * S**2 + 1 - ab) * (x - jnp.sqrt(ab) * MU)
    return (x - jnp.sqrt(ab) * x0) / jnp.sqrt(1 - ab)


def _propagate(stride, eta, noise):
    """Mean and variance of the output, through the same discrete steps in float64.

    Every step maps x to A x + b + c z with the exact denoiser for N(MU, S^2).
    """
    steps = visited_steps(100, stride)
    m, v = 0.0, 1.0
    for i, t in enumerate(steps):
        ab = AB[t]
        ab2 = AB[steps[i + 1]] if i + 1 < len(steps) else 1.0
        k = np.sqrt(ab) * S**2 / (ab * S**2 + 1 - ab)  # x0 = k x + (MU - k sqrt(ab) MU)
        x0_a, x0_b = k, MU - k * np.sqrt(ab) * MU
        eps_a = (1 - np.sqrt(ab) * x0_a) / np.sqrt(1 - ab)
        eps_b = -np.sqrt(ab) * x0_b / np.sqrt(1 - ab)
        sigma = eta * np.sqrt((1 - ab2) / (1 - ab) * (1 - ab / ab2))
        d = np.sqrt(max(1 - ab2 - sigma**2, 0.0))
        a, b = np.sqrt(ab2) * x0_a + d * eps_a, np.sqrt(ab2) * x0_b + d * eps_b
        c = {"normal": sigma, "squared": sigma**2, "zero": 0.0}[noise]
        m, v = a * m + b, a * a * v + c * c
    return m, v


@pytest.mark.parametrize(
    "stride, eta, noise",
    [
        (1, 1.0, "normal"),  # DDPM
        (1, 0.0, "normal"),  # DDIM
        (8, 0.0, "normal"),
        (8, 1.0, "normal"),
        (4, 0.5, "squared"),
        (1, 1.0, "zero"),
    ],
)
def test_gaussian_moments_match_closed_form(stride, eta, noise):
    n = 100_000
    x_T = jax.random.normal(jax.random.PRNGKey(5), (n, 1))
    out = np.asarray(
        jax.jit(
            lambda x: sample(
                _gaussian_denoiser,
                x,
                jax.random.PRNGKey(6),
                SCHEDULE,
                stride=stride,
                stochasticity=eta,
                noise=noise,
            )
        )(x_T),
        np.float64,
    )
    m, v = _propagate(stride, eta, noise)
    assert abs(out.mean() - m) < 5 * np.sqrt(v / n) + 1e-6
    assert abs(out.var() - v) < 5 * v * np.sqrt(2 / n) + 1e-6


def test_ddpm_std_is_not_the_data_std():
    """With the fixed posterior variance, 100-step DDPM under-disperses (~0.93 s at s = 0.2)."""
    _, v = _propagate(1, 1.0, "normal")
    assert 0.9 < np.sqrt(v) / S < 0.96
    _, v_ddim = _propagate(1, 0.0, "normal")
    assert abs(np.sqrt(v_ddim) / S - 1) < abs(np.sqrt(v) / S - 1)  # DDIM is closer


def test_ddpm_equals_the_textbook_loop():
    """stochasticity=1, stride=1, normal noise is Ho et al.'s Algorithm 2, step for step."""
    x_T = jax.random.normal(jax.random.PRNGKey(7), (16, 3))
    key = jax.random.PRNGKey(8)

    def net(x, t):  # a slightly wrong Gaussian denoiser keeps values O(1)
        return 0.9 * _gaussian_denoiser(x, t) + 0.05 * jnp.tanh(x)

    ours = sample(net, x_T, key, SCHEDULE)
    ab = SCHEDULE.alpha_bar
    keys = jax.random.split(key, 100)
    x = x_T
    for i, t in enumerate(range(99, -1, -1)):
        alpha = ab[t] / (ab[t - 1] if t > 0 else 1.0)
        beta = 1 - alpha
        x_mean = (x - beta / jnp.sqrt(1 - ab[t]) * net(x, jnp.int32(t))) / jnp.sqrt(alpha)
        if t > 0:
            var = (1 - ab[t - 1]) / (1 - ab[t]) * beta
            x = x_mean + jnp.sqrt(var) * jax.random.normal(keys[i], x.shape)
        else:
            x = x_mean
    np.testing.assert_allclose(ours, x, rtol=1e-5, atol=1e-5)


def test_sampler_config_runs_as_the_same_keywords():
    x_T = jax.random.normal(jax.random.PRNGKey(3), (64, 3))
    key = jax.random.PRNGKey(4)
    config = SamplerConfig(stride=8, stochasticity=0.7, project_noise=True)
    np.testing.assert_array_equal(
        sample(_gaussian_denoiser, x_T, key, SCHEDULE, **config.kwargs()),
        sample(
            _gaussian_denoiser, x_T, key, SCHEDULE, stride=8, stochasticity=0.7, project_noise=True
        ),
    )
    assert hash(config) == hash(SamplerConfig(stride=8, stochasticity=0.7, project_noise=True))


@pytest.mark.parametrize(
    "kw, match",
    [
        ({"stride": 0}, "stride"),
        ({"stride": "cubic"}, "stride"),
        ({"stochasticity": float("nan")}, "stochasticity"),
        ({"stochasticity": -1}, "stochasticity"),
        ({"noise": "uniform"}, "noise"),
        ({"project_noise": 1}, "project_noise"),
        ({"clip": (1, 0)}, "clip"),
        ({"clip": "wide"}, "clip"),
    ],
)
def test_sampler_config_refuses_bad_settings(kw, match):
    with pytest.raises(ValueError, match=match):
        SamplerConfig(**kw)


def test_projection_keeps_the_distance_from_x0():
    """After a projected step the point is exactly |mean - x0| from x0, in a new direction.

    Two steps; the denoiser predicts x0 = 0 at t = 1 and x0 = x at t = 0, so
    the output is the state after the first (projected) step.
    """
    short = cosine_schedule(2)
    ab = np.asarray(short.alpha_bar, np.float64)
    x_T = jax.random.normal(jax.random.PRNGKey(9), (1000, 3))

    def denoise(x, t):
        return jnp.where(t == 1, 0.0, x)

    out = sample(denoise, x_T, jax.random.PRNGKey(1), short, project_noise=True, prediction="x0")
    sigma = np.sqrt((1 - ab[0]) / (1 - ab[1]) * (1 - ab[1] / ab[0]))
    radius = np.sqrt(1 - ab[0] - sigma**2) / np.sqrt(1 - ab[1]) * np.linalg.norm(x_T, axis=-1)
    np.testing.assert_allclose(np.linalg.norm(out, axis=-1), radius, rtol=1e-5)
    cos = (
        np.sum(np.asarray(out) * np.asarray(x_T), -1)
        / np.linalg.norm(out, axis=-1)
        / np.linalg.norm(x_T, axis=-1)
    )
    assert cos.min() < 0.9  # the direction did change
    plain = sample(denoise, x_T, jax.random.PRNGKey(1), short, prediction="x0")
    assert not np.allclose(np.linalg.norm(plain, axis=-1), radius, rtol=1e-3)


def test_vmap_jit_and_grad():
    x_T = jax.random.normal(jax.random.PRNGKey(0), (4, 10, 3))
    keys = jax.random.split(jax.random.PRNGKey(1), 4)

    def run(w, x, k):
        return sample(
            lambda y, t: w * _gaussian_denoiser(y, t), x, k, SCHEDULE, stride=8, stochasticity=0.5
        )

    batched = jax.jit(jax.vmap(run, in_axes=(None, 0, 0)))(0.9, x_T, keys)
    single = run(0.9, x_T[2], keys[2])
    np.testing.assert_allclose(batched[2], single, atol=1e-5)
    g = jax.grad(lambda w: run(w, x_T[0], keys[0]).sum())(0.9)
    eps = 1e-3
    fd = (run(0.9 + eps, x_T[0], keys[0]).sum() - run(0.9 - eps, x_T[0], keys[0]).sum()) / (2 * eps)
    assert float(g) == pytest.approx(float(fd), rel=2e-2)


def test_clip_bounds_every_step():
    x_T = 5 * jax.random.normal(jax.random.PRNGKey(0), (100, 3))
    out = sample(lambda x, t: x, x_T, jax.random.PRNGKey(1), SCHEDULE, stride=8, clip=(-1, 1))
    assert float(jnp.abs(out).max()) <= 1.0


@pytest.mark.parametrize("prediction", ["epsilon", "x0", "v"])
def test_targets_invert_the_parameterisation(prediction):
    k1, k2, k3 = jax.random.split(jax.random.PRNGKey(0), 3)
    x0 = jax.random.uniform(k1, (500, 3))
    eps = jax.random.normal(k2, (500, 3))
    t = random_steps(k3, (500,), SCHEDULE)
    x_t = add_noise(x0, eps, t, SCHEDULE)
    target = prediction_target(prediction, x0, eps, t, SCHEDULE)
    x0_hat, eps_hat = from_prediction(prediction, target, x_t, SCHEDULE.alpha_bar[t][:, None])
    # x0 from an epsilon prediction divides by sqrt(ab) ~ 1e-2 at the noisiest step.
    np.testing.assert_allclose(x0_hat, x0, atol=5e-3)
    np.testing.assert_allclose(eps_hat, eps, atol=5e-3)


def test_random_steps_cover_every_index():
    t = np.asarray(random_steps(jax.random.PRNGKey(0), (20_000,), SCHEDULE))
    assert t.min() == 0 and t.max() == 99 and len(np.unique(t)) == 100


def test_bad_modes():
    with pytest.raises(ValueError, match="noise"):
        sample(lambda x, t: x, jnp.zeros((2, 3)), jax.random.PRNGKey(0), SCHEDULE, noise="uniform")
    with pytest.raises(ValueError, match="prediction"):
        sample(lambda x, t: x, jnp.zeros((2, 3)), jax.random.PRNGKey(0), SCHEDULE, prediction="s")

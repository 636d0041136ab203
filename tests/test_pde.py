"""PDE objectives (inr.pde): exact residuals, grid solvers at their order, small solves."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import inr
from inr import pde

from ._compiles import compilations

pytest.importorskip("scipy")


def test_a_stretched_plane_wave_solves_the_layers_equation_everywhere():
    """``exp(-i k x~)`` with ``x~ = x - (i / k) int sx`` zeroes the operator, layer included."""
    problem = pde.Helmholtz(k=20.0)
    inner, scale = 1.0 - problem.layer, problem.a0 / (3 * problem.layer**2)

    def wave(x, axis):  # two real channels of the complex field, along one axis
        d = jnp.maximum(jnp.abs(x[:, axis]) - inner, 0.0)
        phase = -1j * problem.k * x[:, axis] - problem.k * scale * jnp.sign(x[:, axis]) * d**3
        u = jnp.exp(phase)
        return jnp.stack([u.real, u.imag], -1)

    x = jax.random.uniform(jax.random.PRNGKey(0), (2000, 2), minval=-1.0, maxval=1.0)
    for axis in (0, 1):
        j = pde.jets(lambda y, a=axis: wave(y, a), x)
        c = {k: [(v[:, 0] + 1j * v[:, 1])[:, None] for v in vs] if isinstance(vs, list)
             else (vs[:, 0] + 1j * vs[:, 1])[:, None] for k, vs in j.items()}  # fmt: skip
        residual = problem.operator(x, c["u"], *c["d"], *c["dd"])
        scale_of = problem.k**2 * jnp.abs(c["u"]) + 1e-12
        assert float(jnp.max(jnp.abs(residual) / scale_of)) < 1e-3


def test_the_exact_field_is_the_free_space_solution_away_from_the_source():
    """Its 5-point Laplacian plus k^2 u vanishes (to the stencil's error) where f is negligible."""
    problem = pde.Helmholtz(k=20.0, sigma=0.02)
    h = 1e-3
    rng = np.random.default_rng(0)
    p = rng.uniform(-0.45, 0.45, (200, 2))
    p = p[np.linalg.norm(p, axis=1) > 0.15]
    shifts = [(0, 0), (h, 0), (-h, 0), (0, h), (0, -h)]
    u = [pde.exact_field(problem, p + s) for s in shifts]
    lap = (u[1] + u[2] + u[3] + u[4] - 4 * u[0]) / h**2
    assert np.max(np.abs(lap + problem.k**2 * u[0]) / np.abs(problem.k**2 * u[0])) < 1e-3
    # A few deviations away it is the damped Hankel function.
    r = np.linalg.norm(p, axis=1)
    from scipy.special import hankel2

    far = -0.25j * np.exp(-((problem.k * problem.sigma) ** 2) / 2) * hankel2(0, problem.k * r)
    np.testing.assert_allclose(u[0], far, rtol=1e-3, atol=1e-5)


def test_the_grid_solvers_converge_at_second_order():
    """FDFD against the exact field, FDTD against itself refined: errors fall 4x per halving."""
    problem = pde.Helmholtz(k=10.0, sigma=0.05)
    errors = []
    for n in (64, 128):
        x, y = pde.centres(n)
        exact = pde.exact_field(problem, np.stack([x.ravel(), y.ravel()], -1)).reshape(n, n)
        errors.append(pde.interior_error(pde.helmholtz_grid(problem, n), exact, n))
    assert 3.0 < errors[0] / errors[1] < 5.0
    wave = pde.Wave(width=0.1)
    times = [0.0, 0.2]
    grids = [pde.wave_grid(wave, n, times) for n in (32, 64, 128)]
    coarse = [g.reshape(2, 32, g.shape[1] // 32, 32, g.shape[1] // 32).mean((2, 4)) for g in grids]
    e1 = np.abs(coarse[0] - coarse[1])[1].max()
    e2 = np.abs(coarse[1] - coarse[2])[1].max()
    assert 3.0 < e1 / e2 < 5.5
    np.testing.assert_allclose(grids[2][0], np.asarray(wave.initial(
        np.stack([a.ravel() for a in pde.centres(128)], -1))).reshape(128, 128))  # fmt: skip


def test_jets_are_the_models_own_finite_differences():
    model = inr.Siren(16, 2, 2, first_w0=5.0)
    params = model.init(jax.random.PRNGKey(1), jnp.zeros((1, 2)))
    f = lambda x: model.apply(params, x)  # noqa: E731
    x = jax.random.uniform(jax.random.PRNGKey(2), (50, 2), minval=-0.9, maxval=0.9)
    j = pde.jets(f, x)
    h = 1e-2
    for axis in (0, 1):
        e = jnp.zeros(2).at[axis].set(h)
        d = (f(x + e) - f(x - e)) / (2 * h)
        dd = (f(x + e) - 2 * f(x) + f(x - e)) / h**2
        np.testing.assert_allclose(j["d"][axis], d, rtol=2e-3, atol=2e-3)
        np.testing.assert_allclose(j["dd"][axis], dd, rtol=1e-2, atol=2e-2)


def test_a_small_poisson_problem_is_solved_to_its_known_solution():
    """lap u = f with u = sin(2x) cosh(y) + x y on the boundary, by least squares."""
    exact = lambda x: jnp.sin(2 * x[:, 0]) * jnp.cosh(x[:, 1]) + x[:, 0] * x[:, 1]  # noqa: E731
    f = lambda x: -3 * jnp.sin(2 * x[:, 0]) * jnp.cosh(x[:, 1])  # noqa: E731
    objective = pde.PoissonObjective(f, exact)
    solved = pde.solve_linear(objective, pde.SineFeatures(300, 3.0))
    x = np.asarray(jax.random.uniform(jax.random.PRNGKey(3), (2000, 2), minval=-1, maxval=1))
    truth = np.asarray(exact(x))
    error = np.linalg.norm(solved.at(x, clip=False) - truth) / np.linalg.norm(truth)
    assert error < 1e-4
    # A field with no range renders as it is: nothing clamps its values past 1.
    grid = inr.grid(24, 24).reshape(-1, 2)
    rendered = solved.render(24, 24).reshape(-1)
    assert rendered.max() > 2 and np.abs(rendered - np.asarray(exact(grid))).max() < 1e-3
    with compilations() as n:  # another seed draws other points: the same program
        pde.solve_linear(objective, pde.SineFeatures(300, 3.0), seed=5)
    assert n[0] == 0


@pytest.mark.slow  # a fit of 300 steps
def test_a_small_poisson_problem_is_fitted_to_its_known_solution():
    exact = lambda x: jnp.sin(2 * x[:, 0]) * jnp.cosh(x[:, 1]) + x[:, 0] * x[:, 1]  # noqa: E731
    f = lambda x: -3 * jnp.sin(2 * x[:, 0]) * jnp.cosh(x[:, 1])  # noqa: E731
    objective = pde.PoissonObjective(f, exact)
    x = np.asarray(jax.random.uniform(jax.random.PRNGKey(3), (2000, 2), minval=-1, maxval=1))
    truth = np.asarray(exact(x))
    fitted = inr.fit(objective, model=inr.Siren(32, 2, 1, first_w0=3.0), steps=300,
                     optimizer=inr.ngp_adam(300, 3e-3))  # fmt: skip
    error = np.linalg.norm(fitted.at(x, clip=False) - truth) / np.linalg.norm(truth)
    assert error < 0.05 and fitted.history["loss"][-1] < 1e-2 * fitted.history["loss"][0]


def test_least_squares_helmholtz_matches_the_exact_field():
    """k = 10, a wide source: 1024 random sine features solve the interior to 10%."""
    problem = pde.Helmholtz(k=10.0, sigma=0.05)
    fit = pde.solve_linear(pde.HelmholtzObjective(problem, points=6000, near=300),
                           pde.SineFeatures(1024, 30.0))  # fmt: skip
    n = 96
    x, y = pde.centres(n)
    points = np.stack([x.ravel(), y.ravel()], -1)
    u = fit.at(points, clip=False).reshape(n, n, 2)
    exact = pde.exact_field(problem, points).reshape(n, n)
    assert pde.interior_error(u[..., 0] + 1j * u[..., 1], exact, n) < 0.1


def test_bad_problems_are_named():
    with pytest.raises(ValueError, match="Helmholtz.medium"):
        pde.Helmholtz(medium="triangle")
    with pytest.raises(ValueError, match="Helmholtz.k"):
        pde.Helmholtz(k=0.0)
    with pytest.raises(ValueError, match="times"):
        pde.wave_grid(pde.Wave(), 16, [0.1, 0.15])
    with pytest.raises(ValueError, match="homogeneous"):
        pde.exact_field(pde.Helmholtz(medium="square"), np.zeros((1, 2)))


def test_the_residual_skips_exactly_the_band_around_the_mediums_jumps():
    problem = pde.Helmholtz(medium="square")  # s jumps on the square |x|, |y| = 0.3
    x = jax.random.uniform(jax.random.PRNGKey(0), (20000, 2), minval=-1.0, maxval=1.0)
    keep = np.asarray(pde.HelmholtzObjective(problem, jumps=0.02).smooth(x))
    x = np.asarray(x)
    # within 0.02 of an edge along an axis: |x_i| within 0.02 of 0.3 while the other is inside
    near = np.zeros(len(x), bool)
    for i in range(2):
        near |= (np.abs(np.abs(x[:, i]) - 0.3) < 0.02) & (np.abs(x[:, 1 - i]) < 0.3)
    assert not keep[near].any()
    far = np.abs(np.max(np.abs(x), axis=1) - 0.3) > 0.02 * np.sqrt(2)
    assert keep[far].all()
    assert np.asarray(pde.HelmholtzObjective(problem).smooth(x)).all()

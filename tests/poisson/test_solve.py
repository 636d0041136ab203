import jax
import jax.numpy as jnp
import numpy as np
import pytest

import inr


@pytest.mark.parametrize("shape", [(31, 40), (64, 64), (33, 17, 3)])
def test_reconstruct_random_images(shape, rng):
    u = rng.random(shape).astype(np.float32)
    back = np.asarray(inr.reconstruct(inr.image_gradient(u), mean=u.mean(axis=(0, 1))))
    assert np.abs(back - u).max() < 1e-4


@pytest.mark.parametrize("name, size", [("camera", (255, 256)), ("astronaut", (128, 97))])
def test_reconstruct_real_images(name, size):
    u = inr.resize(inr.sample_image(name), size, "bilinear")
    back = np.asarray(inr.reconstruct(inr.image_gradient(u), mean=u.mean(axis=(0, 1))))
    assert np.abs(back - u).max() < 1e-4


def test_neumann_solution_satisfies_equation(rng):
    rhs = rng.standard_normal((40, 50)).astype(np.float32)
    rhs -= rhs.mean()  # compatible right-hand side
    u = inr.poisson_solve(rhs, mean=0.25)
    np.testing.assert_allclose(inr.laplacian_5pt(u), rhs, atol=2e-5 * np.abs(rhs).max() * 10)
    assert abs(float(u.mean()) - 0.25) < 1e-6


def test_neumann_projects_incompatible_mean(rng):
    rhs = rng.standard_normal((20, 20)).astype(np.float32) + 3.0
    u = inr.poisson_solve(rhs)
    np.testing.assert_allclose(inr.laplacian_5pt(u), rhs - rhs.mean(), atol=1e-4)


@pytest.mark.parametrize("shape", [(30, 41), (16, 16, 2)])
def test_dirichlet_equation_and_boundary(shape, rng):
    rhs = rng.standard_normal(shape).astype(np.float32)
    values = rng.random(shape).astype(np.float32)
    u = np.asarray(inr.poisson_solve(rhs, boundary="dirichlet", boundary_values=values))
    ring = np.ones(shape[:2], bool)
    ring[1:-1, 1:-1] = False
    np.testing.assert_array_equal(u[ring], values[ring])
    # The 5-point Laplacian at interior pixels uses only real neighbours there.
    lap = u[:-2, 1:-1] + u[2:, 1:-1] + u[1:-1, :-2] + u[1:-1, 2:] - 4 * u[1:-1, 1:-1]
    np.testing.assert_allclose(lap, rhs[1:-1, 1:-1], atol=1e-4)


def test_jit_vmap_and_grad_match_finite_differences(rng):
    rhs = jnp.asarray(rng.standard_normal((3, 12, 10)), jnp.float32)
    solve = jax.jit(jax.vmap(lambda r: inr.poisson_solve(r, mean=0.0)))
    np.testing.assert_allclose(solve(rhs)[1], inr.poisson_solve(rhs[1], mean=0.0), atol=1e-6)

    w = jnp.asarray(rng.standard_normal((12, 10)), jnp.float32)
    loss = lambda r: jnp.sum(w * inr.poisson_solve(r)) ** 2
    r0 = rhs[0]
    g = jax.grad(loss)(r0)
    direction = jnp.asarray(rng.standard_normal((12, 10)), jnp.float32)
    # The loss is quadratic in r, so a central difference is exact at any step.
    eps = 1.0
    fd = (loss(r0 + eps * direction) - loss(r0 - eps * direction)) / (2 * eps)
    assert np.isclose(float(jnp.sum(g * direction)), float(fd), rtol=1e-3)


def test_bad_arguments():
    with pytest.raises(ValueError, match="boundary"):
        inr.poisson_solve(np.zeros((4, 4)), boundary="periodic")
    with pytest.raises(ValueError, match="boundary_values"):
        inr.poisson_solve(np.zeros((4, 4)), boundary="dirichlet")
    with pytest.raises(ValueError, match="rhs"):
        inr.poisson_solve(np.zeros((4,)))


@pytest.mark.parametrize(
    "fn, make",
    [
        (lambda x: inr.reconstruct(x, mean=0.5), lambda r: r.standard_normal((17, 12, 3, 2))),
        (lambda x: inr.poisson_solve(x, mean=0.25), lambda r: r.standard_normal((9, 14, 3))),
        (inr.image_gradient, lambda r: r.random((11, 7, 2))),
        (inr.divergence, lambda r: r.standard_normal((11, 7, 2))),
        (inr.laplacian_5pt, lambda r: r.random((8, 13))),
    ],
)
def test_public_call_equals_the_callers_jit_bit_for_bit(fn, make, rng):
    x = make(rng).astype(np.float32)
    np.testing.assert_array_equal(np.asarray(fn(x)), np.asarray(jax.jit(fn)(x)))


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: inr.poisson_solve(np.full((4, 4), np.nan)), "rhs contains NaN"),
        (lambda: inr.poisson_solve("abc"), "rhs must be a numeric array"),
        (lambda: inr.poisson_solve(np.zeros((8, 8, 3)), mean=[1.0, 2.0]), "mean must be"),
        (lambda: inr.poisson_solve(np.zeros((8, 8)), mean=float("nan")), "mean must be"),
        (lambda: inr.reconstruct(np.zeros((4, 4, 3))), "grad must be shaped"),
        (lambda: inr.reconstruct(np.full((4, 4, 2), np.inf)), "grad contains NaN"),
        (lambda: inr.divergence(np.zeros((4, 4, 2), bool)), "grad must be a numeric array"),
        (lambda: inr.image_gradient(np.zeros((4, 4, 7))), "image must have 1 to 4 channels"),
    ],
)
def test_bad_arguments_are_named(call, match):
    with pytest.raises(ValueError, match=match):
        call()

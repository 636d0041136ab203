"""The masked solver against a dense direct solve, and its preconditioner's algebra."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from inr.poisson import masked


def _blob(h, w, rng):
    """An irregular domain that touches the top and left borders."""
    yy, xx = np.mgrid[:h, :w]
    inside = ((yy / h) ** 2 + (xx / w - 0.3) ** 2 < 0.5) | (rng.uniform(size=(h, w)) < 0.1)
    inside[-3:] = False
    return inside


def _dense(inside):
    """Perez's matrix on the domain's pixels, built entry by entry (an independent reference)."""
    h, w = inside.shape
    index = -np.ones((h, w), int)
    index[inside] = np.arange(inside.sum())
    a = np.zeros((inside.sum(),) * 2)
    for y, x in zip(*np.nonzero(inside), strict=True):
        i = index[y, x]
        for dy, dx in ((1, 0), (-1, 0), (0, 1), (0, -1)):
            qy, qx = y + dy, x + dx
            if 0 <= qy < h and 0 <= qx < w:
                a[i, i] += 1
                if inside[qy, qx]:
                    a[i, index[qy, qx]] -= 1
    return a


def test_solution_matches_a_dense_solve():
    rng = np.random.default_rng(0)
    inside = _blob(28, 22, rng)
    b = rng.normal(size=(28, 22, 2)).astype(np.float32)
    x, iters = masked.solve_masked(b, inside, tol=1e-6)
    assert x.shape == b.shape
    a = _dense(inside)
    for c in range(2):
        exact = np.linalg.solve(a, b[..., c][inside].astype(np.float64))
        got = np.asarray(x[..., c])
        np.testing.assert_allclose(got[inside], exact, atol=2e-4 * np.abs(exact).max())
        assert np.all(got[~inside] == 0)
    assert 0 < int(iters) < 40


def test_prolongation_and_restriction_are_transposes():
    k1, k2 = jax.random.split(jax.random.PRNGKey(0))
    coarse = jax.random.normal(k1, (8, 6, 3))
    fine = jax.random.normal(k2, (16, 12, 3))
    lhs = jnp.sum(masked._prolong(coarse) * fine)
    rhs = jnp.sum(coarse * masked._restrict(fine))
    assert abs(float(lhs - rhs)) < 1e-4 * float(jnp.abs(lhs))


@pytest.mark.parametrize("degree", [1, 3, 5])
def test_smoothing_weights_give_the_scaled_chebyshev_polynomial(degree):
    """prod_k (1 - w_k mu) = T_n((theta - mu) / delta) / T_n(theta / delta) on any mu."""
    lo, hi = 0.25, 2.0
    w = masked._chebyshev_weights(degree, lo, hi)
    theta, delta = (hi + lo) / 2, (hi - lo) / 2
    mu = np.linspace(0.0, 2.0, 41)
    cheb = np.polynomial.chebyshev.Chebyshev.basis(degree)
    want = cheb((theta - mu) / delta) / cheb(theta / delta)
    np.testing.assert_allclose(np.prod(1 - np.outer(mu, w), axis=1), want, atol=1e-12)
    # On [lo, hi] the error shrinks by at least 1 / T_n(theta / delta).
    inside = (mu >= lo) & (mu <= hi)
    assert np.abs(want[inside]).max() <= 1 / cheb(theta / delta) + 1e-12


def test_neighbour_sum_of_a_plane_matches_a_field():
    """Planes use shifted slices, fields a padded copy: the same 4-neighbour sum."""
    x = np.random.default_rng(4).normal(size=(9, 12)).astype(np.float32)
    p = np.pad(x, 1)
    want = p[:-2, 1:-1] + p[2:, 1:-1] + p[1:-1, :-2] + p[1:-1, 2:]
    np.testing.assert_allclose(masked._neighbour_sum(jnp.asarray(x)), want, rtol=1e-6)
    np.testing.assert_allclose(
        masked._neighbour_sum(jnp.asarray(x)[..., None])[..., 0], want, rtol=1e-6
    )


def test_prolongation_is_bilinear():
    # A linear ramp is reproduced exactly away from the zero-padded edge.
    ramp = jnp.arange(8.0)[None, :, None] * jnp.ones((8, 1, 1))
    fine = masked._prolong(ramp)[..., 0]
    expected = (jnp.arange(16.0) - 0.5) / 2
    np.testing.assert_allclose(fine[2:-2, 2:-2], jnp.broadcast_to(expected[2:-2], (12, 12)))


@pytest.mark.parametrize("plane", [False, True])
@pytest.mark.parametrize("shape", [(64, 64), pytest.param((48, 80), marks=pytest.mark.slow)])
def test_v_cycle_is_symmetric_positive_definite(shape, plane):
    """CG needs an SPD preconditioner: <M r, s> = <r, M s> and <M r, r> > 0.

    Both layouts: (H, W, 1) fields (pad-based neighbour sums) and the (H, W)
    planes a CPU solves (shift-based).
    """
    rng = np.random.default_rng(1)
    field = () if plane else (1,)
    inside = jnp.asarray(_blob(*shape, rng), jnp.float32).reshape(shape + field)
    # Jitted: eagerly, every operation of every level compiles alone.
    levels = jax.jit(masked._levels, static_argnums=2)(
        inside, jnp.ones(shape + field), masked._n_levels(*shape)
    )
    r, s = (jnp.asarray(rng.normal(size=shape + field), jnp.float32) * inside for _ in range(2))
    v_cycle = jax.jit(masked._v_cycle)
    mr, ms = v_cycle(levels, r), v_cycle(levels, s)
    left, right = float(jnp.sum(mr * s)), float(jnp.sum(r * ms))
    assert abs(left - right) < 1e-4 * np.sqrt(float(jnp.sum(mr * r)) * float(jnp.sum(ms * s)))
    assert float(jnp.sum(mr * r)) > 0


@pytest.mark.parametrize("n", [64, 192])
@pytest.mark.parametrize("shape", ["rectangle", "ellipse"])
def test_iterations_do_not_grow_with_the_grid(n, shape):
    """Multigrid's promise: a fixed number of CG iterations whatever the size.

    Coarse domains that swallowed their Dirichlet ring ("any child inside")
    needed 13-18 iterations at 896^2 and grew with the grid.
    """
    yy, xx = np.mgrid[:n, :n] - n / 2
    if shape == "rectangle":
        inside = (abs(yy) < 0.45 * n) & (abs(xx) < 0.45 * n)
    else:
        inside = (yy / (0.49 * n)) ** 2 + (xx / (0.45 * n)) ** 2 < 1
    b = np.random.default_rng(n).normal(size=(n, n, 2)).astype(np.float32)
    x, iters = masked.solve_masked(b, inside, tol=1e-4)
    level = masked._level(jnp.asarray(inside, jnp.float32)[..., None], jnp.ones((n, n, 1)))
    residual = np.asarray(masked._apply(level, x)) - b * inside[..., None]
    assert np.linalg.norm(residual) <= 1e-4 * np.linalg.norm(b * inside[..., None]) * np.sqrt(2)
    assert int(iters) <= 8


def test_a_start_that_already_solves_costs_no_iteration():
    rng = np.random.default_rng(2)
    inside = _blob(32, 24, rng)
    b = rng.normal(size=(32, 24, 3)).astype(np.float32)
    x, iters = masked.solve_masked(b, inside, tol=1e-6)
    again, none = masked.solve_masked(b, inside, initial=x, tol=1e-4)
    assert int(iters) > 0 and int(none) == 0
    np.testing.assert_array_equal(np.asarray(again), np.asarray(x))


@pytest.mark.parametrize("shape", [(12, 10, 3), (7, 9, 2), (16, 16, 1), (11, 13)])
def test_channel_dot_is_a_per_channel_sum(shape):
    """(H, W, C) fields give (1, 1, C); a single plane (H, W) gives (1, 1)."""
    rng = np.random.default_rng(1)
    u, v = rng.normal(size=(2,) + shape).astype(np.float32)
    want = np.einsum("hw...,hw...->...", u.astype(np.float64), v.astype(np.float64))
    got = np.asarray(masked._channel_dot(jnp.asarray(u), jnp.asarray(v)))
    assert got.shape == (1, 1) + shape[2:]
    np.testing.assert_allclose(got.ravel(), np.ravel(want), rtol=1e-5)


@pytest.mark.parametrize("start", [False, True])
def test_channels_solved_in_turn_or_batched_agree(monkeypatch, start):
    """The CPU solves channels one at a time, accelerators all at once.

    Batched, every channel iterates until the slowest converges; in turn,
    each stops at its own tolerance.  So both must meet the tolerance per
    channel, agree to it, and report the same (largest) iteration count.
    """
    rng = np.random.default_rng(3)
    inside = jnp.asarray(_blob(32, 48, rng), jnp.float32)[..., None]
    b = jnp.asarray(rng.normal(size=(32, 48, 3)), jnp.float32) * inside
    x0 = jnp.asarray(rng.normal(size=(32, 48, 3)), jnp.float32) if start else None
    valid = jnp.ones_like(inside)
    level = masked._level(inside, valid)
    tol = 1e-5
    got = {}
    for in_turn in (True, False):
        monkeypatch.setattr(masked, "_channels_one_at_a_time", lambda in_turn=in_turn: in_turn)
        x, iters = masked._solve(b, x0, inside[..., 0], valid[..., 0], jnp.float32(tol), 100)
        residual = np.linalg.norm(np.asarray(masked._apply(level, x) - b), axis=(0, 1))
        assert np.all(residual <= tol * np.linalg.norm(np.asarray(b), axis=(0, 1)))
        got[in_turn] = x, int(iters)
    scale = float(jnp.abs(got[False][0]).max())
    np.testing.assert_allclose(got[True][0], got[False][0], atol=1e-3 * scale)
    assert got[True][1] == got[False][1] > 0

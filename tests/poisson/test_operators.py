import jax
import numpy as np
import pytest

import inr


def _laplacian_loops(u):
    """The 5-point Neumann Laplacian written pixel by pixel (independent reference)."""
    h, w = u.shape
    out = np.zeros_like(u)
    for i in range(h):
        for j in range(w):
            for di, dj in ((0, 1), (0, -1), (1, 0), (-1, 0)):
                if 0 <= i + di < h and 0 <= j + dj < w:
                    out[i, j] += u[i + di, j + dj] - u[i, j]
    return out


@pytest.mark.parametrize("shape", [(7, 9), (8, 8), (5, 6, 3)])
def test_adjoint_identity(shape, rng):
    u = rng.random(shape).astype(np.float32)
    g = rng.standard_normal(shape + (2,)).astype(np.float32)
    lhs = np.sum(np.asarray(inr.image_gradient(u), np.float64) * g)
    rhs = -np.sum(u * np.asarray(inr.divergence(g), np.float64))
    assert np.isclose(lhs, rhs, rtol=1e-5)


@pytest.mark.parametrize("shape", [(7, 9), (10, 4)])
def test_divergence_of_gradient_is_5pt_laplacian(shape, rng):
    u = rng.random(shape)
    got = np.asarray(inr.divergence(inr.image_gradient(u.astype(np.float32))))
    np.testing.assert_allclose(got, _laplacian_loops(u), atol=1e-5)


def test_gradient_is_forward_difference_with_zero_flux(rng):
    u = rng.random((4, 5)).astype(np.float32)
    g = np.asarray(inr.image_gradient(u))
    assert g.shape == (4, 5, 2)
    np.testing.assert_allclose(g[:, :-1, 0], np.diff(u, axis=1), atol=1e-7)
    np.testing.assert_allclose(g[:-1, :, 1], np.diff(u, axis=0), atol=1e-7)
    assert not g[:, -1, 0].any() and not g[-1, :, 1].any()


def test_operators_trace_under_jit():
    u = np.ones((6, 6), np.float32)
    assert float(jax.jit(inr.laplacian_5pt)(u).sum()) == 0.0


@pytest.mark.parametrize("shape", [(7, 9, 2), (6, 5, 3), (8, 4)])
def test_channels_first_divergence_is_a_transpose(shape, rng):
    from inr.poisson.operators import divergence_channels_first

    g = rng.standard_normal(shape + (2,)).astype(np.float32)
    want = np.asarray(inr.divergence(g))
    want = np.moveaxis(want, -1, 0) if len(shape) == 3 else want
    np.testing.assert_array_equal(np.asarray(divergence_channels_first(g)), want)


def test_a_nan_stays_local_like_numpy_gradient():
    """The local operators skip the solvers' value check: a NaN reaches only its stencil."""
    u = np.zeros((6, 7), np.float32)
    u[2, 3] = np.nan
    lap = np.asarray(inr.laplacian_5pt(u))
    want = np.zeros((6, 7), bool)
    want[2, 3] = want[1, 3] = want[3, 3] = want[2, 2] = want[2, 4] = True
    np.testing.assert_array_equal(np.isnan(lap), want)
    assert np.isnan(np.asarray(inr.image_gradient(u))).sum() == 4  # own two, left and above
    with pytest.raises(ValueError, match="rhs contains NaN"):
        inr.poisson_solve(u)  # a solve would spread it over the whole image

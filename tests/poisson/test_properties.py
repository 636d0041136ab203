"""Properties of the operators and solvers on random shapes, with and without ``jit``.

Hypothesis draws the shapes and values; ``chex.variants`` runs each check on
the function as it is and under ``jax.jit``, which must agree.
"""

import chex
import jax.numpy as jnp
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import inr

SETTINGS = settings(max_examples=5, deadline=None)
# Every new shape compiles new programs: draw sides from a few odd and even
# sizes, so the examples differ mostly in values and orientation.
SIDES = st.sampled_from([3, 8])


@st.composite
def fields(draw):
    """A random image ``(H, W[, C])`` and a random gradient field of the same layout."""
    h = draw(SIDES)
    w = draw(SIDES)
    c = draw(st.sampled_from([(), (3,)]))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    u = rng.random((h, w, *c)).astype(np.float32)
    g = rng.standard_normal((h, w, *c, 2)).astype(np.float32)
    return u, g


class OperatorProperties(chex.TestCase):
    @chex.variants(with_jit=True, without_jit=True)
    @SETTINGS
    @given(fields())
    def test_divergence_is_the_negative_adjoint_of_the_gradient(self, pair):
        u, g = pair
        grad = self.variant(inr.image_gradient)(u)
        div = self.variant(inr.divergence)(g)
        lhs = np.sum(np.asarray(grad, np.float64) * g)
        rhs = -np.sum(u * np.asarray(div, np.float64))
        assert np.isclose(lhs, rhs, rtol=1e-4, atol=1e-4)

    @chex.variants(with_jit=True, without_jit=True)
    @SETTINGS
    @given(fields())
    def test_reconstruct_recovers_an_image_from_its_gradient(self, pair):
        u, _ = pair
        mean = u.mean(axis=(0, 1))
        rebuilt = self.variant(lambda g, m: inr.reconstruct(g, mean=m))(inr.image_gradient(u), mean)
        chex.assert_trees_all_close(rebuilt, u, atol=2e-4)

    @chex.variants(with_jit=True, without_jit=True)
    @SETTINGS
    @given(fields())
    def test_dirichlet_solve_inverts_the_laplacian_inside(self, pair):
        u, _ = pair
        solve = self.variant(
            lambda r, b: inr.poisson_solve(r, boundary="dirichlet", boundary_values=b)
        )
        chex.assert_trees_all_close(solve(inr.laplacian_5pt(u), u), u, atol=2e-4)


@SETTINGS
@given(fields(), st.floats(-3.0, 3.0))
def test_neumann_solve_is_blind_to_constants_and_linear(pair, scale):
    """Adding a constant to ``rhs`` changes nothing (it is projected out); scaling scales."""
    u, _ = pair
    rhs = np.asarray(inr.laplacian_5pt(u))
    base = np.asarray(inr.poisson_solve(rhs))
    shifted = np.asarray(inr.poisson_solve(rhs + 0.5))
    np.testing.assert_allclose(shifted, base, atol=1e-4)
    scaled = np.asarray(inr.poisson_solve(jnp.asarray(scale * rhs)))
    np.testing.assert_allclose(scaled, scale * base, atol=1e-4 * max(1.0, abs(scale)))

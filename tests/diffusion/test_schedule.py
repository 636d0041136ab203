import numpy as np
import pytest

from inr.diffusion import cosine_schedule, linear_schedule


def test_cosine_matches_its_formula():
    n, s = 100, 0.008
    f = lambda t: np.cos((t / n + s) / (1 + s) * np.pi / 2) ** 2
    betas = np.clip(1 - f(np.arange(1, n + 1)) / f(np.arange(n)), 1e-4, 0.9999)
    expected = np.cumprod(1 - betas)
    ab = np.asarray(cosine_schedule(n, s).alpha_bar)
    assert ab.dtype == np.float32 and ab.shape == (n,)
    np.testing.assert_allclose(ab, expected, rtol=1e-6)
    assert ab[-1] < 1e-4  # the last step is (almost) pure noise


@pytest.mark.parametrize("make", [cosine_schedule, linear_schedule])
def test_schedules_decrease_with_clipped_betas(make):
    ab = np.asarray(make(50).alpha_bar, np.float64)
    betas = 1 - ab / np.concatenate([[1.0], ab[:-1]])
    assert np.all(np.diff(ab) < 0)
    assert betas.min() >= 1e-4 * (1 - 1e-5) and betas.max() <= 0.9999 * (1 + 1e-5)


def test_linear_rescales_to_the_step_count():
    # Ho et al.: 1000 steps from 1e-4 to 0.02 end at alpha_bar ~ 4e-5.
    ab = np.asarray(linear_schedule(1000).alpha_bar)
    assert ab[-1] == pytest.approx(4.04e-5, rel=0.02)
    assert 1 - ab[0] == pytest.approx(1e-4, rel=1e-3)
    assert np.asarray(linear_schedule(100).alpha_bar)[-1] < 1e-4


def test_step_count_validated():
    with pytest.raises(ValueError, match="num_steps"):
        cosine_schedule(1)

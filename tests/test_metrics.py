import numpy as np
import pytest
from skimage.metrics import structural_similarity

import inr


def test_psnr_formula(rng):
    a = rng.random((16, 16))
    b = np.clip(a + 0.1 * rng.standard_normal(a.shape), 0, 1)
    mse = np.mean((a - b) ** 2)
    assert np.isclose(inr.psnr(a, b), 10 * np.log10(1 / mse), rtol=1e-5)
    assert inr.psnr(a, a) == float("inf")


@pytest.mark.parametrize("name", ["camera", "astronaut", "coffee"])
def test_ssim_matches_scikit_image(name, rng):
    a = inr.sample_image(name)[:200, :160]
    b = np.clip(a + 0.08 * rng.standard_normal(a.shape), 0, 1).astype(np.float32)
    ref = structural_similarity(
        a,
        b,
        data_range=1.0,
        gaussian_weights=True,
        sigma=1.5,
        use_sample_covariance=False,
        channel_axis=-1 if a.ndim == 3 else None,
    )
    assert abs(inr.ssim(a, b) - ref) < 1e-6
    assert inr.ssim(a, a) == pytest.approx(1.0)


def test_ssim_too_small():
    with pytest.raises(ValueError, match="11x11"):
        inr.ssim(np.zeros((8, 8)), np.zeros((8, 8)))

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


def test_psnr_of_any_signal_is_relative_to_its_range(rng):
    """Audio, video and volumes score like images, against the width of their range."""
    for shape in [(400, 1), (3, 8, 10, 3), (6, 7, 8)]:
        a = rng.uniform(-1, 1, shape)
        b = a + 0.01 * rng.standard_normal(shape)
        mse = np.mean((a - b) ** 2)
        assert np.isclose(inr.mse(a, b), mse, rtol=1e-12)
        assert np.isclose(inr.psnr(a, b, value_range=(-1, 1)), 10 * np.log10(4 / mse))
    hu = rng.uniform(0, 2000, (4, 5, 6)).astype(np.int16)  # a CT volume's own range
    assert np.isclose(inr.psnr(hu, hu + 20, value_range=(0, 2000)), 10 * np.log10(2000**2 / 400))
    u8 = rng.integers(0, 256, (5, 6, 3), dtype=np.uint8)
    assert inr.psnr(u8, u8 / 255.0) == float("inf")  # uint8 means n / 255, as everywhere
    for bad, match in [((0, 0), "value_range"), ((1, 0, 2), "value_range")]:
        with pytest.raises(ValueError, match=match):
            inr.psnr(a, b, value_range=bad)
    with pytest.raises(ValueError, match="same shape"):
        inr.psnr(np.zeros(3), np.zeros(4))

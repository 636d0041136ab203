import numpy as np
import pytest
import skimage.color

import inr


def test_ycbcr_round_trip_and_gray_is_neutral(rng):
    rgb = rng.random((50, 3)).astype(np.float32)
    np.testing.assert_allclose(inr.ycbcr_to_rgb(inr.rgb_to_ycbcr(rgb)), rgb, atol=1e-6)
    gray = np.full((4, 3), 0.3, np.float32)
    np.testing.assert_allclose(inr.rgb_to_ycbcr(gray), [[0.3, 0.5, 0.5]] * 4, atol=1e-6)


@pytest.mark.parametrize("column, expected", [(0, 0.299), (1, 0.587), (2, 0.114)])
def test_gray_weights(column, expected):
    rgb = np.eye(3, dtype=np.float32)[column]
    assert inr.rgb_to_gray(rgb) == pytest.approx(expected)
    assert inr.rgb_to_ycbcr(rgb)[0] == pytest.approx(expected)


def test_chroma_spans_unit_interval():
    blue, red = np.eye(3, dtype=np.float32)[2], np.eye(3, dtype=np.float32)[0]
    assert inr.rgb_to_ycbcr(blue)[1] == pytest.approx(1.0)
    assert inr.rgb_to_ycbcr(red)[2] == pytest.approx(1.0)


def test_luma_matches_scikit_image(rng):
    rgb = rng.random((8, 9, 3)).astype(np.float32)
    ref = skimage.color.rgb2ycbcr(rgb)[..., 0] / 255.0
    np.testing.assert_allclose(inr.luma_bt601(rgb), ref, atol=1e-6)

import numpy as np
import pytest

import inr


@pytest.mark.parametrize(
    "bad, match",
    [
        (np.full((4, 4), np.nan, np.float32), "NaN"),
        (np.zeros((4,), np.float32), "shaped"),
        (np.zeros((2, 3, 4, 5), np.float32), "shaped"),
        (np.zeros((0, 4), np.float32), "empty"),
        (np.zeros((4, 4, 7), np.float32), "channels"),
        (np.full((4, 4), 2.0), r"\[0, 1\]"),
        (np.zeros((4, 4), np.int64), "dtype"),
        (np.zeros((4, 4), bool), "dtype"),
    ],
)
def test_bad_images_name_the_argument(bad, match):
    with pytest.raises(ValueError, match=match) as info:
        inr.fit_image(bad, steps=1)
    assert "image" in str(info.value)


def test_uint8_is_converted():
    a = np.array([[0, 255], [51, 102]], np.uint8)
    b = np.array([[0, 1], [0.2, 0.4]], np.float32)
    assert inr.psnr(a, b) > 100


def test_mismatched_shapes_name_both():
    with pytest.raises(ValueError, match=r"\(4, 4\).*\(4, 5\)"):
        inr.psnr(np.zeros((4, 4)), np.zeros((4, 5)))


def test_callers_array_not_modified(camera64):
    img = camera64.copy()
    inr.fit_image(img, steps=2, model=inr.Siren(16, 1))
    assert np.array_equal(img, camera64)


@pytest.mark.parametrize(
    "mask",
    [
        np.array([[0, 1], [1, 0]], bool),
        np.array([[0, 1], [1, 0]], np.float32),
        np.array([[0, 255], [255, 0]], np.uint8),
        np.array([[0, 255], [255, 0]], np.int64),
        np.repeat(np.array([[0, 255], [255, 0]], np.uint8)[..., None], 3, axis=-1),
    ],
)
def test_binary_masks_in_every_encoding(mask):
    from inr._validate import as_mask

    np.testing.assert_array_equal(as_mask(mask, (2, 2)), [[False, True], [True, False]])

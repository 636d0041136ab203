import numpy as np
import pytest

import inr


@pytest.mark.parametrize("shape", [(5, 7), (5, 7, 3), (5, 7, 4)])
def test_png_round_trip(tmp_path, rng, shape):
    img = np.round(rng.random(shape) * 255) / 255
    path = inr.save_image(tmp_path / "a.png", img)
    back = inr.load_image(path)
    assert back.shape == shape and back.dtype == np.float32
    np.testing.assert_allclose(back, img, atol=1e-6)
    assert [p.name for p in tmp_path.iterdir()] == ["a.png"]  # no temp file left


def test_unreadable_file(tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image")
    with pytest.raises(ValueError, match="bad.png"):
        inr.load_image(bad)
    with pytest.raises(ValueError, match="not a file"):
        inr.load_image(tmp_path / "missing.png")


def test_save_rejects_out_of_range(tmp_path):
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        inr.save_image(tmp_path / "x.png", np.full((4, 4), 1.5))
    assert not list(tmp_path.iterdir())


def test_saved_files_get_normal_permissions(tmp_path):
    import os

    mask = os.umask(0)
    os.umask(mask)
    path = inr.save_image(tmp_path / "p.png", np.zeros((3, 3)))
    assert path.stat().st_mode & 0o777 == 0o666 & ~mask

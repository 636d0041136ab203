"""FranNet's protocol: the crop, the input, the oracle and the table row."""

import jax
import numpy as np
import pytest

import inr
from inr.restorator.batches import batch_maker
from inr.restorator.frannet import frannet_row, oracle, protocol_example

from .conftest import TINY, untrained


@pytest.fixture(scope="module")
def faces():
    """Three smooth 218x178 'photos' (CelebA's shape)."""
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:218, 0:178] / 218.0
    out = []
    for _ in range(3):
        a, b = rng.uniform(-1, 1, 2)
        t = np.clip(0.5 + 0.4 * np.sin(3 * a * x + 2 * b * y), 0, 1)
        out.append(np.stack([t, t**2, 1 - t], -1).astype(np.float32))
    return np.stack(out)


def test_the_example_is_the_centred_square_and_its_gray_64(faces):
    gray, target = protocol_example(faces[0])
    np.testing.assert_array_equal(target, faces[0][20:198])
    assert gray.shape == (64, 64) and gray.dtype == np.float32
    # Bilinear without antialiasing: each output samples two neighbouring rows and columns.
    want = jax.image.resize(inr.rgb_to_gray(target), (64, 64), "linear", antialias=False)
    np.testing.assert_allclose(gray, want, atol=1e-5)


@pytest.mark.parametrize("pipeline", ["device", "host"])
def test_centre_bilinear_training_inputs_are_the_protocol_inputs(faces, pipeline):
    """``Examples(crop="centre", downscale="bilinear")`` trains on exactly what is scored."""
    examples = inr.restorator.Examples(points_per_image=8, crop="centre", downscale="bilinear")
    config = inr.RestoratorConfig(task="restore", **{**TINY, "input_size": 64})
    photos = [np.round(face * 255).astype(np.uint8) for face in faces]  # as decoded
    mesh = inr.distributed.make_mesh()
    make = batch_maker(photos, examples.for_model(config), 6, mesh, seed=0, pipeline=pipeline)
    batch = jax.device_get(make(0))
    want = [protocol_example(photo)[0] for photo in photos]
    for row in batch["inputs"][..., 0]:
        # Each row is one of the faces, maybe flipped left-right.
        gaps = [min(np.abs(row - w).max(), np.abs(row[:, ::-1] - w).max()) for w in want]
        assert min(gaps) < 1e-5
    np.testing.assert_allclose(batch["cell"], 64 / 178, rtol=1e-6)


def test_the_oracle_is_the_bicubic_upscale_in_three_channels():
    gray = np.full((64, 64), 0.3, np.float32)
    np.testing.assert_allclose(oracle(gray, 178), 0.3, atol=1e-6)
    assert oracle(gray, 100).shape == (100, 100, 3)


def test_an_untrained_restorator_scores_as_the_oracle(faces):
    """Its residual is zero and its chroma neutral: the bicubic luma, as the oracle."""
    model = untrained(inr.RestoratorConfig(**dict(TINY, input_size=64)))
    row = frannet_row(model, faces, limit=1)
    assert row["images"] == 1
    np.testing.assert_allclose(row["mse"], row["oracle_mse"], rtol=1e-3)
    np.testing.assert_allclose(row["ratio"], 1.0, rtol=1e-3)
    oracle_only = frannet_row(None, faces, limit=2)
    assert oracle_only["images"] == 2 and np.isnan(oracle_only["mse"])


def test_bad_inputs_are_named(faces):
    with pytest.raises(ValueError, match="RGB photo"):
        protocol_example(faces[0, ..., 0])
    with pytest.raises(ValueError, match="at least 64"):
        protocol_example(faces[0, :40])

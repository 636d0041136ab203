"""Training images and the examples drawn from them, by their properties."""

import jax
import numpy as np
import pytest

import inr
from inr.restorator.batches import Prefetcher
from inr.restorator.data import load_images
from inr.restorator.examples import Examples, draw_batch, window
from inr.restorator.masking import Masking, as_masking, mask_cells
from inr.restorator.store import image_store

SPEC = dict(input_size=16, batch_size=3, points_per_image=50)
_DRAW = jax.jit(draw_batch, static_argnums=(1, 2, 3))


def make_batch(images, step, *, task, batch_size, seed=0, **fields):
    """The batch of ``step`` drawn from ``images``, on the host."""
    store = image_store(images)
    examples = Examples(task=task, **fields)
    return jax.device_get(_DRAW(store, examples, batch_size, window(store, examples), seed, step))


@pytest.mark.parametrize("task", ["restore", "colorize", "upscale"])
def test_batches_are_a_function_of_seed_and_step(colour_images, task):
    images = load_images(colour_images)
    a = make_batch(images, 5, task=task, seed=1, **SPEC)
    b = make_batch(images, 5, task=task, seed=1, **SPEC)
    c = make_batch(images, 6, task=task, seed=1, **SPEC)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    assert not np.array_equal(a["points"], c["points"])
    channels = 3 if task == "upscale" else 1
    assert a["inputs"].shape == (3, 16, 16, channels) and a["targets"].shape == (3, 50, 3)
    assert a["inputs"].dtype == np.float32 and 0 <= a["targets"].min() <= a["targets"].max() <= 1


def test_colorize_targets_are_the_input_in_colour(colour_images):
    """Same size: the input is the gray of the image the targets are sampled from."""
    images = load_images(colour_images)
    batch = make_batch(images, 0, task="colorize", **SPEC)
    gray_at_points = [
        inr.interpolation.sample_bilinear(batch["inputs"][i], batch["points"][i]) for i in range(3)
    ]
    np.testing.assert_allclose(
        inr.rgb_to_gray(batch["targets"]), np.stack(gray_at_points)[..., 0], atol=1e-5
    )
    np.testing.assert_array_equal(batch["cell"], 1.0)


@pytest.mark.parametrize("task", ["restore", "colorize", "upscale"])
def test_pixel_queries_are_centres_of_target_pixels(colour_images, task):
    images = load_images(colour_images)
    batch = make_batch(images, 2, task=task, query="pixels", **SPEC)
    for points, cell in zip(batch["points"], batch["cell"], strict=True):
        size = np.round(16 / cell)  # the target's (width, height)
        index = (points + 1.0) * size / 2.0 - 0.5
        np.testing.assert_allclose(index, np.round(index), atol=1e-3)
        index = np.round(index)
        assert index.min() >= 0 and np.all(index.max(axis=0) <= size - 1)
    uniform = make_batch(images, 2, task=task, **SPEC)["points"]
    index = (uniform + 1.0) * 16 / 2.0 - 0.5
    assert np.abs(index - np.round(index)).max() > 0.1  # uniform points fall between centres


@pytest.mark.parametrize("task", ["restore", "colorize", "upscale"])
def test_patch_queries_are_a_square_block_of_target_pixels(colour_images, task):
    """Row-major: point ``(i, j)`` is the pixel at ``(top + i, left + j)``, edges repeated."""
    images = load_images(colour_images)
    batch = make_batch(images, 3, task=task, query="patch", **{**SPEC, "points_per_image": 64})
    for points, cell in zip(batch["points"], batch["cell"], strict=True):
        width, height = np.round(16 / cell).astype(int)
        cols, rows = np.round((points + 1.0) * np.array([width, height]) / 2.0 - 0.5).T.astype(int)
        rows, cols = rows.reshape(8, 8), cols.reshape(8, 8)
        top, left = rows[0, 0], cols[0, 0]
        assert top <= max(height - 8, 0) and left <= max(width - 8, 0)
        np.testing.assert_array_equal(rows[:, 0], np.minimum(top + np.arange(8), height - 1))
        np.testing.assert_array_equal(cols[0], np.minimum(left + np.arange(8), width - 1))
        assert (rows == rows[:, :1]).all() and (cols == cols[:1]).all()


def test_upscale_cells_cover_the_scale_range(colour_images):
    images = load_images(colour_images)
    cells = np.concatenate(
        [make_batch(images, s, task="upscale", max_scale=2.5, **SPEC)["cell"] for s in range(20)]
    )
    assert cells.min() >= 1 / 2.5 - 0.02 and cells.max() <= 1.0
    assert cells.max() - cells.min() > 0.3


def test_masking_blanks_grid_cells_of_the_input_only(colour_images):
    images = load_images(colour_images)
    plain = make_batch(images, 2, task="upscale", **SPEC)
    masked = make_batch(images, 2, task="upscale", masking=4, **SPEC)
    # The first example is drawn before any masking randomness: same target.
    np.testing.assert_array_equal(plain["targets"][0], masked["targets"][0])
    blank = (masked["inputs"][0] == 0).all(-1)
    assert blank.sum() % 16 == 0  # whole 4x4 cells of a 16x16 input
    assert blank.sum() <= 0.75 * 256


def test_mask_cell_counts(rng):
    image = np.ones((64, 64, 1), np.float32)
    counts = []
    for _ in range(200):
        out = mask_cells(image, rng, Masking(grid=8, min_cells=2, max_fraction=0.5))
        counts.append(int((out == 0).sum()) // 64)
    assert min(counts) >= 2 and max(counts) <= 32 and len(set(counts)) > 10
    assert image.min() == 1  # the input is not modified


@pytest.mark.parametrize(
    "grid, allowed",
    [
        ("uniform", range(5, 65)),
        ("dynamic", (5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 64)),
    ],
)
def test_random_grids(rng, grid, allowed):
    drawn = {Masking(grid=grid).draw_grid(rng) for _ in range(500)}
    assert drawn <= set(allowed) and len(drawn) > 10


def test_masking_validation():
    assert as_masking(None) is None and as_masking(8) == Masking(8)
    with pytest.raises(ValueError, match="masking"):
        as_masking("random")
    with pytest.raises(ValueError, match="max_fraction"):
        Masking(grid=4, max_fraction=1.5)


def test_folders(tmp_path, colour_images):
    (tmp_path / "sub").mkdir()
    inr.save_image(tmp_path / "a.png", colour_images[0])
    inr.save_image(tmp_path / "sub" / "b.jpg", inr.rgb_to_gray(colour_images[1]))
    (tmp_path / "sub" / "broken.png").write_bytes(b"not an image")
    (tmp_path / "notes.txt").write_text("ignored")
    with pytest.warns(UserWarning, match="broken.png"):
        images = load_images(tmp_path)
    assert len(images) == 2 and all(i.shape[-1] == 3 and i.dtype == np.uint8 for i in images)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match="holds no"):
        load_images(empty)
    with pytest.raises(ValueError, match="neither"):
        load_images([tmp_path / "missing"])


def test_prefetcher_order_and_errors():
    with Prefetcher(lambda s: {"s": s}, 3, 9) as batches:
        assert [step for step, _ in batches] == list(range(3, 9))

    def boom(step):
        if step == 2:
            raise RuntimeError("bad batch")
        return step

    with pytest.raises(RuntimeError, match="bad batch"), Prefetcher(boom, 0, 5) as batches:
        list(batches)

"""The one draw of training batches against NumPy arithmetic, crop by crop; its two pipelines."""

import json

import jax
import numpy as np
import pytest

import inr
from inr.interpolation import resize_weights, sample_bilinear
from inr.restorator.batches import batch_maker
from inr.restorator.data import load_images
from inr.restorator.examples import Examples, draw_batch, draw_crops, window
from inr.restorator.masking import Masking
from inr.restorator.store import image_store

from .conftest import train_tiny


@pytest.fixture(scope="module")
def store():
    """Five images of different sizes and orientations (so crops differ in shape)."""
    rng = np.random.default_rng(3)
    shapes = [(40, 56), (64, 30), (33, 33), (70, 48), (25, 90)]
    return image_store([rng.integers(0, 256, (h, w, 3), dtype=np.uint8) for h, w in shapes])


def _spec(store, task, batch_size=6, **fields):
    """``(examples, rows, side)``: what :func:`draw_batch` and :func:`draw_crops` take."""
    examples = Examples(task=task, **{**dict(input_size=16, points_per_image=40), **fields})
    return examples, batch_size, window(store, examples)


_DRAW = jax.jit(draw_batch, static_argnums=(1, 2, 3))


def _image(store, k):
    start, h, w = store.starts[k], store.heights[k], store.widths[k]
    return store.pixels[start : start + h * w].reshape(h, w, 3).astype(np.float64) / 255


def _host_crop(store, crops, i):
    """The crop of row ``i`` cut out of the image with NumPy slicing."""
    top, left, h, w = (int(getattr(crops, f)[i]) for f in ("top", "left", "height", "width"))
    crop = _image(store, int(crops.index[i]))[top : top + h, left : left + w]
    return crop[:, ::-1] if bool(crops.flip[i]) else crop


def _host_resize(image, n, downscale="bicubic"):
    antialias = downscale == "bicubic"  # TensorFlow's bilinear resize does not antialias
    wy = resize_weights(image.shape[0], n, antialias, downscale)
    wx = resize_weights(image.shape[1], n, antialias, downscale)
    return np.clip(wy @ image.transpose(2, 0, 1) @ wx.T, 0, 1).transpose(1, 2, 0)


def test_the_store_holds_every_pixel_where_it_says():
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 256, (h, w, 3), dtype=np.uint8) for h, w in [(3, 5), (4, 2)]]
    store = image_store(images + [np.full((2, 2, 3), 0.5, np.float32)])
    for k, image in enumerate(images):
        np.testing.assert_array_equal(_image(store, k), image / 255)
    np.testing.assert_array_equal(_image(store, 2), 128 / 255)  # floats round to uint8
    with pytest.raises(ValueError, match=r"images\[0\]"):
        image_store([np.zeros((4, 4))])


@pytest.mark.parametrize(
    "crop, downscale, query",
    [
        ("random", "bicubic", "pixels"),
        ("centre", "bilinear", "uniform"),
        ("random", "bicubic", "patch"),
    ],
)
@pytest.mark.parametrize("task", ["restore", "colorize", "upscale"])
def test_batches_equal_the_host_arithmetic_on_the_drawn_crops(store, task, crop, downscale, query):
    """Inputs are the ``downscale`` resize of the crop; targets its bilinear samples.

    With ``query="pixels"`` the points are centres of the target's pixels
    and the targets those pixels exactly; with ``"patch"`` those pixels form
    a square block, row-major, whose edge repeats where the target is smaller.
    """
    spec = _spec(store, task, crop=crop, downscale=downscale, query=query, points_per_image=100)
    seed, step = 4, 7
    batch = jax.device_get(_DRAW(store, *spec, seed, step))
    key = jax.random.fold_in(jax.random.fold_in(jax.random.PRNGKey(seed), step), 0)
    crops = jax.device_get(draw_crops(key, store, *spec))
    for i in range(spec[1]):
        crop = _host_crop(store, crops, i)
        small = _host_resize(crop, 16, downscale)
        if task == "colorize":
            expected_targets = sample_bilinear(small, batch["points"][i])
        else:
            expected_targets = sample_bilinear(crop, batch["points"][i])
        expected_inputs = small if task == "upscale" else inr.rgb_to_gray(small)[..., None]
        np.testing.assert_allclose(batch["inputs"][i], expected_inputs, atol=2e-5)
        np.testing.assert_allclose(batch["targets"][i], expected_targets, atol=2e-5)
        cell = 1.0 if task == "colorize" else 16 / np.array([crop.shape[1], crop.shape[0]])
        np.testing.assert_allclose(batch["cell"][i], np.broadcast_to(cell, 2), rtol=1e-6)
        if query in ("pixels", "patch"):
            target = small if task == "colorize" else crop
            height, width = target.shape[:2]
            index = (batch["points"][i] + 1.0) * np.array([width, height]) / 2.0 - 0.5
            cols, rows = np.round(index).astype(int).T
            np.testing.assert_allclose(index, np.stack([cols, rows], -1), atol=1e-3)
            assert 0 <= cols.min() <= cols.max() < width and 0 <= rows.min() <= rows.max() < height
            np.testing.assert_allclose(batch["targets"][i], target[rows, cols], atol=2e-5)
            if query == "patch":
                rows, cols = rows.reshape(10, 10), cols.reshape(10, 10)
                top, left = rows[0, 0], cols[0, 0]
                np.testing.assert_array_equal(
                    rows, np.minimum(top + np.arange(10), height - 1)[:, None] + 0 * cols
                )
                np.testing.assert_array_equal(
                    cols, np.minimum(left + np.arange(10), width - 1)[None, :] + 0 * rows
                )
                assert top <= max(height - 10, 0) and left <= max(width - 10, 0)


def test_centre_crops_are_the_whole_centred_square(store):
    for task in ("restore", "upscale"):
        spec = _spec(store, task, crop="centre", batch_size=32)
        crops = jax.device_get(draw_crops(jax.random.PRNGKey(2), store, *spec))
        h, w = store.heights[crops.index], store.widths[crops.index]
        side = np.minimum(h, w)
        np.testing.assert_array_equal(crops.height, side)
        np.testing.assert_array_equal(crops.width, side)
        np.testing.assert_array_equal(crops.top, (h - side) // 2)
        np.testing.assert_array_equal(crops.left, (w - side) // 2)
        assert 0.2 < crops.flip.mean() < 0.8


@pytest.mark.parametrize("task", ["restore", "colorize", "upscale"])
def test_crops_follow_the_task_distribution(store, task):
    spec = _spec(store, task, batch_size=64, max_scale=3.0)
    crops = jax.device_get(draw_crops(jax.random.PRNGKey(1), store, *spec))
    h, w = store.heights[crops.index], store.widths[crops.index]
    assert (crops.top >= 0).all() and (crops.top + crops.height <= h).all()
    assert (crops.left >= 0).all() and (crops.left + crops.width <= w).all()
    assert (crops.height <= spec[2]).all() and (crops.width <= spec[2]).all()
    assert 0.2 < crops.flip.mean() < 0.8 and len(np.unique(crops.index)) == 5
    if task == "restore":
        assert (crops.height >= np.minimum(h, np.maximum(16, 0.4 * h) - 1)).all()
        assert (crops.width >= np.minimum(w, np.maximum(16, 0.4 * w) - 1)).all()
    else:
        np.testing.assert_array_equal(crops.height, crops.width)
    if task == "upscale":
        side = np.minimum(h, w)
        assert (crops.height <= np.minimum(side, 48)).all()
        assert (crops.height >= np.minimum(side, 16)).all()


def test_a_batch_is_a_function_of_seed_step_and_process(store):
    spec = _spec(store, "upscale")
    make = jax.jit(draw_batch, static_argnums=(1, 2, 3, 6))
    a = make(store, *spec, 0, 3, 0)
    for seed, step, process in [(0, 4, 0), (1, 3, 0), (0, 3, 1)]:
        other = make(store, *spec, seed, step, process)
        assert not np.array_equal(a["points"], other["points"])
    np.testing.assert_array_equal(a["inputs"], make(store, *spec, 0, 3, 0)["inputs"])


def test_a_block_of_batches_holds_the_batches_of_its_steps(colour_images):
    """``batch_maker(..., block=4)``: call ``b`` stacks steps 4b to 4b + 3, built one by one."""
    examples = Examples(task="upscale", input_size=16, points_per_image=32)
    mesh, images = inr.distributed.make_mesh(), list(colour_images)
    one = batch_maker(images, examples, 4, mesh, seed=2)
    block = jax.device_get(batch_maker(images, examples, 4, mesh, seed=2, block=4)(1))
    for j in range(4):
        want = jax.device_get(one(4 + j))
        for name, value in want.items():
            assert block[name].shape == (4, *value.shape)
            # Batched matmuls may round differently from single ones.
            np.testing.assert_allclose(block[name][j], value, atol=1e-6, err_msg=name)
    with pytest.raises(ValueError, match="block must be"):
        batch_maker(images, examples, 4, mesh, seed=2, block=0)
    with pytest.raises(ValueError, match="pipeline='device'"):
        batch_maker(images, examples, 4, mesh, seed=2, pipeline="host", block=4)


@pytest.mark.parametrize("task", ["restore", "upscale"])
def test_the_host_pipeline_draws_the_device_pipelines_stream(colour_images, task):
    """One draw, two places: the host's CPU on a thread, or the accelerator (the CPU here)."""
    examples = Examples(task=task, input_size=16, points_per_image=32, masking=4)
    mesh, images = inr.distributed.make_mesh(), list(colour_images)
    device = batch_maker(images, examples, 4, mesh, seed=5)
    host = batch_maker(images, examples, 4, mesh, seed=5, pipeline="host")
    for step in (0, 7):
        want, got = jax.device_get(device(step)), jax.device_get(host(step))
        for name in want:
            np.testing.assert_array_equal(got[name], want[name], err_msg=name)


@pytest.mark.parametrize("grid", [4, "uniform", "dynamic"])
def test_masking_blanks_whole_cells_of_the_host_grid(grid):
    """Blank pixels form whole cells of the grid ``round(linspace(0, n, k + 1))``."""
    flat = image_store([np.full((64, 64, 3), 200, np.uint8)])
    masking = Masking(grid=grid, max_fraction=0.5)
    spec = _spec(flat, "upscale", input_size=32, batch_size=16, masking=masking)
    batch = _DRAW(flat, *spec, 0, 0)
    blank = jax.device_get(batch)["inputs"][..., 0] == 0
    fractions = blank.mean(axis=(1, 2))
    assert fractions.max() <= 0.5 + 0.1 and fractions.max() > 0
    if grid == 4:
        edges = np.round(np.linspace(0, 32, 5)).astype(int)
        for image in blank:
            for r0, r1 in zip(edges[:-1], edges[1:], strict=True):
                for c0, c1 in zip(edges[:-1], edges[1:], strict=True):
                    cell = image[r0:r1, c0:c1]
                    assert cell.all() or not cell.any()


@pytest.mark.slow
def test_the_host_pipeline_trains_and_validates(colour_images, tmp_path):
    """The device pipeline's run is ``test_train.test_training_reduces_the_loss``."""
    train_tiny(
        colour_images[:6],
        steps=20,
        directory=tmp_path,
        pipeline="host",
        validate_every=10,
        log_every=10,
        validation=colour_images[6:],
    )
    log = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == [10, 20]
    assert all(np.isfinite(r["val_loss"]) and r["val_loss"] > 0 for r in log)


def test_host_and_device_stores_see_the_same_images(colour_images):
    images = load_images(colour_images)
    store = image_store(images)
    assert store.pixels.shape == (8 * 48 * 40 + 48, 3)  # and a margin of the largest side
    np.testing.assert_allclose(_image(store, 3), colour_images[3], atol=0.5 / 255 + 1e-6)

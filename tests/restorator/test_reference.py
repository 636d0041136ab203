"""Reference-based restorators: matching, transfer geometry, pairing, training, rendering."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import inr
from inr.restorator.batches import load_run_images
from inr.restorator.examples import Examples, draw_batch, draw_crops, window
from inr.restorator.examples import _draw_reference_crop as _draw_reference
from inr.restorator.reference import Transfer, _reference_points, match, transfer
from inr.restorator.store import image_store

from .conftest import TINY, recipe, train_tiny, untrained

_DRAW = jax.jit(draw_batch, static_argnums=(1, 2, 3))


def _spec(store, rows, **fields):
    """``(examples, rows, side)`` of an ``upscale`` stream with 4 points per row."""
    examples = Examples(task="upscale", input_size=8, points_per_image=4, **fields)
    return examples, rows, window(store, examples)


REF = dict(TINY, task="upscale", reference=True, texture=(4, 4))


def test_a_map_matches_itself_with_full_confidence():
    x = jax.random.normal(jax.random.PRNGKey(0), (2, 6, 5, 3))
    index, confidence = match(x, x)
    np.testing.assert_array_equal(index, np.broadcast_to(np.arange(30), (2, 30)))
    np.testing.assert_allclose(confidence, 1.0, rtol=1e-5)


def test_matching_follows_a_shifted_copy():
    """K is Q moved one column right: every interior cell matches its shifted twin."""
    q = jax.random.normal(jax.random.PRNGKey(1), (1, 8, 8, 4))
    k = jnp.roll(q, 1, axis=2)
    index, _ = match(q, k)
    rows, cols = np.divmod(np.asarray(index[0]).reshape(8, 8), 8)
    want_rows, want_cols = np.mgrid[0:8, 0:8]
    np.testing.assert_array_equal(cols[2:-2, 2:-3], want_cols[2:-2, 2:-3] + 1)
    np.testing.assert_array_equal(rows[2:-2, 2:-3], want_rows[2:-2, 2:-3])


def test_matching_equals_the_dense_relevance_and_its_gradient():
    """TTSR's formula written out: identity-convolution patches, the full matrix, its max."""

    def dense(q, k):
        def patches(x):
            p = jax.lax.conv_general_dilated_patches(
                x, (3, 3), (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC")
            )
            p = p.reshape(x.shape[0], -1, p.shape[-1])
            return p / (jnp.linalg.norm(p, axis=-1, keepdims=True) + 1e-6)

        relevance = jnp.einsum("bic,bjc->bij", patches(q), patches(k))
        return jnp.argmax(relevance, -1), jnp.max(relevance, -1).reshape(q.shape[:3])

    kq, kk = jax.random.split(jax.random.PRNGKey(2))
    q, k = jax.random.normal(kq, (2, 6, 7, 3)), jax.random.normal(kk, (2, 5, 4, 3))
    weights = jax.random.normal(jax.random.PRNGKey(3), (2, 6, 7))
    for ours, want in zip(match(q, k), dense(q, k), strict=True):
        np.testing.assert_allclose(ours, want, rtol=1e-5, atol=1e-6)
    grads = [
        jax.jit(jax.grad(lambda q, k, f=f: jnp.sum(weights * f(q, k)[1]), argnums=(0, 1)))(q, k)
        for f in (match, dense)
    ]
    for ours, want in zip(*grads, strict=True):
        np.testing.assert_allclose(ours, want, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("key_shape", [(6, 7), (9, 4)])
def test_a_search_window_picks_the_best_key_cell_near_each_query_cell(key_shape):
    """Brute force in NumPy: every key cell whose centre, scaled onto the query's grid,
    lies within ``radius`` cells of the query cell; the most relevant of them wins."""
    kq, kk = jax.random.split(jax.random.PRNGKey(4))
    q = jax.random.normal(kq, (2, 6, 7, 3))
    k = jax.random.normal(kk, (2, *key_shape, 3))
    _, confidence_all = match(q, k)
    index, confidence = match(q, k, radius=1)

    def patches(x):  # 3x3 zero-padded neighbourhoods, unit length
        b, h, w, c = x.shape
        pad = np.pad(np.asarray(x, np.float64), ((0, 0), (1, 1), (1, 1), (0, 0)))
        p = np.stack([pad[:, i : i + h, j : j + w] for i in range(3) for j in range(3)], -2)
        p = p.reshape(b, h * w, 9 * c)
        return p / (np.linalg.norm(p, axis=-1, keepdims=True) + 1e-6)

    relevance = np.einsum("bic,bjc->bij", patches(q), patches(k))
    (h, w), (hk, wk) = (6, 7), key_shape
    kr, kc = np.divmod(np.arange(hk * wk), wk)
    for i in range(h * w):
        r, c = divmod(i, w)
        near = (np.abs((kr + 0.5) * h / hk - 0.5 - r) <= 1) & (
            np.abs((kc + 0.5) * w / wk - 0.5 - c) <= 1
        )
        best = np.flatnonzero(near)[np.argmax(relevance[:, i][:, near], axis=-1)]
        np.testing.assert_array_equal(index[:, i], best)
        np.testing.assert_allclose(
            confidence.reshape(2, -1)[:, i], relevance[np.arange(2), i, best], rtol=1e-5
        )
    assert np.all(confidence <= confidence_all + 1e-6)  # a window can only lower the best


def test_a_window_wider_than_the_map_is_the_global_search():
    kq, kk = jax.random.split(jax.random.PRNGKey(5))
    q, k = jax.random.normal(kq, (1, 5, 6, 3)), jax.random.normal(kk, (1, 5, 6, 3))
    for ours, want in zip(match(q, k, radius=6), match(q, k), strict=True):
        np.testing.assert_array_equal(ours, want)


@pytest.mark.parametrize("bad", [-1, 1.5, True])
def test_search_radius_is_checked(bad):
    with pytest.raises(ValueError, match="search_radius"):
        inr.RestoratorConfig(search_radius=bad)


def test_the_identity_match_sends_every_point_to_itself(rng):
    points = jnp.asarray(rng.uniform(-0.99, 0.99, (50, 2)), jnp.float32)
    where, _ = _reference_points(points, jnp.arange(7 * 9), 7, 9)
    np.testing.assert_allclose(where, points, atol=1e-6)


def test_transfer_reads_the_matched_cell_scaled_by_confidence(rng):
    """A constant-per-cell V on the input's grid, a permutation match: values follow it."""
    h, w = 4, 4
    perm = jnp.asarray(rng.permutation(h * w))
    values = jnp.arange(h * w, dtype=jnp.float32).reshape(1, h, w, 1)
    confidence = jnp.full((1, h, w), 0.5)
    t = Transfer((values,), perm[None], confidence)
    centres = inr.grid(h, w).reshape(1, -1, 2)
    out = transfer(t, jnp.asarray(centres))
    np.testing.assert_allclose(out[0, :, 0], 0.5 * np.asarray(perm, np.float32), atol=1e-5)
    np.testing.assert_allclose(out[0, :, 1], 0.5)


def test_references_come_from_the_same_group():
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 256, (20, 20, 3), dtype=np.uint8) for _ in range(7)]
    groups = ["b", "a", "b", "c", "a", "b", "a"]
    store = image_store(images, groups)
    np.testing.assert_array_equal(store.group_sizes, [3, 3, 3, 3, 3, 3, 1])
    spec = _spec(store, 64)
    crops = draw_crops(jax.random.PRNGKey(0), store, *spec)
    on_device = jax.tree.map(jnp.asarray, store)
    boxes = jax.vmap(lambda k, c: _draw_reference(k, c, on_device))(
        jax.random.split(jax.random.PRNGKey(1), 64), crops
    )
    group_of = np.asarray(store.group_starts)
    np.testing.assert_array_equal(group_of[boxes.index], group_of[crops.index])
    paired = np.asarray(store.group_sizes)[crops.index] > 1
    assert (np.asarray(boxes.index)[paired] != np.asarray(crops.index)[paired]).all()
    alone = ~paired
    np.testing.assert_array_equal(np.asarray(boxes.index)[alone], np.asarray(crops.index)[alone])


@pytest.fixture(scope="module")
def reference_model():
    return untrained(inr.RestoratorConfig(**REF), scale=0.1)


def test_a_reference_model_restores_with_or_without_a_reference(reference_model, colour_images):
    small = inr.resize(colour_images[0], (16, 16))
    with_ref = reference_model.restore(small, size=(40, 30), reference=colour_images[1])
    without = reference_model.restore(small, size=(40, 30))
    assert with_ref.shape == without.shape == (40, 30, 3)
    assert np.isfinite(with_ref).all() and not np.allclose(with_ref, without)
    # A self-ensemble mirrors the reference with the input.
    flip = reference_model.restore(
        small, size=(40, 30), reference=colour_images[1], ensemble="flip"
    )
    mirror = reference_model.restore(
        small[:, ::-1], size=(40, 30), reference=colour_images[1][:, ::-1]
    )
    np.testing.assert_allclose(flip, (with_ref + mirror[:, ::-1]) / 2, atol=1e-6)
    # Any reference size; any region.
    other = reference_model.restore(small, size=(8, 8), region=(0.5, 0.5, 1, 1),
                                    reference=colour_images[2][:30])  # fmt: skip
    assert other.shape == (8, 8, 3)


@pytest.mark.slow
def test_a_reference_model_trains_on_grouped_files(colour_images, tmp_path):
    """Files named as CelebA's: four 'people', two photos each."""
    for i, image in enumerate(colour_images):
        inr.save_image(tmp_path / f"p{i // 2}_{i}.png", image)
    model = train_tiny(tmp_path, steps=12, **REF, reference_dropout=0.5)
    small = inr.resize(colour_images[0], (16, 16))
    assert np.isfinite(model.restore(small, size=(20, 20), reference=colour_images[1])).all()


def test_reference_arguments_are_checked(reference_model, colour_images):
    small = inr.resize(colour_images[0], (16, 16))
    with pytest.raises(ValueError, match="reference must be colour"):
        reference_model.restore(small, reference=colour_images[1][..., 0])
    # Refused before anything is computed: the parameters are never read.
    plain = inr.Restorator(params={}, config=inr.RestoratorConfig(**dict(TINY, task="upscale")))
    with pytest.raises(ValueError, match="reference is for reference restorators"):
        plain.restore(small, reference=colour_images[1])
    with pytest.raises(ValueError, match="reference_dropout"):
        Examples(reference_dropout=1.5)


def test_reference_batches_hold_a_resized_partner_and_a_presence_flag():
    """Same-size photos in pairs: each row's reference is its partner's same box, resized."""
    rng = np.random.default_rng(2)
    images = [rng.integers(0, 256, (24, 24, 3), dtype=np.uint8) for _ in range(4)]
    store = image_store(images, ["a", "a", "b", "b"])
    spec = _spec(store, 32, reference_size=16, reference_dropout=0.5)
    batch = jax.device_get(_DRAW(store, *spec, 0, 0))
    assert batch["reference"].shape == (32, 16, 16, 3)
    assert set(np.unique(batch["present"])) == {0.0, 1.0}
    assert 0 <= batch["reference"].min() and batch["reference"].max() <= 1
    # The partner's box is the row's own box: the same size, so the same cell.
    key = jax.random.fold_in(jax.random.fold_in(jax.random.PRNGKey(0), 0), 0)
    crops = jax.device_get(draw_crops(key, store, *spec))
    row_keys = jax.random.split(key, 32)
    for i in range(3):
        box = _draw_reference(
            jax.random.split(jax.random.fold_in(row_keys[i], 2), 3)[0],
            jax.tree.map(lambda x, i=i: x[i], crops),
            jax.tree.map(jnp.asarray, store),
        )
        assert int(box.index) == int(crops.index[i]) ^ 1  # the other photo of the pair
        assert (int(box.top), int(box.left)) == (int(crops.top[i]), int(crops.left[i]))


def test_a_self_reference_is_the_rows_own_crop():
    """``self_reference=1``: every row's reference is its target crop, resized and flipped alike."""
    from inr.interpolation import resize_weights

    rng = np.random.default_rng(3)
    images = [rng.integers(0, 256, (24, 24, 3), dtype=np.uint8) for _ in range(4)]
    store = image_store(images, ["a", "a", "b", "b"])
    spec = _spec(store, 6, reference_size=16, reference_dropout=0.0, self_reference=1.0)
    batch = jax.device_get(_DRAW(store, *spec, 0, 0))
    key = jax.random.fold_in(jax.random.fold_in(jax.random.PRNGKey(0), 0), 0)
    crops = jax.device_get(draw_crops(key, store, *spec))
    for i in range(spec[1]):
        top, left, h, w = (int(x[i]) for x in (crops.top, crops.left, crops.height, crops.width))
        crop = images[int(crops.index[i])][top : top + h, left : left + w] / 255.0
        want = np.einsum("ij,jkc,lk->ilc", resize_weights(h, 16), crop, resize_weights(w, 16))
        want = np.clip(want[:, ::-1] if crops.flip[i] else want, 0, 1)
        np.testing.assert_allclose(batch["reference"][i], want, atol=2e-5)
    with pytest.raises(ValueError, match="self_reference"):
        Examples(self_reference=-0.1)
    assert "self_reference" not in inr.TrainConfig().record()
    assert recipe(self_reference=0.25).record()["self_reference"] == 0.25


def test_a_references_function_pairs_each_photo_with_its_answer(tmp_path):
    """``train_restorator(references=f)``: rows come from the data only, each with f's image."""
    import imageio.v3 as iio

    rng = np.random.default_rng(4)
    photos, answers = [], {}
    for k in range(3):
        path = tmp_path / f"photo{k}.png"
        iio.imwrite(path, rng.integers(0, 256, (24, 24, 3), dtype=np.uint8))
        photos.append(path)
        answers[path] = np.full((24, 24, 3), (k + 1) / 4, np.float32)  # flat: known colour
    images, groups, trainable = load_run_images(photos, answers.get)
    assert sum(trainable) == 3 and len(images) == 6
    store = image_store(images, groups, trainable)
    spec = _spec(store, 24, reference_size=16, reference_dropout=0.0)
    batch = jax.device_get(_DRAW(store, *spec, 0, 0))
    key = jax.random.fold_in(jax.random.fold_in(jax.random.PRNGKey(0), 0), 0)
    index = jax.device_get(draw_crops(key, store, *spec).index)
    assert set(index.tolist()) <= set(store.rows.tolist()) and len(set(index.tolist())) == 3
    for i, k in enumerate(index):
        start, h, w = store.starts[k], store.heights[k], store.widths[k]
        photo = store.pixels[start : start + h * w].reshape(h, w, 3)
        k_photo = next(j for j, p in enumerate(photos) if np.array_equal(iio.imread(p), photo))
        np.testing.assert_allclose(batch["reference"][i], (k_photo + 1) / 4, atol=1 / 255)
    # Without a function the photos are their own references; a bad one is named.
    assert load_run_images(photos, None)[2] == [True] * 3
    with pytest.raises(ValueError, match="references must be"):
        inr.train_restorator(photos, inr.RestoratorConfig(**REF), references="pairs.csv")
    with pytest.raises(ValueError, match="reference=True"):
        inr.train_restorator(photos, inr.RestoratorConfig(**TINY), references=answers.get)

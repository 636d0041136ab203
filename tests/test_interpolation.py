"""Resizing and point sampling against ``jax.image.resize`` and closed forms."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import inr
from inr.interpolation import (
    keys_cubic,
    resize_weights,
    sample_bicubic,
    sample_bilinear,
    sample_corner,
    sample_nearest,
)


@pytest.mark.parametrize("method, antialias", [("bicubic", True), ("bilinear", False)])
@pytest.mark.parametrize("n_in, n_out", [(37, 10), (37, 80), (23, 23), (16, 5), (5, 16)])
def test_resize_weights_match_jax_image_resize(rng, n_in, n_out, method, antialias):
    x = rng.random((n_in, 3)).astype(np.float32)
    kernel = {"bicubic": "cubic", "bilinear": "linear"}[method]
    ref = jax.image.resize(jnp.asarray(x), (n_out, 3), kernel, antialias=antialias)
    weights = resize_weights(n_in, n_out, antialias, method)
    np.testing.assert_allclose(weights @ x, ref, atol=5e-6)


def test_keys_kernel_interpolates():
    assert keys_cubic(np.array(0.0)) == 1.0
    np.testing.assert_allclose(keys_cubic(np.array([1.0, 2.0, 2.5])), 0.0, atol=1e-12)
    # Partition of unity: the taps at any fractional offset sum to one.
    t = np.linspace(0, 1, 11)
    taps = np.abs(t[:, None] - np.arange(-1, 3)[None, :])
    np.testing.assert_allclose(keys_cubic(taps).sum(axis=1), 1.0, atol=1e-12)


def test_resize_validates():
    with pytest.raises(ValueError, match="method"):
        inr.resize(np.zeros((4, 4)), (2, 2), "area")
    with pytest.raises(ValueError, match="method"):
        resize_weights(4, 2, method="area")


@pytest.fixture
def image(rng):
    return rng.random((13, 9, 3)).astype(np.float32)


@pytest.mark.parametrize("xp", [np, jnp])
def test_pixel_centres_sample_the_pixels(image, xp):
    pts = inr.grid(13, 9).reshape(-1, 2)
    for fn in (sample_bilinear, sample_bicubic):
        out = np.asarray(fn(xp.asarray(image), xp.asarray(pts)))
        np.testing.assert_allclose(out, image.reshape(-1, 3), atol=3e-6)
    feats, offset = sample_nearest(xp.asarray(image), xp.asarray(pts))
    np.testing.assert_array_equal(np.asarray(feats), image.reshape(-1, 3))
    np.testing.assert_allclose(np.asarray(offset), 0.0, atol=3e-6)


@pytest.mark.parametrize("fn, method", [(sample_bilinear, "linear"), (sample_bicubic, "cubic")])
@pytest.mark.parametrize("size", [(40, 31), (26, 18), (13, 9)])
def test_upsampling_matches_jax_image_resize(image, fn, method, size):
    pts = inr.grid(*size).reshape(-1, 2)
    ours = np.asarray(fn(jnp.asarray(image), jnp.asarray(pts))).reshape(*size, 3)
    ref = jax.image.resize(jnp.asarray(image), (*size, 3), method, antialias=False)
    np.testing.assert_allclose(ours, ref, atol=1e-5)


def test_corners_blend_to_bilinear(image, rng):
    """LIIF's area-weighted four-cell ensemble of the features is bilinear interpolation."""
    pts = rng.uniform(-1.2, 1.2, (200, 2)).astype(np.float32)
    blend = 0.0
    for corner in ((0, 0), (1, 0), (0, 1), (1, 1)):
        feats, offset = sample_corner(image, pts, corner)
        assert np.all(np.abs(offset) <= 1 + 1e-6)
        blend = blend + np.prod(1 - np.abs(offset), axis=-1, keepdims=True) * feats
    np.testing.assert_allclose(blend, sample_bilinear(image, pts), atol=1e-5)


def test_nearest_offset_within_half_a_cell(image, rng):
    pts = rng.uniform(-0.99, 0.99, (500, 2)).astype(np.float32)
    _, offset = sample_nearest(image, pts)
    assert np.all(np.abs(offset) <= 0.5 + 1e-5)


def test_border_is_extended(image):
    outside = np.array([[-1.5, 0.0], [1.5, 0.0]], np.float32)
    inside = np.array([[-1.0, 0.0], [1.0, 0.0]], np.float32)  # the image's edges
    for fn in (sample_bilinear, sample_bicubic):
        np.testing.assert_allclose(fn(image, outside), fn(image, inside), atol=1e-6)


def test_gradients_flow_to_the_map(image):
    pts = jnp.asarray(np.array([[0.1, -0.3]], np.float32))
    g = jax.grad(lambda m: sample_bilinear(m, pts).sum())(jnp.asarray(image))
    assert float(g.sum()) == pytest.approx(3.0)  # bilinear weights sum to one per channel

import numpy as np
import pytest

import inr


def test_pixel_centres():
    g = inr.grid(2, 4)
    assert g.shape == (2, 4, 2) and g.dtype == np.float32
    np.testing.assert_allclose(g[0, :, 0], [-0.75, -0.25, 0.25, 0.75])
    np.testing.assert_allclose(g[:, 0, 1], [-0.5, 0.5])


@pytest.mark.parametrize("h, w", [(64, 64), (30, 50), (2, 2)])
def test_quadrant_region_is_exact(h, w):
    full = inr.grid(h, w)
    quad = inr.grid(h // 2, w // 2, region=(0, 0, 0.5, 0.5))
    assert np.array_equal(quad, full[: h // 2, : w // 2])


def test_region_fractions():
    g = inr.grid(4, 2, region=(0.2, 0.2, 0.4, 0.6))
    # x in [0.2, 0.4] -> [-0.6, -0.2]; y in [0.2, 0.6] -> [-0.6, 0.2]
    np.testing.assert_allclose(g[0, :, 0], [-0.5, -0.3], atol=1e-6)
    np.testing.assert_allclose(g[:, 0, 1], [-0.5, -0.3, -0.1, 0.1], atol=1e-6)


@pytest.mark.parametrize("region", [(0.5, 0, 0.2, 1), (0, 0, 1), (0, 0, float("nan"), 1), "abcd"])
def test_bad_region(region):
    with pytest.raises(ValueError, match="region"):
        inr.grid(4, 4, region=region)


@pytest.mark.parametrize("size", [(0, 4), (4, -1), (2.5, 3)])
def test_bad_size(size):
    with pytest.raises(ValueError, match="size"):
        inr.grid(*size)


@pytest.mark.parametrize("region", [None, (0.1, 0.2, 0.7, 0.9), (0.5, 0.0, 1.0, 0.25)])
def test_points_from_axes_is_the_grid(region):
    """The traceable twin builds exactly grid()'s float32 points, under jit too."""
    import jax

    from inr.coords import grid_axes, points_from_axes

    xs, ys = grid_axes(37, 53, region)
    assert xs.shape == (53,) and ys.shape == (37,) and xs.dtype == np.float32
    expected = inr.grid(37, 53, region=region).reshape(-1, 2)
    np.testing.assert_array_equal(np.asarray(jax.jit(points_from_axes)(xs, ys)), expected)

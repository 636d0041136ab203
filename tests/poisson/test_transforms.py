import jax
import numpy as np
import pytest
import scipy.fft as sf

from inr.poisson import dct2, dct_filter_2d, dst1, idct2, idst1


@pytest.mark.parametrize("n", [1, 2, 3, 8, 9, 64, 101])
def test_match_scipy(n, rng):
    x = rng.standard_normal((4, n)).astype(np.float32)
    scale = np.abs(x).sum()
    np.testing.assert_allclose(dct2(x), sf.dct(np.float64(x), 2), atol=1e-6 * scale)
    np.testing.assert_allclose(dst1(x), sf.dst(np.float64(x), 1), atol=1e-6 * scale)
    np.testing.assert_allclose(idct2(dct2(x)), x, atol=1e-5)
    np.testing.assert_allclose(idst1(dst1(x)), x, atol=1e-5)


def test_axis_argument(rng):
    x = rng.standard_normal((5, 6, 3)).astype(np.float32)
    np.testing.assert_allclose(dct2(x, 0), sf.dct(np.float64(x), 2, axis=0), atol=1e-4)
    np.testing.assert_allclose(idct2(x, 1), sf.idct(np.float64(x), 2, axis=1), atol=1e-5)


@pytest.mark.parametrize("shape", [(1, 1), (2, 3), (5, 7), (8, 8), (9, 6), (2, 33, 64)])
def test_dct_filter_2d_matches_scipy(shape, rng):
    x = rng.standard_normal(shape).astype(np.float32)
    scale = rng.standard_normal(shape[-2:]).astype(np.float32)
    axes = (-2, -1)
    ref = sf.idctn(sf.dctn(np.float64(x), 2, axes=axes) * scale, 2, axes=axes)
    got = jax.jit(dct_filter_2d)(x, scale)  # eagerly, each operation compiles alone
    np.testing.assert_allclose(got, ref, atol=2e-5 * max(1, np.abs(ref).max()))

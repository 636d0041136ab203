import jax
import jax.numpy as jnp
import numpy as np
import pytest

import inr
from inr.resize import keys_cubic, resize_weights


@pytest.mark.parametrize("n_in, n_out", [(37, 10), (37, 80), (23, 23), (16, 5), (5, 16)])
def test_resize_weights_match_jax_image_resize(rng, n_in, n_out):
    x = rng.random((n_in, 3)).astype(np.float32)
    ref = jax.image.resize(jnp.asarray(x), (n_out, 3), "cubic", antialias=True)
    np.testing.assert_allclose(resize_weights(n_in, n_out) @ x, ref, atol=5e-6)


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

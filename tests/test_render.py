import jax
import jax.numpy as jnp
import numpy as np
import pytest

import inr


@pytest.mark.parametrize("n, chunk", [(100, 7), (100, 100), (100, 1000), (1, 4)])
def test_chunked_equals_direct(n, chunk):
    pts = jax.random.normal(jax.random.PRNGKey(0), (n, 2))
    fn = lambda p: jnp.stack([jnp.sin(p[:, 0]) * p[:, 1], p.sum(-1)], -1)
    out = jax.jit(lambda p: inr.evaluate_chunked(fn, p, chunk))(pts)
    np.testing.assert_allclose(out, fn(pts), rtol=1e-6)

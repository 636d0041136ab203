"""Checks that only mean something on an accelerator: the ``gpu`` tier.

``pytest -m gpu`` runs them (``benchmarks/run_gpu.sh`` does, first thing);
without a GPU each is skipped, saying so.  Off a GPU the Pallas kernels run
in their interpreter (``tests/nn/test_hash_kernel.py``); here they run as
Triton kernels, at instant-ngp's configuration.
"""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import inr
from inr.nn.hash_encoding import encode
from inr.nn.hash_kernel import encode_pallas

pytestmark = pytest.mark.gpu


def test_the_pallas_kernels_equal_the_xla_encoding_at_ngp_sizes():
    """2^18 points through instant-ngp's 16 levels: values and the table's gradient."""
    grid = inr.HashGrid(levels=16, features=2, log2_table_size=19, base_resolution=16)
    spec = grid.spec(2)
    rows = int(grid.layout(2)[1].sum())
    table = jax.random.normal(jax.random.PRNGKey(0), (rows, 2)) * 1e-2
    x = jax.random.uniform(jax.random.PRNGKey(1), (2**18, 2), minval=-1.0, maxval=1.0)
    w = jax.random.normal(jax.random.PRNGKey(2), (2**18, 32))
    loss = lambda f: lambda t: jnp.sum(f(x, t, spec) * w)  # noqa: E731
    np.testing.assert_allclose(encode_pallas(x, table, spec), encode(x, table, spec), atol=1e-5)
    got, want = jax.grad(loss(encode_pallas))(table), jax.grad(loss(encode))(table)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


def test_a_bfloat16_siren_fits_as_well_as_float32_on_the_accelerator(camera64):
    """bfloat16 activations round the trajectory, not the fit: within half a decibel."""
    tx = optax.adam(1e-4)
    full = inr.fit_image(camera64, model=inr.Siren(256, 3), optimizer=tx, steps=300)
    half = inr.fit_image(camera64, model=inr.Siren(256, 3, dtype=jnp.bfloat16), optimizer=tx,
                         steps=300)  # fmt: skip
    assert abs(full.history["psnr"][-1] - half.history["psnr"][-1]) < 0.5


def test_a_radiance_field_renders_the_same_in_chunks_on_the_accelerator():
    """The bounded-memory render of an 800x800 view equals one chunk's per pixel."""
    from inr import nerf

    model = nerf.NGPField(grid=inr.HashGrid(levels=8, log2_table_size=16))
    camera = inr.Camera.look_at((0.0, -4.0, 1.0), up=(0, 0, 1), size=(800, 800))
    images = np.zeros((1, 800, 800, 4), np.uint8)
    field = nerf.fit_radiance_field(images, inr.Camera.stack([camera]), model=model, steps=5,
                                    rays=4096)  # fmt: skip
    whole = field.render(camera, chunk=2**17, sample_chunk=2**20)
    parts = field.render(camera, chunk=4096, sample_chunk=65536)
    np.testing.assert_allclose(whole.rgb, parts.rgb, atol=1e-5)

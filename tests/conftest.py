import os

# The tests check float32 mathematics and bitwise-reproducible training.  On
# GPUs, JAX's defaults allow TF32 matmuls (~3 significant digits) and
# non-deterministic reduction order; pin both here, before any backend
# starts, so that subprocesses inherit them too.  See the README's
# "Precision and determinism on GPUs".
os.environ.setdefault("JAX_DEFAULT_MATMUL_PRECISION", "float32")
if "xla_gpu_deterministic_ops" not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = (
        os.environ.get("XLA_FLAGS", "") + " --xla_gpu_deterministic_ops=true"
    ).strip()

import jax  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import inr  # noqa: E402

# In case a plugin imported jax before this file ran.
jax.config.update("jax_default_matmul_precision", os.environ["JAX_DEFAULT_MATMUL_PRECISION"])


@pytest.fixture(scope="session")
def camera64():
    """The built-in cameraman, anti-aliased to 64x64, float32 in [0, 1]."""
    return inr.resize(inr.sample_image("camera"), (64, 64), "bilinear")


@pytest.fixture(scope="session")
def astronaut64():
    return inr.resize(inr.sample_image("astronaut"), (64, 64), "bilinear")


@pytest.fixture
def rng():
    return np.random.default_rng(0)

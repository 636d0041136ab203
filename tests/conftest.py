import os
import shutil
import tempfile

import jaxlib.version  # the version alone: no backend starts

# The tests check float32 mathematics and bitwise-reproducible training.  On
# GPUs, JAX's defaults allow TF32 matmuls (~3 significant digits) and
# non-deterministic reduction order; pin both here, before any backend
# starts, so that subprocesses inherit them too.  See docs/devices.md,
# "Precision and determinism on GPUs".
os.environ.setdefault("JAX_DEFAULT_MATMUL_PRECISION", "float32")
if "xla_gpu_deterministic_ops" not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = (
        os.environ.get("XLA_FLAGS", "") + " --xla_gpu_deterministic_ops=true"
    ).strip()

# Compiling is most of this suite's time, and its arrays are small.  At
# LLVM's optimisation level 0 the suite runs about a sixth faster in all: the
# programs compile faster than the few long fits lose by running slower.  No
# floating-point semantics change: XLA's own passes, fusion included, still run.
if "xla_backend_optimization_level" not in os.environ["XLA_FLAGS"]:
    os.environ["XLA_FLAGS"] += " --xla_backend_optimization_level=0"

# XLA's CPU backend emits fusions through MLIR by default; its older elemental
# emitters compile the same fusions in about half the time, and the suite's
# programs are small enough that compiling, not running, is what they cost
# (the suite runs about a quarter faster).  Only the code generator differs:
# the same operations, with sin, tanh, exp and erf within a few 1e-6 of the
# default emitters' (and no further from float64's).  Only jaxlib 0.10 knows
# the flag (0.11's CUDA build rejects it), and XLA aborts on an unknown one.
_HAS_EMITTER_FLAG = jaxlib.version.__version_info__[:2] == (0, 10)
if _HAS_EMITTER_FLAG and "xla_cpu_use_fusion_emitters" not in os.environ["XLA_FLAGS"]:
    os.environ["XLA_FLAGS"] += " --xla_cpu_use_fusion_emitters=false"

# Under pytest-xdist every core runs a worker of its own, so Eigen's
# intra-op threads (matmuls, convolutions) would only contend with the
# other workers: one thread each runs the suite several percent faster.
if (
    "PYTEST_XDIST_WORKER" in os.environ
    and "xla_cpu_multi_thread_eigen" not in os.environ["XLA_FLAGS"]
):
    os.environ["XLA_FLAGS"] += " --xla_cpu_multi_thread_eigen=false"

# Compiling is most of this suite's time, and many tests compile the same
# programs: the training step above all, in this process and again in the
# subprocesses that are killed and resumed.  One persistent compilation cache
# per run, made by the controlling process before xdist starts its workers,
# reaches the workers and every subprocess through the environment.  The
# cache key covers the program, the compiler options and the versions, so
# a hit is the same executable; a truncated entry fails zlib's check and JAX
# recompiles (with a warning).
_OWN_CACHE = None
if "PYTEST_XDIST_WORKER" not in os.environ and "JAX_COMPILATION_CACHE_DIR" not in os.environ:
    _OWN_CACHE = tempfile.mkdtemp(prefix="inr-tests-jax-cache-")
    os.environ["JAX_COMPILATION_CACHE_DIR"] = _OWN_CACHE
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0.5")

import jax  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import inr  # noqa: E402

# In case a plugin imported jax before this file ran.
jax.config.update("jax_default_matmul_precision", os.environ["JAX_DEFAULT_MATMUL_PRECISION"])


def pytest_collection_modifyitems(config, items):
    """``gpu`` checks skip, saying why, where JAX sees no accelerator."""
    if jax.default_backend() in ("gpu", "tpu"):
        return
    reason = pytest.mark.skip(reason=f"needs a GPU (JAX's backend here is {jax.default_backend()})")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(reason)


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


# Files whose tests are independent runs (a script, an example, a guide) sharing no
# module fixture: under ``--dist loadfile`` they spread over the workers one test at a
# time, where loadfile would queue a file's minutes-long runs on one worker.
SPREAD = {"test_benchmarks.py", "test_examples.py", "test_guides.py"}


def pytest_xdist_make_scheduler(config, log):
    """pytest-xdist's ``loadfile``, but every test of a :data:`SPREAD` file its own unit."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class Spread(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            file = nodeid.split("::", 1)[0]
            return nodeid if file.rsplit("/", 1)[-1] in SPREAD else file

    return Spread(config, log)


def pytest_sessionfinish(session, exitstatus):
    if _OWN_CACHE is not None:
        shutil.rmtree(_OWN_CACHE, ignore_errors=True)

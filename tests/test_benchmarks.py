"""The benchmark scripts import, and (slow) run at toy sizes: their tables are quoted."""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).parents[1] / "benchmarks"
SCRIPTS = sorted(p.stem for p in BENCHMARKS.glob("*.py") if not p.stem.startswith("_"))
OPTIONAL = {"cv2", "torch", "siren_pytorch", "skimage", "matplotlib"}  # the bench extra's

# Runs that need no data folder and take seconds (``--json`` is added).
TOY_RUNS = {
    "decode": ["--size", "32", "--repeats", "1"],
    "hash_grid": ["--size", "16", "--siren-steps", "2", "--hash-steps", "2", "--repeats", "1",
                  "--points", "256", "--dtypes", "float32"],
    "models": [],
    "public_calls": ["--size", "16", "--repeats", "1"],
    "sampler": ["--points", "64", "--size", "8", "--repeats", "1", "--model-size", "8"],
    "scaling": ["--devices", "1", "2", "--steps", "1", "--size", "16", "--images", "2",
                "--fit-steps", "1", "--batch", "2", "--points", "16"],
    "siren_fit": ["--steps", "1", "--size", "16", "--batch-steps", "1"],
    "train_throughput": ["--steps", "1", "--rounds", "1", "--presets", "small", "--tasks",
                         "restore", "--batch-size", "2", "--points", "16"],
}  # fmt: skip


@pytest.mark.parametrize("name", SCRIPTS)
def test_every_benchmark_imports(name, monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    spec = importlib.util.spec_from_file_location(f"_bench_{name}", BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)  # dataclasses look themselves up
    try:
        spec.loader.exec_module(module)
    except ModuleNotFoundError as error:
        if error.name.split(".")[0] not in OPTIONAL:
            raise
        pytest.skip(f"needs the bench extra ({error.name})")
    assert callable(module.main)


def test_the_toy_runs_name_real_benchmarks():
    assert set(TOY_RUNS) <= set(SCRIPTS)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(TOY_RUNS))
def test_benchmark_runs_at_a_toy_size(name, tmp_path):
    out = tmp_path / f"{name}.json"
    flag = "--out" if name == "scaling" else "--json"
    command = [sys.executable, str(BENCHMARKS / f"{name}.py"), *TOY_RUNS[name], flag, str(out)]
    run = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    assert json.loads(out.read_text())

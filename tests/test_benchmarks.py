"""The benchmark scripts import, and (slow) run at toy sizes: their tables are quoted."""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests._xla import compiling_env

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


# Runs that read the shared data folder (``INR_DATA``, default ``../shared/data`` beside the
# checkout): each names the data it needs, and skips, saying so, where it is not there.
DATA = Path(os.environ.get("INR_DATA", Path(__file__).parents[2] / "shared" / "data"))
DATA_RUNS = {
    "codec": (["bsd68", "signals/stent.npy", "signals/bach.wav"],
              ["--photos", "{bsd68}", "--count", "1", "--size", "48", "32", "--qualities", "30",
               "60", "--steps", "5", "--volume", "{signals/stent.npy}", "--slices", "2",
               "--audio", "{signals/bach.wav}"]),
    "codec_tuning": (["bsd68/101085.png"],
                     ["--photos", "{bsd68/101085.png}", "--size", "24", "16", "--qualities", "30",
                      "--configs", '{"steps": 5}', '{"steps": 5, "hidden": [4]}']),
    "colorize_groups": (["celeba/val"], ["--data", "{celeba/val}", "--limit", "3"]),
    "ct": (["signals/stent.npy"], ["--stent", "{signals/stent.npy}", "--views", "4",
                                   "--slices", "128", "--extra-slices", "--steps", "3"]),
    "encoder_activation": (["bsd68"], ["--data", "{bsd68}", "--steps", "2", "--batch-size", "2",
                                       "--points", "16", "--log-every", "1"]),
    "frannet_table": (["celeba/val"], ["--data", "{celeba/val}", "--limit", "2"]),
    "meta": (["celeba/val"], ["--data", "{celeba/val}", "--images", "2", "--max-steps", "4"]),
    "nerf": (["nerf/lego"], ["--data", "{nerf/lego}", "--size", "16", "--steps", "4",
                             "--plain-steps", "2", "--val", "2"]),
    "shapes": (["shapes"], ["--data", "{shapes}", "--shapes", "cow", "--models", "siren",
                            "--steps", "siren=2", "--resolution", "32", "--samples", "2000",
                            "--trace-size", "32"]),
    "signals": (["signals"], ["--data", "{signals}", "--only", "audio", "--siren-steps", "1",
                              "--audio-steps", "2"]),
}  # fmt: skip
# Runs that need neither (their own flags; the data-free runs above are TOY_RUNS).
OTHER_RUNS = {
    "pde": ["--features", "32", "--square-features", "--siren-steps", "1", "--wave-steps", "2"],
    "poisson": ["--size", "32"],
}
# Toy runs whose time is compiling the codec's fits: at LLVM's level 0 they take 7-16% less
# time.  Not every toy run gains: nerf's renders take about 70% longer there, and public_calls
# and pde take as long.
COMPILING = {"codec", "codec_tuning"}
# What no toy run covers, and why.
UNRUN = {
    "profile_kernels": "profiles GPU kernels: the gpu tier's machine runs it",
    "reference_sr": "scores a trained reference restorator (examples/train.py --reference)",
    "restorator_quality": "scores the shipped upscalers on set5/set14 for minutes per model",
}


def _benchmark(name: str, monkeypatch):
    """The script ``benchmarks/<name>.py`` as a module (its folder on the path, as when run)."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    spec = importlib.util.spec_from_file_location(f"_bench_{name}", BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)  # dataclasses look themselves up
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", SCRIPTS)
def test_every_benchmark_imports(name, monkeypatch):
    try:
        module = _benchmark(name, monkeypatch)
    except ModuleNotFoundError as error:
        if error.name.split(".")[0] not in OPTIONAL:
            raise
        pytest.skip(f"needs the bench extra ({error.name})")
    assert callable(module.main)


def test_every_benchmark_has_a_toy_run_or_a_reason():
    runs = set(TOY_RUNS) | set(DATA_RUNS) | set(OTHER_RUNS)
    assert runs | set(UNRUN) == set(SCRIPTS) and not runs & set(UNRUN)


def _run(name: str, argv: list[str], tmp_path, pytestconfig) -> None:
    out = tmp_path / f"{name}.json"
    flag = "--out" if name == "scaling" else "--json"
    command = [sys.executable, str(BENCHMARKS / f"{name}.py"), *argv, flag, str(out)]
    # Within the test's own limit (--timeout), so that a stuck script ends with its output.
    limit = float(pytestconfig.getoption("timeout") or 300) - 20
    env = compiling_env() if name in COMPILING else None
    run = subprocess.run(command, capture_output=True, text=True, timeout=limit, env=env)
    if run.returncode and "ModuleNotFoundError" in run.stderr:
        missing = run.stderr.strip().splitlines()[-1]
        if any(f"'{m}" in missing for m in OPTIONAL):
            pytest.skip(f"needs the bench extra ({missing})")
    assert run.returncode == 0, run.stderr[-3000:]
    assert json.loads(out.read_text())


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(TOY_RUNS) + sorted(OTHER_RUNS))
def test_benchmark_runs_at_a_toy_size(name, tmp_path, pytestconfig):
    _run(name, {**TOY_RUNS, **OTHER_RUNS}[name], tmp_path, pytestconfig)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(DATA_RUNS))
def test_benchmark_runs_on_the_shared_data_at_a_toy_size(name, tmp_path, pytestconfig):
    needs, argv = DATA_RUNS[name]
    missing = [n for n in needs if not (DATA / n).exists()]
    if missing:
        pytest.skip(f"needs {', '.join(missing)} in {DATA} (set INR_DATA)")
    for n in needs:  # not str.format: a dot in a path ("stent.npy") reads as an attribute
        argv = [a.replace("{" + n + "}", str(DATA / n)) for a in argv]
    _run(name, argv, tmp_path, pytestconfig)


@pytest.mark.parametrize("method", ["cubic", "pchip"])
def test_codec_bd_rate_is_the_mean_log_rate_gap(method, monkeypatch):
    """Against curves whose log rate is a known function of PSNR, the delta rate is
    ``exp(mean gap over the shared PSNR interval) - 1``: exact for the cubic on polynomials
    of degree <= 3, and PCHIP's converges to it on dense points."""
    bd_rate = _benchmark("codec", monkeypatch).bd_rate
    psnr = np.arange(16.0, 42.0, 0.25)

    def curve(log_rate):
        return list(zip(np.exp(log_rate(psnr)), psnr, strict=True))

    def ours(p):
        return -2.0 + 0.1 * (p - 25) + 0.004 * (p - 25) ** 2

    def theirs(p):
        return -1.9 + 0.12 * (p - 25)

    inside = [psnr[(np.exp(f(psnr)) >= 0.2) & (np.exp(f(psnr)) <= 1.0)] for f in (ours, theirs)]
    low, high = max(i.min() for i in inside), min(i.max() for i in inside)
    # ours - theirs = 0.004 u^2 - 0.02 u - 0.1 with u = PSNR - 25, integrated in closed form.
    antiderivative = np.polyint([0.004, -0.02, -0.1])
    gap = np.diff(np.polyval(antiderivative, [low - 25, high - 25]))[0] / (high - low)
    expected = 100 * (np.exp(gap) - 1)
    measured = bd_rate(curve(ours), curve(theirs), 0.2, 1.0, method)
    assert abs(expected) > 1.0 and measured == pytest.approx(expected, abs=1e-3)
    # A curve of the same shape at 1.25x the rate: -20% for any interpolation.
    shifted = [(1.25 * r, p) for r, p in curve(ours)]
    assert bd_rate(curve(ours), shifted, 0.2, 1.0, method) == pytest.approx(-20.0, abs=1e-9)


def test_codec_bd_rate_needs_the_range_covered(monkeypatch):
    bd_rate = _benchmark("codec", monkeypatch).bd_rate
    few = [(0.05, 20.0), (0.1, 22.0), (0.3, 25.0), (2.0, 35.0)]  # one point inside
    many = [(0.1, 22.0), (0.3, 25.0), (0.6, 28.0), (1.2, 31.0)]
    assert bd_rate(few, many, 0.2, 1.0) is None
    with pytest.raises(ValueError, match="method"):
        bd_rate(many, many, 0.2, 1.0, "linear")

"""Data parallelism over a ``data`` mesh: 4 forced CPU devices against 1.

The multi-device checks run in a subprocess (``tests/_multidevice.py``),
since the device count is fixed when JAX starts; this module asserts on the
differences it reports.  Identical mathematics on any mesh means float32
reduction-order differences only: far below the size of a training step.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import jax
import numpy as np
import pytest

import inr
from inr import distributed
from inr.checkpoint import open_manager
from tests._xla import compiling_env

TOL = 1e-5
# The subprocesses fake several devices on the host CPU; on a GPU machine
# JAX would otherwise pick the (single) GPU and ignore the forced count.
CPU_ONLY = {"JAX_PLATFORMS": "cpu"}


def _four_devices(part: str, images, work: Path) -> dict:
    np.save(work / "data.npy", images)
    # Four devices; small fits, whose time is compiling them.
    env = compiling_env("--xla_force_host_platform_device_count=4", **CPU_ONLY)
    script = Path(__file__).with_name("_multidevice.py")
    args = [sys.executable, str(script), str(work / "data.npy"), str(work / "out.json"), str(work)]
    done = subprocess.run(args + [part], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads((work / "out.json").read_text())


@pytest.fixture(scope="module")
def report(colour_images, tmp_path_factory):
    return _four_devices("core", colour_images, tmp_path_factory.mktemp("multidevice"))


@pytest.fixture(scope="module")
def extended(colour_images, tmp_path_factory):
    return _four_devices("extended", colour_images, tmp_path_factory.mktemp("extended"))


@pytest.fixture(scope="module")
def colour_images():
    from tests.restorator.conftest import make_colour_images

    return make_colour_images()


def test_the_subprocess_has_four_devices(report):
    assert report["devices"] == 4


def test_training_on_4_devices_matches_1(report):
    # The steps moved the parameters by far more than the devices change them.
    assert report["train_moved"] > 1e-3
    assert report["train_4_vs_1"] < TOL


@pytest.mark.slow
def test_sharded_parameters_match_replicated(extended):
    assert extended["train_fsdp_4_vs_1"] < TOL
    # The largest axis that 4 divides is sharded (8, not 6); the rest stay replicated.
    assert extended["fsdp_specs"] == {"wide": "P(None, 'data')", "odd": "P()", "scalar": "P()"}


@pytest.mark.slow
def test_diffusion_on_4_devices_matches_1(extended):
    assert extended["diffusion_4_vs_1"] < TOL
    assert extended["diffusion_render_4_vs_1"] < TOL


def test_batch_must_split_over_the_devices(report):
    assert "batch_size (6)" in report["batch_error"]
    assert "4 devices" in report["batch_error"]


def test_render_on_4_devices_matches_1(report):
    for key in ("render", "render_region", "render_chunked"):
        assert report[f"{key}_4_vs_1"] < TOL, key


def test_fit_images_on_4_devices_matches_1(report):
    assert report["fit_params_4_vs_1"] < TOL
    assert report["fit_history_4_vs_1"] < TOL
    assert report["fit_single_vs_batched"] < TOL
    assert report["fit_shapes"] == [[3, 20], [3, 8, 8, 3]]
    assert report["fit_render_4_vs_1"] < TOL
    assert report["fit_gradient_4_vs_1"] < TOL


def test_every_objectives_declared_rows_split_over_4_devices(report):
    """Each device holds its share of every leaf an objective declares: the split itself."""
    kinds = {"values", "gradients", "laplacian", "sdf", "radiance", "sinogram", "helmholtz",
             "wave", "poisson", "meta"}  # fmt: skip
    assert set(report["splits"]) == kinds
    for name, leaves in report["splits"].items():
        assert leaves, name
        for rows, on_one in leaves:
            assert on_one * 4 == rows, (name, rows, on_one)
    assert "91 rows" in report["split_error"] or "(91,)" in report["split_error"]
    assert "4 devices" in report["split_error"]


def test_fit_signal_points_split_over_4_devices_match_1(report):
    assert report["signal_params_4_vs_1"] < TOL
    assert report["latents_4_vs_1"] < TOL


@pytest.mark.slow
def test_every_fit_takes_a_mesh_and_is_the_same_on_4_devices(extended):
    """mesh= on a gradient fit (its pixels split), a shape (its points) and meta-learning."""
    for name in ("sdf_4_vs_1", "meta_4_vs_1"):
        assert extended[name] < TOL, name
    # Sums in parts round differently, and Adam's first steps are signs of the gradient:
    # a component near zero may step +-lr (1e-4) apart, never more.
    assert extended["gradients_4_vs_1"] < 2e-4


@pytest.mark.slow
def test_checkpoint_from_4_devices_resumes_on_1_and_2(extended):
    for n in (1, 2):
        assert extended[f"resume_on_{n}_steps"] == [4, 8]
        assert extended[f"resume_on_{n}_vs_4"] < TOL


# -- one process, one device --------------------------------------------------


def test_default_mesh_is_every_device():
    mesh = distributed.as_mesh(None)
    assert mesh.axis_names == ("data",)
    assert distributed.data_size(mesh) == jax.device_count()


@pytest.mark.parametrize(
    "bad, match",
    [(0, "1.."), (jax.device_count() + 1, "1.."), ("four", "device count")],
)
def test_bad_meshes_are_rejected(bad, match):
    with pytest.raises(ValueError, match=match):
        distributed.as_mesh(bad)


def test_a_mesh_needs_a_data_axis():
    mesh = jax.sharding.Mesh(np.asarray(jax.devices()), ("model",))
    with pytest.raises(ValueError, match="'data' axis"):
        distributed.as_mesh(mesh)


def test_initialize_is_a_no_op_without_a_job(monkeypatch):
    for name in ("JAX_COORDINATOR_ADDRESS", "JAX_NUM_PROCESSES", "JAX_PROCESS_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("INR_DISTRIBUTED", raising=False)
    assert distributed.initialize() is False


def test_initialize_checks_its_environment(monkeypatch):
    monkeypatch.setenv("JAX_NUM_PROCESSES", "two")
    with pytest.raises(ValueError, match="JAX_NUM_PROCESSES"):
        distributed.initialize()


def test_replicate_keeps_leaves_already_in_place():
    """No copy for leaves already replicated; other leaves are put on the mesh."""
    mesh = distributed.as_mesh(None)
    placed = jax.device_put(np.arange(6.0, dtype=np.float32), distributed.replicated(mesh))
    tree = distributed.replicate({"a": placed, "b": np.ones((2, 3), np.float32)}, mesh)
    assert tree["a"] is placed
    assert tree["b"].sharding.is_equivalent_to(distributed.replicated(mesh), 2)
    np.testing.assert_array_equal(np.asarray(tree["b"]), np.ones((2, 3)))


def test_fit_groups_fit_cpu_cache_and_fill_accelerators():
    """Images per vmapped group: L2-sized on a CPU, the whole share on a GPU."""
    from types import SimpleNamespace

    from inr.loop import group_size

    def mesh_on(platform):
        return SimpleNamespace(devices=np.array([SimpleNamespace(platform=platform)]))

    assert group_size(mesh_on("cpu"), 1024, 256, 64) == 4
    assert group_size(mesh_on("cpu"), 1024, 16, 64) == 64
    assert group_size(mesh_on("gpu"), 1024, 256, 64) == 64
    assert group_size(mesh_on("gpu"), 65536, 2048, 64) == 1  # never below one image


def test_pad_rows_repeats_the_last_row():
    x = np.arange(6.0).reshape(3, 2)
    np.testing.assert_array_equal(distributed.pad_rows(x, 5)[3:], [[4, 5], [4, 5]])
    assert distributed.pad_rows(x, 3) is x


def test_one_process_reads_every_file():
    assert distributed.process_shard(["a", "b", "c"]) == ["a", "b", "c"]


def test_global_batch_keeps_the_rows():
    mesh = distributed.make_mesh(1)
    batch = {"x": np.arange(8.0).reshape(4, 2)}
    out = distributed.global_batch(batch, mesh)
    np.testing.assert_array_equal(out["x"], batch["x"])
    assert out["x"].sharding == distributed.data_sharding(mesh)


def test_evaluate_chunked_on_a_mesh_is_pointwise():
    points = np.random.default_rng(0).uniform(-1, 1, (1001, 2)).astype(np.float32)
    fn = lambda p: np.float32(3.0) * p[:, :1] + p[:, 1:] ** 2
    mesh = distributed.make_mesh(1)
    got = jax.jit(lambda p: inr.evaluate_chunked(fn, p, 128, mesh))(points)
    np.testing.assert_allclose(got, fn(points), rtol=1e-6, atol=1e-7)


# -- two processes: a multi-host job on localhost ------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def multihost(colour_images, tmp_path_factory):
    work = tmp_path_factory.mktemp("multihost")
    data = work / "data"
    data.mkdir()
    for i, image in enumerate(colour_images[:7]):  # odd: the hosts get 4 and 3 files
        inr.save_image(data / f"{i}.png", image)
    script = Path(__file__).with_name("_multihost.py")
    port = str(_free_port())
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"} | CPU_ONLY
    logs = [work / f"process{pid}.log" for pid in (0, 1)]
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), str(pid), port, str(data), str(work)],
            env=env,
            stdout=open(logs[pid], "w"),  # noqa: SIM115 (closed with the process)
            stderr=subprocess.STDOUT,
        )
        for pid in (0, 1)
    ]
    for p, log in zip(procs, logs, strict=True):
        assert p.wait(timeout=600) == 0, log.read_text()[-3000:]
    reports = [json.loads((work / f"process{pid}.json").read_text()) for pid in (0, 1)]
    return work, data, reports


@pytest.mark.slow
def test_two_processes_form_one_job(multihost):
    _, _, reports = multihost
    assert [r["processes"] for r in reports] == [2, 2]
    assert [r["devices"] for r in reports] == [4, 4]
    # Each host reads its own share of the file list.
    assert [r["files"] for r in reports] == [4, 3]
    # The data-parallel step keeps every host's parameters identical.
    assert reports[0]["checksum"] == reports[1]["checksum"]


@pytest.mark.slow
def test_multihost_render_is_whole_on_every_host(multihost):
    work, data, _ = multihost
    r0, r1 = np.load(work / "render0.npy"), np.load(work / "render1.npy")
    np.testing.assert_array_equal(r0, r1)
    gray = inr.rgb_to_gray(inr.load_image(data / "0.png"))
    here = inr.load_restorator(work / "model.msgpack").restore(gray, size=(21, 19))
    np.testing.assert_allclose(r0, here, atol=1e-5)


@pytest.mark.slow
def test_multihost_checkpoint_is_written_once_and_restores_here(multihost, tmp_path):
    work, data, _ = multihost
    log = (work / "ckpt" / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["step"] for line in log] == [6]  # process 0 only
    saved = inr.load_restorator(work / "model.msgpack")
    restored = inr.load_restorator(work / "ckpt")
    for a, b in zip(jax.tree.leaves(saved.params), jax.tree.leaves(restored.params), strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    # One process, one device: resume from step 3 of the two-host run and finish.
    shutil.copytree(work / "ckpt", tmp_path / "ckpt")
    manager = open_manager(tmp_path / "ckpt")
    manager.delete(6)
    manager.close()
    inr.train_restorator(
        data,
        saved.config,
        inr.TrainConfig(
            inr.restorator.Examples(points_per_image=64),
            steps=6,
            batch_size=8,
            optimizer=inr.restorator.restorator_optimizer(6, 1e-2),
        ),  # examples/train.py's, from the flags of _multihost.py
        checkpoints=inr.Checkpoints(tmp_path / "ckpt", save_every=3),
        progress=False,
    )
    assert open_manager(tmp_path / "ckpt").all_steps() == [3, 6]

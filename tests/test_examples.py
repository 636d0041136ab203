"""The examples run end to end at toy sizes (they are documentation, so they must not rot)."""

import sys
from pathlib import Path

import chex
import numpy as np
import pytest

import inr
from inr import meta

EXAMPLES = Path(__file__).parents[1] / "examples"


@pytest.fixture
def examples_path(monkeypatch):
    pytest.importorskip("matplotlib")
    monkeypatch.syspath_prepend(str(EXAMPLES))
    for name in ("_figures", "merge"):
        monkeypatch.delitem(sys.modules, name, raising=False)


def test_merge_writes_its_figure(examples_path, tmp_path):
    import merge

    # Small clone images from files: the built-in ones are photos of 300 to 640 pixels.
    rng = np.random.default_rng(0)
    for name, shape in (("src", (24, 32, 3)), ("dst", (40, 48, 3))):
        inr.save_image(tmp_path / f"{name}.png", rng.uniform(0, 1, shape).astype(np.float32))
    out = tmp_path / "merge.png"
    small = ["--size", "32", "--siren-size", "16", "--siren-steps", "2", "--out", str(out)]
    merge.main([*small, "--src", str(tmp_path / "src.png"), "--dst", str(tmp_path / "dst.png")])
    assert out.stat().st_size > 0


def test_naive_paste_clips_to_the_destination(examples_path):
    from merge import paste

    src = np.ones((4, 4, 3), np.float32)
    dst = np.zeros((6, 6, 3), np.float32)
    mask = np.zeros((4, 4), bool)
    mask[1:, 1:] = True
    out = paste(src, dst, mask, (3, -1))  # right half and top row fall outside
    want = np.zeros((6, 6), bool)
    want[0:3, 4:6] = True
    np.testing.assert_array_equal(out[..., 0] == 1, want)
    assert not dst.any()


@pytest.mark.slow
def test_reference_upscale_writes_its_figure(examples_path, tmp_path):
    """A tiny reference model, trained for a few steps on 'people' with two photos each."""
    import reference_upscale

    import inr

    rng = np.random.default_rng(0)
    folder = tmp_path / "faces"
    folder.mkdir()
    for i in range(4):
        inr.save_image(folder / f"p{i // 2}_{i}.png", rng.uniform(0, 1, (180, 170, 3)))
    config = inr.RestoratorConfig(
        task="upscale", input_size=16, features=(4, 8), latent=4, hidden=8, blocks=1,
        pos_frequencies=1, reference=True, texture=(4,),
    )  # fmt: skip
    train = inr.TrainConfig(inr.restorator.Examples(points_per_image=16), steps=2, batch_size=2)
    model = inr.train_restorator(folder, config, train, progress=False)
    inr.save_restorator(tmp_path / "ref.msgpack", model)
    out = tmp_path / "ref.png"
    reference_upscale.main(
        [
            "--model",
            str(tmp_path / "ref.msgpack"),
            "--data",
            str(folder),
            "--faces",
            "1",
            "--out",
            str(out),
        ]  # fmt: skip
    )
    assert out.stat().st_size > 0


@pytest.mark.parametrize(
    "name, argv",
    [
        ("fit_audio", ["--seconds", "0.02", "--steps", "2", "--width", "8"]),
        ("fit_video", ["--frames", "4", "--steps", "2", "--points", "64"]),
        ("fit_volume", ["--size", "24", "--steps", "2", "--points", "64"]),
        pytest.param(
            "fit_nerf",  # without the lego folder: the built-in spheres
            [
                "--data",
                "missing",
                "--size",
                "16",
                "--steps",
                "20",
                "--rays",
                "256",
                "--frames",
                "2",
            ],  # fmt: skip
            marks=pytest.mark.slow,  # tests/nerf covers the fit, the grid and the renders
        ),
        pytest.param(
            "fit_ct", ["--size", "32", "--views", "8", "--steps", "20"], marks=pytest.mark.slow
        ),
        pytest.param(
            "compress", ["--size", "32", "--steps", "20"], marks=pytest.mark.slow
        ),  # tests/codec covers the file, its decoding and its rate
        pytest.param(
            "solve_helmholtz",
            ["--features", "64", "--points", "600", "--size", "32"],
            marks=pytest.mark.slow,
        ),
        pytest.param(
            "solve_wave",
            ["--steps", "5", "--frames", "2", "--size", "32", "--width", "16"],
            marks=pytest.mark.slow,
        ),
        pytest.param(
            "fit_shape",
            ["--samples", "2000", "--steps", "30", "--size", "16", "--resolution", "32"],
            marks=pytest.mark.slow,  # shapes' own tests cover fit, mesh and trace
        ),
    ],
)
def test_signal_examples_write_their_outputs(examples_path, monkeypatch, tmp_path, name, argv):
    """Each signal example fits its built-in signal for a few steps and writes its files."""
    import importlib

    monkeypatch.delitem(sys.modules, name, raising=False)
    out = tmp_path / f"{name}.png"
    importlib.import_module(name).main([*argv, "--out", str(out)])
    assert out.stat().st_size > 0
    sides = {
        "fit_audio": ".wav",
        "fit_video": ".mp4",
        "fit_shape": ".obj",
        "fit_nerf": ".gif",
        "compress": ".inr",
    }
    side = sides.get(name)
    assert side is None or out.with_suffix(side).stat().st_size > 0


def test_meta_examples_train_and_use_their_weights(examples_path, tmp_path):
    """train_meta.py exports an init and a functa from a folder; meta_fit.py draws with them."""
    import meta_fit
    import train_meta

    folder = tmp_path / "faces"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(3):
        inr.save_image(folder / f"{i}.png", rng.uniform(0, 1, (20, 24, 3)).astype(np.float32))
    small = ["--data", str(folder), "--size", "16", "--width", "16", "--depth", "1", "--steps", "2",
             "--batch-size", "2", "--log-every", "1", "--inner-steps", "1"]  # fmt: skip
    train_meta.main([*small, "--kind", "init", "--export", str(tmp_path / "init.msgpack")])
    train_meta.main([*small, "--kind", "functa", "--latent", "8",
                     "--checkpoint-dir", str(tmp_path / "run"),
                     "--export", str(tmp_path / "functa.msgpack")])  # fmt: skip
    assert (tmp_path / "run" / "metrics.jsonl").read_text().count("\n") == 2
    trained = meta.load_functa(tmp_path / "functa.msgpack")
    further = ["--more", str(tmp_path / "functa.msgpack"), "--outer-lr", "0"]
    train_meta.main([*small, "--kind", "functa", "--latent", "8", *further,
                     "--export", str(tmp_path / "more.msgpack")])  # fmt: skip
    more = meta.load_functa(tmp_path / "more.msgpack")  # a zero outer rate: where it began
    chex.assert_trees_all_close((more.params, more.rates), (trained.params, trained.rates))
    assert more.card["start"].endswith("functa.msgpack, trained further")
    out = tmp_path / "meta_fit.png"
    meta_fit.main(["--data", str(folder), "--faces", "2", "--init", str(tmp_path / "init.msgpack"),
                   "--functa", str(tmp_path / "functa.msgpack"), "--out", str(out)])  # fmt: skip
    assert out.stat().st_size > 0


def test_reference_upscale_runs_without_a_data_folder(examples_path, tmp_path):
    """The built-in face, its wider framing as the reference, the shipped model named."""
    import reference_upscale

    titles, panels = reference_upscale.rows(
        inr.load_restorator("pretrained:celeba-refsr"),
        None,
        reference_upscale.builtin_pair(),
        truth_reference=False,
    )
    assert titles[3] == "pretrained:celeba-refsr\nno reference"
    assert "truth as reference" not in titles
    (panel,) = panels
    assert [p.shape for p in panel] == [(40, 40, 3)] + [(160, 160, 3)] * 5
    truth, bicubic, model = panel[-1], panel[2], panel[4]
    assert inr.psnr(np.clip(model, 0, 1), truth) > inr.psnr(bicubic, truth)


def test_train_saves_weights_and_a_figure_from_the_built_in_photos(
    examples_path, monkeypatch, tmp_path
):
    """With no data folder, train.py trains on built-in photos and keeps what it made."""
    import importlib

    monkeypatch.delitem(sys.modules, "train", raising=False)
    train = importlib.import_module("train")
    out = tmp_path / "mine.msgpack"
    train.main(["--steps", "2", "--batch-size", "2", "--points", "16", "--export", str(out)])
    model = inr.load_restorator(out)
    assert model.config.task == "restore"
    assert out.with_suffix(".png").stat().st_size > 0


@pytest.mark.parametrize("name", sorted(p.stem for p in EXAMPLES.glob("[!_]*.py")))
def test_every_example_imports_and_has_a_main(examples_path, monkeypatch, name):
    import importlib

    monkeypatch.delitem(sys.modules, name, raising=False)
    assert callable(importlib.import_module(name).main)


@pytest.mark.slow
@pytest.mark.parametrize(
    "name, argv",
    [
        ("colorize", ["--decoding", "diffusion"]),
        ("upscale", ["--size", "16", "--steps", "2", "--width", "16"]),
        ("upscale", ["--model", "pretrained", "--size", "32"]),
        ("fit_image", ["--size", "16", "--steps", "2", "--width", "16"]),
        ("compare_activations", ["--size", "16", "--steps", "2", "--width", "16"]),
    ],
)
def test_image_examples_write_their_figures(examples_path, monkeypatch, tmp_path, name, argv):
    import importlib

    monkeypatch.delitem(sys.modules, name, raising=False)
    out = tmp_path / f"{name}.png"
    importlib.import_module(name).main([*argv, "--out", str(out)])
    assert out.stat().st_size > 0

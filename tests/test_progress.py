"""One progress interface for every fit: (step, total, metrics), or lines at a sensible rate."""

import io

import numpy as np
import pytest

import inr
from inr import meta
from inr.progress import TextProgress, as_progress


def test_a_callable_sees_every_metric_the_objective_reports(camera64):
    seen = []
    image = camera64[::4, ::4]
    inr.fit_image(image, model=inr.Siren(16, 1), steps=250, progress=lambda *a: seen.append(a))
    assert [(s, t) for s, t, _ in seen] == [(100, 250), (200, 250), (250, 250)]
    assert all(m.keys() == {"loss", "psnr"} and isinstance(m["psnr"], float) for *_, m in seen)
    grad = np.asarray(inr.image_gradient(image))
    seen.clear()
    inr.fit_gradients(grad, model=inr.Siren(16, 1), steps=5, progress=lambda *a: seen.append(a))
    assert seen[-1][2].keys() == {"loss"}  # no truth, no PSNR: none is made up


def test_meta_training_reports_the_same_way():
    faces = np.random.default_rng(0).uniform(size=(4, 6, 6, 1)).astype(np.float32)
    seen = []
    config = meta.MetaConfig(inner_steps=1, batch_size=2, steps=4, log_every=2)
    meta.meta_train(faces, model=inr.Siren(8, 1, 1), config=config,
                    progress=lambda *a: seen.append(a))  # fmt: skip
    assert [(s, t) for s, t, _ in seen] == [(2, 4), (4, 4)]
    assert seen[-1][2].keys() == {"loss", "psnr"}


def test_text_progress_prints_the_first_and_last_lines_and_rations_the_rest():
    out = io.StringIO()
    report = TextProgress(every_s=3600.0, stream=out)
    for step in (100, 200, 300):
        report(step, 300, {"loss": 1.5e-3, "psnr": 31.234})
    lines = out.getvalue().splitlines()
    assert len(lines) == 2 and lines[0].startswith("step    100/300  loss 0.0015  psnr  31.23 dB")
    assert lines[1].startswith("step    300/300")


def test_progress_must_be_true_false_or_a_callable():
    assert as_progress(False) is None and as_progress(None) is None
    assert isinstance(as_progress(True), TextProgress)
    with pytest.raises(ValueError, match="progress must be"):
        as_progress("yes")

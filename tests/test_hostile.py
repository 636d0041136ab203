"""Hostile input at the public boundary: a ``ValueError`` that names the argument, nothing lost.

One row per bad call: the call, and a pattern its message must contain (the
argument's name and what was expected).  Rows build their arrays when they
run, and every call fails before any compilation, so the table is cheap.
"""

import warnings

import jax
import numpy as np
import optax
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import inr
from inr._validate import as_image
from inr.diffusion import SamplerConfig

IMG = np.full((8, 8), 0.5, np.float32)
RGB = np.full((8, 8, 3), 0.5, np.float32)
MASK = np.zeros((8, 8), bool)
MASK[2:6, 2:6] = True
NAN = float("nan")


def _restorator():
    return inr.load_restorator("pretrained:restore")


def _mask(value, shape=(8, 8)):
    return np.full(shape, value)


ROWS = {
    # images
    "nan image": (lambda: inr.fit_image(np.full((4, 4), NAN)), "image contains NaN"),
    "inf image": (lambda: inr.resize(np.full((4, 4), np.inf), (2, 2)), "image contains NaN"),
    "rank 1 image": (lambda: inr.fit_image(np.zeros(4)), "image must be shaped"),
    "empty image": (lambda: inr.psnr(np.zeros((0, 4)), np.zeros((0, 4))), "empty"),
    "5 channels": (lambda: inr.fit_image(np.zeros((4, 4, 5))), "1 to 4 channels"),
    "int64 image": (lambda: inr.fit_image(np.zeros((4, 4), np.int64)), "dtype int64"),
    "bool image": (lambda: inr.save_image("x.png", np.zeros((4, 4), bool)), "dtype bool"),
    "above one": (lambda: inr.ssim(IMG + 1, IMG), "must lie in \\[0, 1\\]"),
    "string image": (lambda: inr.fit_image("camera"), "image must be shaped"),
    # fitting
    "zero steps": (lambda: inr.fit_image(IMG, steps=0), "steps must be a positive integer"),
    "fractional steps": (lambda: inr.fit_image(IMG, steps=2.5), "steps must be a positive"),
    "bool steps": (lambda: inr.fit_images(IMG[None], steps=True), "steps must be a positive"),
    "unknown target": (lambda: inr.fit_image(IMG, target="edges"), "target must be one of"),
    "zero points": (lambda: inr.fit_image(IMG, points=0), "points must be a positive"),
    "points on gradients": (
        lambda: inr.fit_image(IMG, points=8, target="gradients"),
        "points .* needs target='values'",
    ),
    "hash grid of 4-D points": (
        lambda: inr.HashGrid().init(jax.random.PRNGKey(0), np.zeros((1, 4))),
        "2-D or 3-D",
    ),
    "hash grid growth below 1": (lambda: inr.HashGrid(growth=0.5), "growth must be"),
    "unknown hash grid implementation": (
        lambda: inr.HashGrid(implementation="cuda"),
        "implementation must be one of",
    ),
    "empty texture": (lambda: inr.RestoratorConfig(reference=True, texture=()), "texture must"),
    "unknown preset": (lambda: inr.RestoratorConfig.preset("huge"), "preset must be one of"),
    "unknown pipeline": (lambda: inr.TrainConfig(pipeline="gpu"), "pipeline must be one of"),
    "model not a module": (lambda: inr.fit_image(IMG, model="siren"), "model must be a Flax"),
    "model channels": (
        lambda: inr.fit_image(RGB, model=inr.Siren(8, 1)),
        "model must map points .* to \\(n, 3\\)",
    ),
    "optimizer a number": (
        lambda: inr.fit_image(IMG, optimizer=1e-4),
        "optimizer must be an optax",
    ),
    "zero width": (
        lambda: inr.Siren(hidden_features=0),
        "Siren.hidden_features must be a positive",
    ),
    "negative width": (lambda: inr.Siren(hidden_features=-3), "Siren.hidden_features"),
    "negative depth": (lambda: inr.Siren(hidden_layers=-1), "Siren.hidden_layers must be"),
    "MLP width": (lambda: inr.MLP(hidden_features=0), "MLP.hidden_features"),
    "Siren integer dtype": (lambda: inr.Siren(dtype=np.int8), "Siren.dtype must be None"),
    "sine layer dtype": (lambda: inr.SineLayer(8, dtype="fast"), "SineLayer.dtype must be"),
    "grad shape": (lambda: inr.fit_gradients(np.zeros((4, 4, 3))), "grad must be shaped"),
    "anneal above 1": (
        lambda: inr.fit_gradients(np.zeros((4, 4, 2)), anneal=1.5),
        "anneal must be None or a number in \\[0, 1\\]",
    ),
    "anneal nan": (lambda: inr.fit_image(IMG, target="gradients", anneal=NAN), "anneal must be"),
    "grad nan": (lambda: inr.fit_gradients(np.full((4, 4, 2), NAN)), "grad contains NaN"),
    "fit mean": (
        lambda: inr.fit_gradients(np.zeros((4, 4, 3, 2)), mean=[0.5, 0.5]),
        "mean must be a finite number or 3",
    ),
    # rendering
    "nan region": (lambda: _fit().render(4, 4, region=(NAN, 0, 1, 1)), "region must be finite"),
    "empty region": (lambda: _fit().render(4, 4, region=(0.5, 0, 0.5, 1)), "region must have"),
    "zero size": (lambda: _fit().render(0, 4), "size must be two positive integers"),
    "fractional size": (lambda: _fit().render(4.5, 4), "size must be two positive integers"),
    # Poisson
    "rhs nan": (lambda: inr.poisson_solve(np.full((4, 4), NAN)), "rhs contains NaN"),
    "rhs string": (lambda: inr.poisson_solve("abc"), "rhs must be a numeric array"),
    "rhs rank": (lambda: inr.poisson_solve(np.zeros(4)), "rhs must be shaped"),
    "solve mean": (
        lambda: inr.poisson_solve(np.zeros((8, 8, 3)), mean=[1.0, 2.0]),
        "mean must be a finite number or 3",
    ),
    "boundary": (lambda: inr.poisson_solve(IMG, boundary="periodic"), "boundary must be one of"),
    "no boundary values": (
        lambda: inr.poisson_solve(IMG, boundary="dirichlet"),
        "needs boundary_values",
    ),
    "boundary values shape": (
        lambda: inr.poisson_solve(IMG, boundary="dirichlet", boundary_values=np.zeros((8, 7))),
        "boundary_values must have the shape of rhs",
    ),
    "reconstruct grad": (lambda: inr.reconstruct(np.zeros((4, 4, 3))), "grad must be shaped"),
    "merge one image": (lambda: inr.merge([RGB]), "images must hold at least two"),
    "merge shapes": (lambda: inr.merge([RGB, IMG]), "shapes must match"),
    "merge mode": (lambda: inr.merge([RGB, RGB], mode="median"), "mode must be one of"),
    "merge weights": (lambda: inr.merge([RGB, RGB], weights=[1, NAN]), "weights must be 2 finite"),
    "merge zero weights": (lambda: inr.merge([IMG, IMG], weights=[1, -1]), "must not sum to zero"),
    "merge a string": (lambda: inr.merge_gradients("ab"), "images must be a sequence"),
    # cloning and local edits
    "clone mode": (lambda: inr.seamless_clone(RGB, RGB, MASK, mode="blend"), "mode must be one of"),
    "clone tol zero": (lambda: inr.seamless_clone(RGB, RGB, MASK, tol=0), "tol must be a number"),
    "clone tol negative": (lambda: inr.seamless_clone(RGB, RGB, MASK, tol=-1), "tol must be"),
    "offset of three": (
        lambda: inr.seamless_clone(RGB, RGB, MASK, (1, 2, 3)),
        "offset must be two",
    ),
    "offset nan": (lambda: inr.seamless_clone(RGB, RGB, MASK, (NAN, 0)), "offset must be two"),
    "offset fraction": (lambda: inr.seamless_clone(RGB, RGB, MASK, (1.5, 2)), "offset must be two"),
    "soft mask": (lambda: inr.seamless_clone(RGB, RGB, _mask(0.5)), "mask must be binary"),
    "mask channels differ": (
        lambda: inr.seamless_clone(RGB, RGB, np.stack([MASK, ~MASK, MASK], -1)),
        "mask has channels that differ",
    ),
    "mask shape": (lambda: inr.seamless_clone(RGB, RGB, np.ones((5, 5))), "mask shape"),
    "mask nan": (lambda: inr.color_change(RGB, _mask(NAN), (1, 1, 1)), "mask must be binary"),
    "clone channels": (lambda: inr.seamless_clone(IMG, RGB, MASK), "same channels"),
    "factors": (lambda: inr.color_change(RGB, MASK, (1, 2)), "factors must be 3 finite"),
    "threshold": (lambda: inr.texture_flatten(RGB, MASK, threshold=-1), "threshold must be"),
    "alpha": (lambda: inr.illumination_change(RGB, MASK, alpha=0), "alpha must be"),
    "edit tol": (lambda: inr.texture_flatten(RGB, MASK, tol=NAN), "tol must be"),
    # restorators
    "stochasticity nan": (lambda: SamplerConfig(stochasticity=NAN), "stochasticity must be"),
    "stochasticity negative": (lambda: SamplerConfig(stochasticity=-1), "stochasticity must be"),
    "stride zero": (lambda: SamplerConfig(stride=0), "stride must be a positive integer"),
    "sampler on single pass": (
        lambda: _restorator().restore(np.zeros((64, 64)), sampler=SamplerConfig(stride=8)),
        "sampler is for diffusion restorators",
    ),
    "chunk zero": (lambda: _restorator().restore(np.zeros((64, 64)), chunk=0), "chunk must be"),
    "chunk negative": (lambda: _restorator().restore(np.zeros((64, 64)), chunk=-5), "chunk must"),
    "restore size": (lambda: _restorator().restore(np.zeros((64, 64)), size=(0, 4)), "size must"),
    "restore colour": (lambda: _restorator().restore(RGB), "image must be grayscale"),
    "unknown pretrained": (lambda: inr.load_restorator("pretrained:denoise"), "pretrained models"),
    "train lr nan": (lambda: inr.restorator.restorator_optimizer(10, NAN), "lr must be a number"),
    "train lr negative": (lambda: inr.restorator.restorator_optimizer(10, -1e-3), "lr must be"),
    "train optimizer": (lambda: inr.TrainConfig(optimizer="adam"), "optimizer must be an optax"),
    "train examples": (lambda: inr.TrainConfig(examples={}), "examples must be an Examples"),
    "train steps": (lambda: inr.TrainConfig(steps=0), "steps must be a positive integer"),
    "train loss": (lambda: inr.TrainConfig(loss="huber"), "loss error must be one of"),
    "train schedule": (
        lambda: inr.restorator.restorator_optimizer(10, schedule="step"),
        "schedule must be 'cosine' or 'constant'",
    ),
    "train clip": (
        lambda: inr.restorator.restorator_optimizer(10, clip=0),
        "clip must be a number",
    ),
    "train masking": (lambda: inr.restorator.Examples(masking=2.5), "masking must be None"),
    "train query": (lambda: inr.restorator.Examples(query="grid"), "query must be one of"),
    "residual blocks": (
        lambda: inr.RestoratorConfig(residual_blocks=-2),
        "residual_blocks must be >= 0",
    ),
    "train config type": (
        lambda: inr.train_restorator(RGB[None], inr.TrainConfig()),
        "config must be a RestoratorConfig",
    ),
    "checkpoints type": (
        lambda: inr.train_restorator(RGB[None], checkpoints=3),
        "checkpoints must be None, a folder or Checkpoints",
    ),
    "save every": (lambda: inr.Checkpoints("runs/x", save_every=0), "save_every must be"),
    "config task": (lambda: inr.RestoratorConfig(task="denoise"), "task must be one of"),
    "empty folder": (lambda: inr.train_restorator(_empty_dir()), "data folder .* holds no"),
    # files
    "unknown format": (lambda: inr.save_image(_tmp("x.notaformat"), IMG), "path must end in one"),
    "missing file": (lambda: inr.load_image(_tmp("missing.png")), "is not a file"),
    "text file": (lambda: inr.load_image(_text_file()), "is not a readable image"),
}

_TMP = {}


def _tmp(name):
    return _TMP["dir"] / name


def _text_file():
    path = _tmp("notes.png")
    path.write_text("not an image")
    return path


def _empty_dir():
    path = _tmp("empty")
    path.mkdir(exist_ok=True)
    return path


def _fit():
    if "fit" not in _TMP:
        _TMP["fit"] = inr.fit_image(IMG, model=inr.Siren(4, 0), steps=1)
    return _TMP["fit"]


@pytest.fixture(autouse=True)
def _scratch(tmp_path):
    _TMP["dir"] = tmp_path


@pytest.mark.parametrize("name", list(ROWS))
def test_bad_input_names_the_argument(name):
    call, pattern = ROWS[name]
    with warnings.catch_warnings():
        warnings.simplefilter("error", ResourceWarning)  # no file left open either
        with pytest.raises(ValueError, match=pattern):
            call()


def test_a_failed_save_leaves_no_file(tmp_path, monkeypatch):
    import imageio.v3 as iio

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(iio, "imwrite", broken)
    with pytest.raises(OSError, match="disk full"):
        inr.save_image(tmp_path / "out.png", IMG)
    assert list(tmp_path.iterdir()) == []


def test_no_call_modifies_the_callers_arrays():
    rng = np.random.default_rng(0)
    a, b = rng.random((16, 16, 3)).astype(np.float32), rng.random((16, 16, 3)).astype(np.float32)
    mask = np.zeros((16, 16), bool)
    mask[4:12, 3:13] = True
    grad = rng.standard_normal((16, 16, 3, 2)).astype(np.float32)
    arrays = (a, b, mask, grad)
    before = [x.copy() for x in arrays]
    inr.merge([a, b], mode="max")
    inr.merge_gradients(np.stack([a, b]))
    inr.seamless_clone(a, b, mask, mode="mixed")
    inr.color_change(a, mask, (1.2, 1.0, 0.8))
    inr.illumination_change(a, mask)
    inr.texture_flatten(a, mask)
    inr.reconstruct(grad)
    inr.poisson_solve(a)
    inr.poisson_solve(a, boundary="dirichlet", boundary_values=b)
    inr.image_gradient(a), inr.divergence(grad), inr.laplacian_5pt(a)
    inr.resize(a, (8, 8)), inr.psnr(a, b), inr.ssim(a, b), inr.rgb_to_gray(a)
    inr.fit_image(a, model=inr.Siren(4, 0, 3), steps=1, optimizer=optax.sgd(0.0))
    inr.fit_gradients(grad, model=inr.Siren(4, 0, 3), steps=1)
    for x, y in zip(arrays, before, strict=True):
        np.testing.assert_array_equal(x, y)


_DTYPES = st.sampled_from(["float32", "float64", "uint8", "uint16", "int32", "bool", "complex64"])


@settings(max_examples=40, deadline=None)
@given(
    shape=st.lists(st.integers(0, 6), min_size=0, max_size=5),
    dtype=_DTYPES,
    fill=st.sampled_from([0.0, 0.5, 1.0, 2.0, -1.0, NAN]),
)
def test_any_array_is_an_image_or_a_value_error(shape, dtype, fill):
    """Random shapes, dtypes and values at the image boundary: accepted, or a ValueError."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # casting NaN to an integer dtype warns
        x = np.full(shape, fill).astype(dtype)
    try:
        value = as_image(x)  # the image boundary, on the host
    except ValueError:
        return
    assert value.dtype == np.float32 and value.shape == x.shape
    assert (
        len(shape) in (2, 3)
        and 0 not in shape
        and dtype in ("float32", "float64", "uint8", "uint16")
    )
    if dtype.startswith("float"):
        assert 0 <= fill <= 1  # NaN and out-of-range floats must have been refused


@settings(max_examples=40, deadline=None)
@given(
    shape=st.lists(st.integers(0, 4), min_size=0, max_size=5),
    dtype=_DTYPES,
    fill=st.sampled_from([0.0, 0.5, 2.0, -1.0, NAN]),
)
def test_any_array_is_a_signal_to_score_or_a_value_error(shape, dtype, fill):
    """mse and psnr take any non-empty finite numeric signal, of any shape."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        x = np.full(shape, fill).astype(dtype)
    try:
        value = inr.mse(x, x)
    except ValueError:
        numeric = dtype not in ("bool", "complex64")
        assert x.size == 0 or not numeric or not np.isfinite(x.astype(float)).all()
        return
    assert value == 0.0 and x.size > 0


_NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-5, 5),
    st.booleans(),
    st.text(max_size=3),
    st.none(),
)


@settings(max_examples=60, deadline=None)
@given(region=st.lists(_NUMBERS, min_size=0, max_size=5))
def test_any_region_is_a_rectangle_or_a_value_error(region):
    from inr._validate import as_region

    try:
        x0, y0, x1, y1 = as_region(region)
    except ValueError as exc:
        assert "region" in str(exc)
        return
    assert all(np.isfinite([x0, y0, x1, y1])) and x0 < x1 and y0 < y1


@settings(max_examples=60, deadline=None)
@given(height=_NUMBERS, width=_NUMBERS)
@example(height=0.0, width=float("inf"))  # int(inf) raises OverflowError, not ValueError
def test_any_size_is_two_positive_integers_or_a_value_error(height, width):
    from inr._validate import as_size

    try:
        h, w = as_size(height, width)
    except ValueError as exc:
        assert "size" in str(exc)
        return
    assert isinstance(h, int) and isinstance(w, int) and h > 0 and w > 0


@settings(max_examples=60, deadline=None)
@given(stride=_NUMBERS, stochasticity=_NUMBERS, noise=st.sampled_from(["normal", "zero", "hot"]))
def test_any_sampler_config_is_valid_or_a_value_error(stride, stochasticity, noise):
    try:
        config = SamplerConfig(stride=stride, stochasticity=stochasticity, noise=noise)
    except ValueError as exc:
        assert any(k in str(exc) for k in ("stride", "stochasticity", "noise"))
        return
    assert 0.0 <= config.stochasticity <= 1.0 and config.noise in ("normal", "zero")


@settings(max_examples=60, deadline=None)
@given(steps=_NUMBERS, lr=_NUMBERS, batch_size=_NUMBERS)
def test_any_train_config_is_valid_or_a_value_error(steps, lr, batch_size):
    try:
        optimizer = inr.restorator.restorator_optimizer(steps, lr)
        config = inr.TrainConfig(steps=steps, optimizer=optimizer, batch_size=batch_size)
    except ValueError as exc:
        assert any(k in str(exc) for k in ("steps", "lr", "batch_size"))
        return
    assert config.steps >= 1 and config.batch_size >= 1 and np.isfinite(lr) and lr > 0

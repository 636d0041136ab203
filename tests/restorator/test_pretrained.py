"""The shipped weights load, render, and beat the baselines they start from."""

import numpy as np
import pytest

import inr

from .._compiles import compilations


@pytest.fixture(scope="module")
def astronaut():
    return inr.resize(inr.sample_image("astronaut"), (256, 256), "bicubic")


def _gray_and_oracle(image, side: int):
    """The 64x64 gray input of ``image`` and its bicubic upscale to ``side``, in 3 channels."""
    gray = inr.rgb_to_gray(inr.resize(image, (64, 64), "bicubic"))
    return gray, np.repeat(inr.resize(gray, (side, side), "bicubic")[..., None], 3, axis=-1)


def test_pretrained_upscale_beats_bicubic(astronaut):
    model = inr.load_restorator("pretrained:upscale")
    assert model.config.task == "upscale"
    low = inr.resize(astronaut, (64, 64), "bicubic")
    ours = model.restore(low, size=(256, 256))
    bicubic = inr.resize(low, (256, 256), "bicubic")
    y = lambda im: inr.luma_bt601(im)[4:-4, 4:-4]
    assert inr.psnr(y(ours), y(astronaut)) > inr.psnr(y(bicubic), y(astronaut))


def test_pretrained_restore_renders_colour(astronaut):
    model = inr.load_restorator("pretrained:restore")
    assert model.config.task == "restore" and model.config.input_size == 64
    gray = inr.rgb_to_gray(inr.resize(astronaut, (64, 64), "bicubic"))
    out = model.restore(gray, size=(128, 96))
    assert out.shape == (128, 96, 3) and out.dtype == np.float32
    # It adds colour, and keeps the brightness of its input.
    assert out.std(axis=-1).mean() > 0.01
    small = inr.resize(inr.rgb_to_gray(out), (64, 64), "bicubic")
    assert np.abs(small - gray).mean() < 0.05


def test_a_second_restore_of_the_same_shapes_compiles_nothing(astronaut):
    """Another image of the same shape, at the same size: the predict path's programs again."""
    model = inr.load_restorator("pretrained:restore")
    gray = inr.rgb_to_gray(inr.resize(astronaut, (64, 64), "bicubic"))
    model.restore(gray, size=(128, 96))
    with compilations() as n:
        model.restore(gray[::-1], size=(128, 96))
    assert n[0] == 0


def test_pretrained_restore_beats_the_gray_oracle(astronaut):
    """Colour closer to the truth than the bicubic upscale of the gray input."""
    model = inr.load_restorator("pretrained:restore")
    gray, oracle = _gray_and_oracle(astronaut, 256)
    out = model.restore(gray, size=(256, 256))
    assert inr.mse(out, astronaut) < 0.8 * inr.mse(oracle, astronaut)


def test_pretrained_diffusion_beats_the_gray_oracle(astronaut):
    model = inr.load_restorator("pretrained:diffusion")
    assert (model.config.decoding, model.config.task) == ("diffusion", "restore")
    truth = inr.resize(astronaut, (128, 128), "bicubic")
    gray, oracle = _gray_and_oracle(astronaut, 128)
    # Three decoder calls (steps 99, 1, 0), the best setting of the Set14 sweep.
    sampler = inr.diffusion.SamplerConfig(stride=98, noise="zero")
    out = model.restore(gray, size=(128, 128), sampler=sampler)
    assert out.shape == (128, 128, 3)
    assert inr.mse(out, truth) < 0.9 * inr.mse(oracle, truth)


def test_pretrained_celeba_colours_a_face_better_than_gray():
    """The astronaut's face, framed like a CelebA centre crop, under FranNet's protocol."""
    from inr.restorator.frannet import oracle, protocol_example

    model = inr.load_restorator("pretrained:celeba")
    assert (model.config.task, model.config.input_size) == ("restore", 64)
    gray, truth = protocol_example(inr.sample_image("astronaut")[0:240, 130:370])
    out = model.restore(gray, size=truth.shape[:2])
    assert out.shape == truth.shape
    assert inr.mse(out, truth) < 0.8 * inr.mse(oracle(gray, truth.shape[0]), truth)


def test_pretrained_celeba_diffusion_colours_a_face_better_than_gray():
    from inr.restorator.frannet import oracle, protocol_example

    model = inr.load_restorator("pretrained:celeba-diffusion")
    assert (model.config.decoding, model.config.task) == ("diffusion", "restore")
    gray, truth = protocol_example(inr.sample_image("astronaut")[0:240, 130:370])
    sampler = inr.diffusion.SamplerConfig(stride=98, noise="zero")
    out = model.restore(gray, size=truth.shape[:2], sampler=sampler)
    assert inr.mse(out, truth) < 0.8 * inr.mse(oracle(gray, truth.shape[0]), truth)


@pytest.fixture(scope="module")
def face():
    """The astronaut's face at 160x160, framed like a CelebA centre crop."""
    from inr.interpolation import centre_square

    return inr.resize(centre_square(inr.sample_image("astronaut")[0:240, 130:370]), (160, 160))


def test_pretrained_refsr_upscales_a_face_and_copies_a_matching_reference(face):
    model = inr.load_restorator("pretrained:celeba-refsr")
    assert (model.config.task, model.config.reference) == ("upscale", True)
    small = inr.resize(face, (40, 40))
    alone = model.restore(small, size=(160, 160))
    assert inr.psnr(alone, face) > inr.psnr(inr.resize(small, (160, 160)), face)
    # The origin's experiment: the ground truth as the reference is copied.
    copied = model.restore(small, size=(160, 160), reference=face)
    assert repr(model).endswith("single pass, reference, non-commercial use only)")
    assert inr.psnr(copied, face) > inr.psnr(alone, face) + 3.0


def _render_growth(name: str, inputs: tuple, size: int, reference: tuple | None = None):
    """``(output shape, GiB the peak memory grew)`` of one render, in a fresh process."""
    import subprocess
    import sys
    import textwrap

    script = textwrap.dedent(
        f"""
        import resource, numpy as np, inr
        model = inr.load_restorator("pretrained:{name}")
        rng = np.random.default_rng(0)
        image = rng.random({inputs}).astype(np.float32)
        ref = None if {reference} is None else rng.random({reference}).astype(np.float32)
        model.restore(image, size=(8, 8), reference=ref)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        out = model.restore(image, size=({size}, {size}), reference=ref)
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(out.shape, (after - before) / 2**20)
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    shape, grown = result.stdout.split(")")[0] + ")", float(result.stdout.split(")")[1])
    return shape, grown


@pytest.mark.slow
def test_2048_render_in_bounded_memory():
    """A 2048x2048 restore peaks at a few copies of its output and a chunk's work.

    The model of its memory: the output (2048^2 x 3 float32, 48 MiB) on the
    device, on the host and clipped, plus what one chunk of points holds,
    which does not grow with the picture; a whole-image decode would hold
    4.2 M points x 192 x 4 B = 3.0 GiB per hidden layer.
    """
    shape, grown_gib = _render_growth("restore", (64, 64), 2048)
    assert shape == "(2048, 2048, 3)"
    output_gib = 2048**2 * 3 * 4 / 2**30
    assert grown_gib < 4 * output_gib + 0.5


@pytest.mark.slow
def test_a_reference_render_at_1024_in_bounded_memory():
    """40x40 in, a 160x160 reference: the transfer is computed once, decoded in chunks."""
    shape, grown_gib = _render_growth("celeba-refsr", (40, 40, 3), 1024, (160, 160, 3))
    assert shape == "(1024, 1024, 3)"
    # A whole-image decode: 1 M points x 192 x 4 B = 0.8 GB per hidden layer.
    assert grown_gib < 0.4


def test_repr_is_one_short_line():
    text = repr(inr.load_restorator("pretrained:upscale"))
    assert text == (
        "Restorator(pretrained:upscale, task='upscale', input 48x48 colour, 2.33 M parameters, "
        "single pass, non-commercial use only)"
    )


def test_every_shipped_model_carries_its_card_and_says_its_terms(tmp_path):
    """The licence travels with the weights: loaded, saved, converted, fine-tuned."""
    for name in inr.restorator.PRETRAINED:
        model = inr.load_restorator(f"pretrained:{name}")
        assert model.card["name"] == f"pretrained:{name}"
        assert {"does", "data", "licence", "scores", "limits"} <= set(model.card)
        assert "non-commercial" in model.card["licence"] and "non-commercial" in repr(model)
    inr.save_restorator(tmp_path / "m.msgpack", model)
    assert inr.load_restorator(tmp_path / "m.msgpack").card == model.card
    grown = inr.restorator.to_diffusion(inr.load_restorator("pretrained:celeba"))
    assert grown.card["based_on"] == "pretrained:celeba" and "non-commercial" in repr(grown)

"""The codec end to end: real bytes, exact decoding anywhere, any size, every bad file refused."""

import dataclasses
import struct
import subprocess
import sys
import zlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import inr
from inr import codec
from inr.codec import bitstream
from inr.signal import as_signal

from .._compiles import compilations
from .._xla import compiling_env

pytest.importorskip("constriction")

TINY = codec.CodecConfig(latents=(1, 2), hidden=(8,), context=8, steps=150, polish=0.1)


def photo(seed: int = 0, size=(24, 36)) -> np.ndarray:
    """A smooth colour picture with an edge: something worth a few hundred bytes."""
    y, x = np.mgrid[0 : size[0], 0 : size[1]] / np.array(size).reshape(2, 1, 1)
    r = np.random.default_rng(seed)
    a, b = r.uniform(0.2, 0.8, 2)
    image = np.stack([a + 0.2 * np.sin(6 * x), b * (y > 0.5) + 0.1, 0.5 + 0.3 * x * y], -1)
    return (np.clip(image, 0, 1) * 255).round().astype(np.uint8)


@pytest.fixture(scope="module")
def encoded():
    return codec.encode(photo(), config=TINY, quality=60)


def test_the_file_decodes_to_the_picture_and_its_rate_is_its_length(encoded):
    out = codec.decode(encoded)
    truth = photo().astype(np.float32) / 255
    assert out.shape == truth.shape and out.dtype == np.float32
    assert inr.psnr(out, truth) > 22
    header, sections = bitstream.unpack(encoded)
    assert header["shape"] == [24, 36, 3] and len(sections) == 2
    # The rate is the file: magic, version, header, both sections and the checksum.
    size, at = leb128(encoded, 5)
    lengths = sum(len(varint(len(s) // 4)) + len(s) for s in sections)
    assert len(encoded) == at + size + 1 + lengths + 4
    assert size < 50  # a compact header: a few dozen bytes, not a JSON object's hundreds
    # A step per synthesis tensor: weights and biases, and the refining filter.
    assert header["refine"] == 1 and len(header["bits"]) == 2 * (len(TINY.hidden) + 1) + 1


def leb128(data: bytes, at: int) -> tuple[int, int]:
    """An unsigned LEB128 varint at ``at``: ``(value, next position)``."""
    value, shift = 0, 0
    while data[at] & 0x80:
        value, at, shift = value | (data[at] & 0x7F) << shift, at + 1, shift + 7
    return value | data[at] << shift, at + 1


def varint(n: int) -> bytes:
    out = []
    while n >= 0x80:
        out, n = [*out, n & 0x7F | 0x80], n >> 7
    return bytes([*out, n])


@pytest.mark.parametrize("value_range", [[0.0, 1.0], [-1.0, 1.0], [-3.5, 1e6]])
def test_the_header_holds_any_shape_and_range(encoded, value_range):
    header, sections = bitstream.unpack(encoded)
    changed = {**header, "shape": [0, 127, 128, 2**32 - 1], "range": value_range}
    again, same = bitstream.unpack(bitstream.pack(changed, sections))
    assert again == changed and same == sections
    assert varint(2**32 - 1) == bitstream._varint(2**32 - 1) and leb128(varint(300), 0) == (300, 2)


def test_decoding_at_any_size_or_region_is_rendering_the_field(encoded):
    field = codec.field(encoded)
    np.testing.assert_array_equal(codec.decode(encoded, size=(48, 72)), field.render(48, 72))
    whole = codec.decode(encoded, size=(48, 72))
    quarter = codec.decode(encoded, size=(24, 36), region=(0, 0, 0.5, 0.5))
    np.testing.assert_array_equal(quarter, whole[:24, :36])
    np.testing.assert_array_equal(field.at(inr.grid(24, 36).reshape(-1, 2)).reshape(24, 36, 3),
                                  field.render(24, 36))  # fmt: skip
    # At its own size a decode renders the MLP once and convolves: the same field, to float
    # rounding.
    np.testing.assert_allclose(codec.decode(encoded), field.render(24, 36), atol=2e-6)


@pytest.mark.parametrize("grid, refine", [((37, 50), False), ((37, 50), True), ((21,), True),
                                          ((5, 9, 13), True)])  # fmt: skip
def test_training_renders_the_field_at_its_own_samples(grid, refine):
    # The fixed-filter upsampling that training runs is the field at the cell centres,
    # also where a grid's last cell reaches past the signal (37 is not a multiple of 8), and
    # the refining filter a convolution with the edges repeated.
    model = codec.LatentField(grid, 2, (1, 1, 2, 1), (8,), 8, refine)
    params = model.init(jax.random.PRNGKey(0), jnp.zeros((1, len(grid))))
    params = jax.tree.map(lambda a: 3 * jax.random.normal(jax.random.PRNGKey(a.size), a.shape),
                          params)  # fmt: skip
    native = jax.jit(lambda p: model.apply(p, method="native"))(params)
    points = jnp.asarray(inr.grid(*grid).reshape(-1, len(grid)))
    at_points = jax.jit(model.apply)(params, points).reshape(native.shape)
    np.testing.assert_allclose(native, at_points, atol=2e-6 * float(jnp.max(jnp.abs(native))))


def test_a_fresh_process_decodes_the_same_values_bit_for_bit(encoded, tmp_path):
    (tmp_path / "f.inr").write_bytes(encoded)
    script = ("import sys, numpy as np; from inr import codec; "
              "np.save(sys.argv[2], codec.decode(open(sys.argv[1], 'rb').read()))")  # fmt: skip
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path / "f.inr"),
                           str(tmp_path / "out.npy")], capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    np.testing.assert_array_equal(np.load(tmp_path / "out.npy"), codec.decode(encoded))


def test_a_second_picture_of_the_same_size_compiles_nothing(encoded):
    # Another step count, rates, noise, temperatures or polish are data to the fit: only
    # widths compile.
    recipe = dataclasses.replace(TINY, steps=120, rate=1e-2, latent_rate=0.2, decay=0.1,
                                 noise=0.1, temperature=(0.4, 0.1), polish=0.2)  # fmt: skip
    codec.decode(encoded), codec.decode(encoded, size=(30, 20))  # the first picture's decodes
    with compilations() as n:
        other = codec.encode(photo(seed=3), config=recipe, quality=40)
        codec.decode(other), codec.decode(other, size=(30, 20))
    assert n[0] == 0 and other != encoded


def test_the_polish_fits_the_networks_to_the_rounded_latents_and_holds_them():
    samples, layout = as_signal(photo())
    config = dataclasses.replace(TINY, steps=40, polish=0.25)
    objective = codec.CodecObjective.create(samples, layout, config=config)
    fitted = inr.fit(objective, steps=40)
    key = jax.random.PRNGKey(0)
    relaxed, polish = objective.draw(key, 39), objective.draw(key, 40)  # last relaxed, first held
    assert not relaxed[2] and polish[2]
    latents = [fitted.params["params"][f"latent_{i}"] for i in range(len(config.latents))]
    seen = objective.quantized(fitted.params, polish)
    for z, q in zip(latents, seen, strict=True):
        np.testing.assert_array_equal(q, np.round(z))
    assert any(
        np.any(q != np.round(z))
        for z, q in zip(latents, objective.quantized(fitted.params, relaxed), strict=True)
    )
    grads = jax.jit(jax.grad(lambda p: objective.loss(fitted.model, p, polish)[0]))(fitted.params)
    grads = grads["params"]
    assert not any(np.any(grads[f"latent_{i}"]) for i in range(len(latents)))
    assert np.any(grads["synthesis_w0"]) and np.any(grads["context_w0"])


def test_a_fit_of_the_objective_alone_takes_its_configs_steps():
    samples, layout = as_signal(photo())
    objective = codec.CodecObjective.create(samples, layout, config=TINY)
    assert inr.fit(objective).step == 165  # 150 steps, then a polish of a tenth of them


def _bad_files(encoded: bytes) -> dict:
    size, at = leb128(encoded, 5)
    header_end = at + size
    flipped = bytearray(encoded)
    flipped[header_end + 12] ^= 0x10
    wrong_version = bytearray(encoded)
    wrong_version[4] = 99
    crc = struct.pack("<I", zlib.crc32(bytes(wrong_version[:-4])))
    return {
        "not an inr codec file": b"\x89PNG\r\n\x1a\n" + encoded[8:],
        "truncated": encoded[:9],
        "checksum": bytes(flipped),
        "version 99": bytes(wrong_version[:-4]) + crc,
        "must be bytes": "INRC",
    }


def test_every_corrupt_or_foreign_file_is_refused_by_name(encoded):
    for reason, data in _bad_files(encoded).items():
        with pytest.raises(ValueError, match=reason):
            codec.decode(data)
    for cut in range(0, len(encoded) - 1, max(1, len(encoded) // 40)):
        with pytest.raises(ValueError):
            codec.decode(encoded[:cut])


def test_a_header_that_lies_about_its_sections_is_refused(encoded):
    header, sections = bitstream.unpack(encoded)
    for change in ({"shape": [24, 36, 3, 3]}, {"latents": [0, 1]}, {"scales": []},
                   {"context_bits": 9}, {"bits": [4]}, {"bits": [25] * 5}, {"refine": 2},
                   {"refine": 0}):  # fmt: skip
        with pytest.raises(ValueError, match="header"):
            codec.decode(bitstream.pack({**header, **change}, sections))


def test_a_version_4_header_reads_as_a_synthesis_without_the_refining_filter(encoded):
    header, sections = bitstream.unpack(encoded)
    older = {**header, "refine": 0}
    text = bitstream._header_bytes(older, version=4)
    assert len(text) == len(bitstream._header_bytes(older)) - 1  # no refine byte
    body = b"".join([bitstream.MAGIC, bytes([4]), varint(len(text)), text, bytes([len(sections)]),
                     *(varint(len(s) // 4) + s for s in sections)])  # fmt: skip
    assert bitstream.unpack(body + struct.pack("<I", zlib.crc32(body))) == (older, sections)


@pytest.mark.slow  # two more programs (1-D and 3-D fields) to compile
def test_audio_and_volumes_take_the_same_code(tmp_path):
    t = np.linspace(0, 1, 400)
    audio = (0.5 * np.sin(2 * np.pi * 7 * t))[:, None].astype(np.float32)
    data = codec.encode(audio, config=TINY, quality=70)
    out = codec.decode(data)
    assert out.shape == (400, 1) and inr.psnr(out, audio, value_range=(-1, 1)) > 20
    assert codec.decode(data, size=(800,)).shape == (800, 1)
    z, y, x = np.mgrid[0:8, 0:12, 0:12] / 12.0
    volume = (np.exp(-((x - 0.5) ** 2 + (y - 0.5) ** 2 + (z - 0.3) ** 2) * 8)).astype(np.float32)
    data = codec.encode(volume, config=TINY, quality=70, dims=3)
    assert codec.decode(data).shape == (8, 12, 12) and codec.info(data)["dims"] == 3


@pytest.mark.slow  # a process that compiles the default model
def test_the_command_line_round_trips_a_photo(tmp_path):
    inr.save_image(tmp_path / "in.png", photo())
    env = compiling_env()  # 30 steps: its time is compiling
    run = lambda *a: subprocess.run([sys.executable, "-m", "inr.codec", *a], env=env,  # noqa: E731
                                    capture_output=True, text=True, cwd=tmp_path)  # fmt: skip
    done = run("encode", "in.png", "in.inr", "--quality", "60", "--steps", "30", "--quiet")
    assert done.returncode == 0 and "bits per sample" in done.stdout, done.stderr[-2000:]
    done = run("decode", "in.inr", "out.png", "--size", "48", "72")
    assert done.returncode == 0, done.stderr[-2000:]
    assert inr.load_image(tmp_path / "out.png").shape == (48, 72, 3)
    done = run("decode", "in.png", "x.png")
    assert done.returncode == 2 and "not an inr codec file" in done.stderr


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="quality or bpp"):
        codec.encode(photo(), quality=50, bpp=0.5)
    with pytest.raises(ValueError, match="preset"):
        codec.encode(photo(), preset="fastest")
    with pytest.raises(ValueError, match="quality"):
        codec.encode(photo(), quality=120)
    with pytest.raises(ValueError, match="CodecConfig.latents"):
        codec.CodecConfig(latents=(1, 0))
    with pytest.raises(ValueError, match="CodecConfig.polish"):
        codec.CodecConfig(polish=-1)

"""WAV and MP4 reading and writing (inr.media)."""

import numpy as np
import pytest

import inr

# The largest rounding error of each encoding, for samples in [-1, 1].
_STEP = {"PCM_16": 2.0**-15, "PCM_24": 2.0**-23, "PCM_32": 2.0**-24, "FLOAT": 0.0}


@pytest.mark.parametrize("subtype", inr.media.AUDIO_SUBTYPES)
@pytest.mark.parametrize("channels", [1, 2])
def test_wav_round_trip(tmp_path, rng, subtype, channels):
    samples = rng.uniform(-1, 1, size=(500, channels)).astype(np.float32)
    path = inr.save_audio(tmp_path / "a.wav", samples, 22050, subtype)
    back, rate = inr.load_audio(path)
    assert rate == 22050 and back.shape == (500, channels) and back.dtype == np.float32
    np.testing.assert_allclose(back, samples, atol=_STEP[subtype] + 1e-7)
    assert [p.name for p in tmp_path.iterdir()] == ["a.wav"]  # no temp file left


def test_mono_is_one_channel(tmp_path):
    path = inr.save_audio(tmp_path / "m.wav", np.zeros(10, np.float32), 8000)
    assert inr.load_audio(path)[0].shape == (10, 1)


@pytest.mark.parametrize(
    "samples, rate, match",
    [
        (np.full(10, np.nan), 8000, "NaN"),
        (np.full(10, 1.5), 8000, r"\[-1, 1\]"),
        (np.zeros(0), 8000, "non-empty"),
        (np.zeros(10, np.int16), 8000, "float"),
        (np.zeros(10), 0, "rate"),
        (np.zeros(10), 44.1, "rate"),
    ],
)
def test_bad_audio_is_named_and_leaves_no_file(tmp_path, samples, rate, match):
    with pytest.raises(ValueError, match=match):
        inr.save_audio(tmp_path / "x.wav", samples, rate)
    assert not list(tmp_path.iterdir())


def test_unreadable_audio(tmp_path):
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF....WAVEjunk")
    with pytest.raises(ValueError, match="bad.wav"):
        inr.load_audio(bad)
    with pytest.raises(ValueError, match="not a file"):
        inr.load_audio(tmp_path / "missing.wav")


def test_video_round_trip(tmp_path):
    t, y, x = np.meshgrid(np.arange(6), np.arange(32), np.arange(48), indexing="ij")
    frames = np.stack([x / 47, y / 31, (t / 5 + 0 * x)], axis=-1).astype(np.float32)
    path = inr.save_video(tmp_path / "v.mp4", frames, fps=12)
    back, fps = inr.load_video(path)
    assert back.shape == frames.shape and fps == 12.0 and back.dtype == np.float32
    assert np.abs(back - frames).mean() < 0.02  # H.264 is lossy
    part, _ = inr.load_video(path, size=(16, 24), frames=range(1, 6, 2), dtype=np.uint8)
    assert part.shape == (3, 16, 24, 3) and part.dtype == np.uint8
    np.testing.assert_allclose(part[1] / 255, inr.resize(back[3], (16, 24), "bilinear"), atol=0.02)


def test_bad_video(tmp_path):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"not a video")
    with pytest.raises(ValueError, match="bad.mp4"):
        inr.load_video(bad)
    with pytest.raises(ValueError, match="frames must be shaped"):
        inr.save_video(tmp_path / "v.mp4", np.zeros((2, 4, 4, 2)))
    with pytest.raises(ValueError, match="frames must be a slice"):
        inr.load_video(bad, frames=[1, 2])

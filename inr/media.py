"""Reading and writing audio (WAV) and video (MP4), in the signal convention.

* Audio is ``(T, C)`` float32 samples in [-1, 1] (channels last, mono as
  ``(T, 1)``) with an integer sample rate in Hz.  WAV files of 16-, 24- or
  32-bit PCM or IEEE float are read and written with libsndfile (the
  ``soundfile`` package, the ``audio`` extra).
* Video is ``(T, H, W, 3)`` frames, float32 in [0, 1] (or uint8, which
  keeps a long clip at a quarter of the memory), with a frame rate.  MP4 is
  read and written through imageio's PyAV plugin (the ``video`` extra).

Saves are atomic (a temporary file, then a rename).  Bad files, rates and
samples raise ``ValueError`` naming the argument.
"""

from __future__ import annotations

import math
from pathlib import Path

import imageio.v3 as iio
import numpy as np

from inr._atomic import atomic_write
from inr._extras import require
from inr._validate import as_images, as_positive_int
from inr.interpolation import resize

__all__ = ["AUDIO_SUBTYPES", "load_audio", "load_video", "save_audio", "save_video"]

AUDIO_SUBTYPES = ("PCM_16", "PCM_24", "PCM_32", "FLOAT")
"""WAV encodings :func:`save_audio` writes: PCM of 16, 24 or 32 bits, or IEEE float32."""


def _existing(path) -> Path:
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"path {str(path)!r} is not a file")
    return path


def _rate(rate, name: str = "rate") -> float:
    ok = isinstance(rate, (int, float, np.integer, np.floating)) and not isinstance(rate, bool)
    if not ok or not math.isfinite(rate) or rate <= 0:
        raise ValueError(f"{name} must be a positive number; got {rate!r}")
    return rate


def load_audio(path) -> tuple[np.ndarray, int]:
    """A WAV file's samples ``(T, C)`` as float32 in [-1, 1], and its rate in Hz."""
    sf = require("soundfile", "audio")
    path = _existing(path)
    try:
        samples, rate = sf.read(path, dtype="float32", always_2d=True)
    except Exception as exc:  # libsndfile's errors are RuntimeErrors of many kinds
        raise ValueError(f"path {str(path)!r} is not a readable WAV file: {exc}") from exc
    if samples.size == 0:
        raise ValueError(f"path {str(path)!r} holds no samples")
    if not np.isfinite(samples).all():
        raise ValueError(f"path {str(path)!r} holds NaN or infinite samples")
    return samples, int(rate)


def save_audio(path, samples, rate: int, subtype: str = "PCM_16") -> Path:
    """Write ``samples`` ((T,) or (T, C) in [-1, 1]) at ``rate`` Hz as a WAV file.

    ``subtype`` is one of :data:`AUDIO_SUBTYPES`.  PCM rounds to the nearest
    level (16 bits: steps of 2^-15).  Returns the path written.
    """
    sf = require("soundfile", "audio")
    path = Path(path)
    if path.suffix.lower() != ".wav":
        raise ValueError(f"path must end in .wav; got {str(path)!r}")
    if subtype not in AUDIO_SUBTYPES:
        raise ValueError(f"subtype must be one of {AUDIO_SUBTYPES}; got {subtype!r}")
    rate = as_positive_int(rate, "rate")
    x = np.asarray(samples)
    if x.dtype == np.bool_ or x.dtype.kind != "f":
        raise ValueError(f"samples must be a float array in [-1, 1]; got dtype {x.dtype}")
    if x.ndim not in (1, 2) or x.size == 0:
        raise ValueError(f"samples must be shaped (T,) or (T, C) and non-empty; got {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError("samples contains NaN or infinite values")
    if np.abs(x).max() > 1.0 + 1e-6:
        raise ValueError(f"samples must lie in [-1, 1]; got a peak of {np.abs(x).max():.4g}")
    data = np.clip(x, -1.0, 1.0).astype(np.float32)
    return atomic_write(path, lambda tmp: sf.write(tmp, data, rate, subtype, format="WAV"))


def load_video(path, size=None, frames=None, dtype=np.float32) -> tuple[np.ndarray, float]:
    """A video's frames ``(T, H, W, 3)`` and its frame rate (frames per second).

    Args:
      path: a video file imageio's PyAV plugin decodes (MP4/H.264 and others).
      size: ``(H, W)`` to resize each frame to (:func:`inr.resize`,
        bilinear with antialiasing), ``None`` for the file's size.
      frames: a ``slice`` or ``range`` of frame indices, ``None`` for all.
      dtype: ``np.float32`` (values in [0, 1]) or ``np.uint8`` (a quarter of
        the memory; :func:`inr.fit_signal` keeps uint8 as it is).
    """
    require("av", "video")  # imageio's PyAV plugin
    path = _existing(path)
    if np.dtype(dtype) not in (np.dtype(np.float32), np.dtype(np.uint8)):
        raise ValueError(f"dtype must be np.float32 or np.uint8; got {dtype!r}")
    if frames is not None and not isinstance(frames, (slice, range)):
        raise ValueError(f"frames must be a slice, a range or None; got {frames!r}")
    if isinstance(frames, range):
        frames = slice(frames.start, frames.stop, frames.step)
    wanted = range(2**62)[frames if frames is not None else slice(None)]
    clip = []
    try:
        fps = float(iio.immeta(path, plugin="pyav").get("fps", 0.0))
        for i, frame in enumerate(iio.imiter(path, plugin="pyav")):
            if i in wanted:
                clip.append(_frame(frame, size, dtype))
            if wanted.step > 0 and i >= wanted.stop - 1:
                break
    except Exception as exc:  # PyAV raises many types for bad files
        raise ValueError(f"path {str(path)!r} is not a readable video: {exc}") from exc
    if not clip:
        raise ValueError(f"path {str(path)!r} has no frames in {frames!r}")
    return np.stack(clip), fps


def _frame(frame: np.ndarray, size, dtype) -> np.ndarray:
    """One decoded uint8 frame, resized if asked, in ``dtype``."""
    if size is not None:
        frame = resize(frame, size, "bilinear")
        if np.dtype(dtype) == np.uint8:
            return np.round(frame * 255.0).astype(np.uint8)
        return frame
    return frame if np.dtype(dtype) == np.uint8 else frame.astype(np.float32) / 255.0


def save_video(path, frames, fps: float = 20.0) -> Path:
    """Write frames ``(T, H, W[, 3])`` in [0, 1] (or uint8) as an H.264 MP4.

    Returns the path written.
    """
    require("av", "video")  # imageio's PyAV plugin
    path = Path(path)
    if path.suffix.lower() != ".mp4":
        raise ValueError(f"path must end in .mp4; got {str(path)!r}")
    fps = _rate(fps, "fps")
    x = np.asarray(frames)
    if x.ndim == 3:
        x = np.repeat(x[..., None], 3, axis=-1)
    if x.ndim != 4 or x.shape[-1] != 3 or 0 in x.shape:
        raise ValueError(f"frames must be shaped (T, H, W[, 3]); got {np.shape(frames)}")
    if x.dtype != np.uint8:
        x = np.round(as_images(x, "frames") * 255.0).astype(np.uint8)

    def write(tmp):
        iio.imwrite(tmp, x, plugin="pyav", codec="libx264", fps=fps, extension=".mp4")

    return atomic_write(path, write)

"""FranNet's colorization protocol: the examples, the gray oracle and the table rows.

FranNet measured its restorators on CelebA faces this way: centre-crop each
178x218 photo to 178x178 (rows 20..197), resize that to 64x64 bilinearly and
turn it gray; the model sees the 64x64 gray input and is scored by the RGB
mean squared error, in [0, 1], of its 178x178 colour output against the
crop.  The baseline ("oracle") is the bicubic upscale of the gray input,
copied to three channels.  FranNet's table: oracle 0.01100 on CelebA's test
partition, best single pass 0.00638, best diffusion 0.00634.

Here the crop is the centred square of any photo (rows 20..197 for
CelebA's 178x218), so the same protocol applies to other image sets.  The
64x64 input is ``jax.image.resize(..., "linear", antialias=False)``,
TensorFlow's default bilinear resize, which FranNet's pipeline used (with
antialiasing, the oracle's error on the first 300 of CelebA's validation
faces moves from 0.01195 to 0.01214); gray is ITU-R BT.601 luma (:func:`inr.rgb_to_gray`).
"""

from __future__ import annotations

import time
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from inr.color import rgb_to_gray
from inr.interpolation import centre_square
from inr.restorator.data import expand_sources, load_images

__all__ = [
    "FRANNET_TABLE",
    "INPUT_SIZE",
    "frannet_row",
    "oracle",
    "protocol_example",
]

INPUT_SIZE = 64
# FranNet's published figures (RGB MSE in [0, 1]).
FRANNET_TABLE = {
    "oracle (test partition)": 0.01100,
    "oracle (512 validation faces)": 0.01182,
    "single pass, no masking": 0.00671,
    "single pass, masking 8": 0.00638,
    "diffusion, best (stride 8, projected noise)": 0.00634,
}


@partial(jax.jit, static_argnums=1)
def _shrink(crop, size: int):
    return jnp.clip(jax.image.resize(crop, (size, size, 3), "linear", antialias=False), 0, 1)


@partial(jax.jit, static_argnums=1)
def _grow(gray, side: int):
    return jnp.clip(jax.image.resize(gray, (side, side), "cubic"), 0, 1)


def protocol_example(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(gray input (64, 64), colour target (s, s, 3))`` of an RGB photo ``(h, w, 3)``.

    ``s = min(h, w)``: the centred square crop is the target.
    """
    image = np.asarray(image)
    if image.dtype == np.uint8:
        image = image.astype(np.float32) / 255.0
    if image.ndim != 3 or image.shape[-1] != 3:
        raise ValueError(f"image must be an RGB photo (h, w, 3); got shape {image.shape}")
    h, w = image.shape[:2]
    if min(h, w) < INPUT_SIZE:
        raise ValueError(f"image must be at least {INPUT_SIZE} pixels on each side; got {h}x{w}")
    target = np.ascontiguousarray(centre_square(image), np.float32)
    gray = rgb_to_gray(np.asarray(_shrink(target, INPUT_SIZE)))
    return gray.astype(np.float32), target


def oracle(gray: np.ndarray, side: int) -> np.ndarray:
    """The baseline: the gray input's bicubic upscale to ``side``, as RGB ``(side, side, 3)``."""
    up = np.asarray(_grow(jnp.asarray(gray), side))
    return np.repeat(up[..., None], 3, axis=-1)


def _mse(a, b) -> float:
    return float(np.mean((np.asarray(a, np.float64) - b) ** 2))


def frannet_row(
    model, data, *, sampler=None, ensemble=None, seed: int = 0, limit: int | None = None
) -> dict:
    """One row of FranNet's table for ``model`` on ``data`` (a folder, paths or arrays).

    Args:
      model: a :class:`~inr.restorator.inference.Restorator` of the
        ``restore`` task, or ``None`` for the oracle's row alone.
      data: the photos (anything :func:`~inr.restorator.data.load_images`
        takes); each is scored on its centred square.
      sampler: a diffusion model's :class:`~inr.diffusion.SamplerConfig`.
      ensemble: ``"flip"`` averages each face's restoration with its
        mirror's (:meth:`~inr.restorator.inference.Restorator.restore`).
      seed: a diffusion model's noise.
      limit: score the first ``limit`` photos only.

    Returns:
      ``{"images", "mse", "gray_mse", "oracle_mse", "oracle_gray_mse",
      "ratio", "gray_ratio", "seconds_per_image"}``: means over the photos
      of the RGB and gray-channel errors of the model and of the oracle;
      ``ratio = mse / oracle_mse`` (FranNet: 0.58).  Without a model the
      model's fields are ``nan``.
    """
    if model is not None and model.config.task != "restore":
        raise ValueError(f"model must be a 'restore' restorator; got task {model.config.task!r}")
    items = expand_sources(data)[:limit]
    sums = dict.fromkeys(("mse", "gray_mse", "oracle_mse", "oracle_gray_mse"), 0.0)
    seconds = 0.0
    photos = load_images(items)
    for photo in photos:
        gray, target = protocol_example(photo)
        side = target.shape[0]
        truth_gray = rgb_to_gray(target)
        base = oracle(gray, side)
        sums["oracle_mse"] += _mse(base, target)
        sums["oracle_gray_mse"] += _mse(base[..., 0], truth_gray)
        if model is not None:
            t0 = time.perf_counter()
            out = model.restore(
                gray, size=(side, side), sampler=sampler, ensemble=ensemble, seed=seed
            )
            seconds += time.perf_counter() - t0
            out = np.clip(out, 0.0, 1.0)
            sums["mse"] += _mse(out, target)
            sums["gray_mse"] += _mse(rgb_to_gray(out), truth_gray)
    n = len(photos)
    row = {"images": n, **{k: v / n for k, v in sums.items()}}
    if model is None:
        row.update(mse=float("nan"), gray_mse=float("nan"))
    row["ratio"] = row["mse"] / row["oracle_mse"]
    row["gray_ratio"] = row["gray_mse"] / row["oracle_gray_mse"]
    row["seconds_per_image"] = seconds / n if model is not None else float("nan")
    return row

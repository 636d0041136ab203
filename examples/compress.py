"""Compress a photo to a file and back, beside JPEG and WebP of the same size.

python examples/compress.py [--image photo.png] [--size 256] [--bpp 0.75]
                            [--steps 500] [--out outputs/compress.png]

Encodes the photo with ``inr.codec`` (a field of latent grids and a small
pointwise network, range coded into a file: ``outputs/compress.inr``),
decodes it, and saves JPEG and WebP files (Pillow) of at most the same
number of bytes; the figure shows the four with their PSNR and a crop of
the field decoded at twice the size.  The defaults (a 256-pixel side,
500 steps) take about a minute on a 2-core CPU; ``--steps 1200`` is the
codec's default setting.  Needs the ``codec`` extra.
"""

from __future__ import annotations

import argparse
import io
from pathlib import Path

import numpy as np
from _figures import input_image, plt, save_figure, show

import inr
from inr import codec


def parse(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--image", help="your own photo (default: built-in astronaut)")
    p.add_argument("--size", type=int, default=256, help="the photo's longer side in pixels")
    p.add_argument("--bpp", type=float, default=0.75, help="bits per pixel to aim at")
    p.add_argument("--steps", type=int, default=500, help="the codec's fitting steps")
    p.add_argument("--out", default="outputs/compress.png", help="the figure")
    return p.parse_args(argv)


def photo(args) -> np.ndarray:
    """The photo as uint8 RGB, its longer side ``--size``."""
    image = input_image(args.image, "astronaut")
    image = image if image.ndim == 3 else np.repeat(image[..., None], 3, axis=-1)
    scale = args.size / max(image.shape[:2])
    shape = tuple(max(1, round(n * scale)) for n in image.shape[:2])
    return np.round(np.clip(inr.resize(image, shape, "bicubic"), 0, 1) * 255).astype(np.uint8)


def within(image: np.ndarray, fmt: str, budget: int) -> tuple[np.ndarray, int]:
    """Pillow's ``fmt`` at the best quality whose file fits in ``budget`` bytes."""
    from PIL import Image

    best = None
    for quality in range(1, 101):
        buffer = io.BytesIO()
        Image.fromarray(image).save(buffer, fmt, quality=quality)
        if buffer.tell() > budget and best is not None:
            break
        best = (np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")), buffer.tell())
    return best


def main(argv=None):
    args = parse(argv)
    image = photo(args)
    preset = codec.PRESETS["default"].replace(steps=args.steps)
    data = codec.encode(image, bpp=args.bpp, preset=preset, progress=True)
    path = Path(args.out).with_suffix(".inr")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    h, w = image.shape[:2]
    panels = [("original", image, None), ("inr.codec", codec.decode(data), len(data))]
    for name, fmt in (("JPEG", "JPEG"), ("WebP", "WEBP")):
        decoded, size = within(image, fmt, len(data))
        panels.append((name, decoded, size))
    fig, axes = plt.subplots(1, 5, figsize=(17, 3.8))
    for ax, (name, picture, size) in zip(axes, panels, strict=False):
        picture = picture / 255.0 if picture.dtype == np.uint8 else np.clip(picture, 0, 1)
        if size is not None:
            score = inr.psnr(picture, image / 255)
            name = f"{name}: {size} B, {8 * size / (h * w):.2f} bpp, {score:.2f} dB"
        show(ax, picture, name)
    crop = codec.decode(data, size=(h, w), region=(0.25, 0.25, 0.75, 0.75))
    show(axes[4], np.clip(crop, 0, 1), "inr.codec: the centre decoded at 2x")
    print(f"wrote {path}: {len(data)} bytes, {8 * len(data) / (h * w):.3f} bits per pixel")
    save_figure(fig, args.out)


if __name__ == "__main__":
    main()

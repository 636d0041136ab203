"""Colorize and upscale with the pretrained restorator: 64x64 gray in, any size out.

With no arguments, takes the built-in astronaut, makes it 64x64 grayscale,
restores it in colour at 256 and 1024 px with ``pretrained:restore``, and
renders the region (0.2, 0.2, 0.4, 0.6) at 1024 px tall; one figure shows
them beside the input, the bicubic gray oracle and the ground truth.

    python examples/colorize.py [--image PATH] [--model pretrained:restore]
                                [--out outputs/colorize.png]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from _common import input_image, plt, save_figure, show

import inr

REGION = (0.2, 0.2, 0.4, 0.6)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--image", help="your own colour image (default: built-in astronaut)")
    p.add_argument("--model", default="pretrained:restore")
    p.add_argument("--out", default="outputs/colorize.png")
    args = p.parse_args(argv)

    truth = input_image(args.image, "astronaut")
    if truth.ndim == 2:
        truth = np.repeat(truth[..., None], 3, axis=-1)
    truth = truth[..., :3]
    model = inr.load_restorator(args.model)
    n = model.config.input_size
    gray = inr.rgb_to_gray(inr.resize(truth, (n, n), "bicubic"))

    t0 = time.perf_counter()
    renders = {s: model.restore(gray, size=(s, s)) for s in (256, 1024)}
    zoom = model.restore(gray, size=(1024, 512), region=REGION)
    print(f"restored 256^2, 1024^2 and a 1024x512 region in {time.perf_counter() - t0:.1f} s")

    big = inr.resize(truth, (1024, 1024), "bicubic")
    oracle = np.repeat(inr.resize(gray, (1024, 1024), "bicubic")[..., None], 3, axis=-1)
    for name, img in (("oracle (bicubic gray)", oracle), ("restorator", renders[1024])):
        print(f"{name:>22}: RGB MSE {inr.mse(img, big):.4f} at 1024x1024")

    fig, axes = plt.subplots(1, 6, figsize=(21, 4.2))
    show(axes[0], gray, f"input {n}x{n} gray", interpolation="nearest")
    show(axes[1], oracle, f"bicubic gray 1024\nMSE {inr.mse(oracle, big):.4f}")
    show(axes[2], renders[256], "restored 256x256")
    show(axes[3], renders[1024], f"restored 1024x1024\nMSE {inr.mse(renders[1024], big):.4f}")
    show(axes[4], zoom, f"region {REGION}\nat 1024x512")
    show(axes[5], truth, f"ground truth {truth.shape[0]}x{truth.shape[1]}")
    save_figure(fig, args.out)


if __name__ == "__main__":
    main()

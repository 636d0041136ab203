"""Upscaling: a SIREN fitted to one image, and the pretrained coordinate decoder.

With no arguments, downsamples the built-in astronaut to 64x64 (bicubic,
antialiased), fits a SIREN to it, renders it at 256x256, and writes a
figure beside nearest and bicubic upscaling and the ground truth, with each
one's PSNR, each with an enlarged region below it (``--zoom``).  ``--full`` fits 128x128
with the paper's network and 500 steps (minutes).  ``--model pretrained``
(or a model file) adds the trained decoder (``pretrained:upscale``), which
needs no fitting.

    python examples/upscale.py [--image PATH] [--size 64] [--scale 4] [--steps 300]
                               [--width 256] [--full] [--model siren|pretrained|PATH]
                               [--out outputs/upscale.png]
"""

from __future__ import annotations

import time

import numpy as np
from _figures import input_image, parse, parser, plt, save_figure, show_zoomed

import inr


def main(argv=None):
    quick = dict(size=64, steps=300, width=256)
    full = dict(size=128, steps=500, width=256)
    p = parser(__doc__, "astronaut", quick, full, "outputs/upscale.png")
    p.add_argument("--scale", type=int, default=4, help="output side over the input's")
    p.add_argument("--model", default="siren", help="siren, pretrained, or a restorator file")
    p.add_argument(
        "--zoom",
        type=float,
        nargs=4,
        default=(0.10, 0.32, 0.40, 0.62),
        metavar=("Y0", "X0", "Y1", "X1"),
        help="the region enlarged in the second row, in fractions of the image",
    )
    args = parse(p, argv)

    truth = input_image(args.image, "astronaut")
    big = (args.size * args.scale, args.size * args.scale)
    truth = inr.resize(truth, big, "bilinear")
    low = inr.resize(truth, (args.size, args.size), "bicubic")

    print(f"fitting a SIREN to a {args.size}x{args.size} image for {args.steps} steps")
    t0 = time.perf_counter()
    channels = 1 if low.ndim == 2 else low.shape[-1]
    model = inr.Siren(args.width, out_features=channels)
    fit = inr.fit_image(low, model=model, steps=args.steps, progress=True)
    siren = fit.render(*big)
    print(f"fit and render took {time.perf_counter() - t0:.1f} s")

    results = [
        ("nearest", inr.resize(low, big, "nearest")),
        ("bicubic", inr.resize(low, big, "bicubic")),
        ("SIREN", siren),
    ]
    if args.model != "siren":
        name = "pretrained:upscale" if args.model == "pretrained" else args.model
        t0 = time.perf_counter()
        colour = low[..., :3] if low.ndim == 3 else np.repeat(low[..., None], 3, axis=-1)
        decoded = inr.load_restorator(name).restore(colour, size=big)
        print(f"decoder render took {time.perf_counter() - t0:.1f} s")
        results.append((name, decoded))
    columns = len(results) + 2
    fig, axes = plt.subplots(2, columns, figsize=(2.6 * columns, 5.6))
    show_zoomed(*axes[:, 0], low, f"input {args.size}x{args.size}", args.zoom)
    for column, (name, img) in zip(axes.T[1:], results, strict=False):
        mse, psnr = inr.mse(img, truth), inr.psnr(img, truth)
        show_zoomed(*column, img, f"{name} x{args.scale}\nPSNR {psnr:.2f} dB", args.zoom)
        print(f"{name:>8}: MSE {mse:.3e}  PSNR {psnr:.2f} dB")
    show_zoomed(*axes[:, -1], truth, f"ground truth {big[0]}x{big[1]}", args.zoom)
    fig.tight_layout()
    save_figure(fig, args.out)


if __name__ == "__main__":
    main()

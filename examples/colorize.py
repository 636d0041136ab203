"""Colorize and upscale with a pretrained restorator: 64x64 gray in, any size out.

With ``--faces DIR`` (a folder of CelebA photos, such as its validation
folder; every fifth file, one per person), takes the first faces under FranNet's
protocol (:mod:`inr.restorator.frannet`: the 178x178 centre crop, its 64x64
gray input) and draws a grid, a face per row: gray input, bicubic gray
oracle, ``pretrained:celeba``'s colour at 178x178,
``pretrained:celeba-diffusion``'s (or ``--diffusion-model``'s) at its best
sampler setting, a 356x356 zoom of the eyes, and the ground truth, with RGB
MSE under each.

    python examples/colorize.py [--faces DIR] [--count 4] [--model pretrained:celeba]
                                [--diffusion-model PATH] [--out outputs/colorize_faces.png]

Without a faces folder it takes one photo (``--image``; the built-in
astronaut by default), makes it 64x64 grayscale, restores it in
colour at 256 and 1024 px with ``pretrained:restore`` and renders the region
(0.2, 0.2, 0.4, 0.6) at 1024 px tall; one figure shows them beside the
input, the bicubic gray oracle and the ground truth.

    python examples/colorize.py --image PATH [--model pretrained:restore]
                                [--decoding diffusion [--diffusion-model PATH]]
                                [--out outputs/colorize.png]

``--decoding diffusion`` adds a second row: the diffusion restorator
(``pretrained:diffusion`` unless ``--diffusion-model`` names one trained with
``examples/train.py --decoding diffusion``) sampled with stride 1 (DDPM)
and stride 8, full image and region, and with the best setting of the Set14 sweep
(stride 98, noise "zero": 3 decoder calls), at 256 px (each pixel is a
100-step chain, so 1024 px would take minutes on a CPU).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from _figures import input_image, plt, save_figure, show

import inr
from inr.diffusion import SamplerConfig
from inr.restorator import frannet
from inr.restorator.data import expand_sources

REGION = (0.2, 0.2, 0.4, 0.6)
EYES = (0.2, 0.38, 0.8, 0.62)  # (x0, y0, x1, y1) of the eyes in a CelebA centre crop
# pretrained:celeba-diffusion's best setting on CelebA validation faces (its model card).
FACE_SAMPLER, FACE_SAMPLER_NAME = SamplerConfig(stride=98, noise="zero"), "3 calls"


def faces(args):
    """The face grid: a row per face, MSE under every colour panel."""
    files = expand_sources(args.faces)[::5][: args.count]  # CelebA's folders: 5 per person
    name = args.model or "pretrained:celeba"
    diffusion_name = args.diffusion_model or "pretrained:celeba-diffusion"
    model, diffusion = inr.load_restorator(name), inr.load_restorator(diffusion_name)
    columns = 6
    fig, axes = plt.subplots(len(files), columns, figsize=(3 * columns, 3.4 * len(files)))
    axes = np.atleast_2d(axes)
    totals = {}
    for row, path in zip(axes, files, strict=True):
        gray, truth = frannet.protocol_example(inr.load_image(path))
        side = truth.shape[0]
        panels = [("bicubic gray", frannet.oracle(gray, side))]
        panels.append((name, model.restore(gray, size=(side, side))))
        sampled = diffusion.restore(gray, size=(side, side), sampler=FACE_SAMPLER)
        panels.append((f"{diffusion_name}\n{FACE_SAMPLER_NAME}", sampled))
        show(row[0], gray, f"input 64x64 gray\n{Path(path).name}", interpolation="nearest")
        for ax, (title, image) in zip(row[1:], panels, strict=False):
            error = inr.mse(image, truth)
            totals[title] = totals.get(title, 0.0) + error / len(files)
            show(ax, image, f"{title}\nMSE {error:.4f}")
        x0, y0, x1, y1 = EYES
        zoom = (round(4 * side * (y1 - y0)), round(4 * side * (x1 - x0)))
        show(row[-2], model.restore(gray, size=zoom, region=EYES), f"{name}, eyes at 4x")
        show(row[-1], truth, f"ground truth {side}x{side}")
    for title, error in totals.items():
        print(f"{title:>20}: mean RGB MSE {error:.5f} over {len(files)} faces")
    fig.tight_layout()
    save_figure(fig, args.out)


def main(argv=None):
    args = parser().parse_args(argv)
    if args.faces is not None:
        args.out = args.out or "outputs/colorize_faces.png"
        return faces(args)
    args.model = args.model or "pretrained:restore"
    args.diffusion_model = args.diffusion_model or "pretrained:diffusion"
    args.out = args.out or "outputs/colorize.png"
    return one_image(args)


def parser() -> argparse.ArgumentParser:
    """The command line."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--faces", default=None, help="a folder of CelebA faces (a grid of them)")
    p.add_argument("--count", type=int, default=4, help="faces in the grid")
    p.add_argument("--image", help="one colour image instead of faces (default: astronaut)")
    p.add_argument("--model", help="pretrained:celeba for faces, else pretrained:restore")
    p.add_argument(
        "--decoding", "--restorator", default="single", choices=inr.restorator.DECODINGS,
        help="single: the single-pass column only; diffusion: add the diffusion model's",
    )  # fmt: skip
    p.add_argument("--diffusion-model", help="the diffusion column's model (default: pretrained)")
    p.add_argument("--out", help="the figure (default outputs/colorize.png)")
    return p


def one_image(args) -> None:
    """One photo restored at 256, 1024 and over a region; a second row of diffusion samples."""
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

    rows = 2 if args.decoding == "diffusion" else 1
    fig, axes = plt.subplots(rows, 6, figsize=(21, 4.2 * rows), squeeze=False)
    top = axes[0]
    show(top[0], gray, f"input {n}x{n} gray", interpolation="nearest")
    show(top[1], oracle, f"bicubic gray 1024\nMSE {inr.mse(oracle, big):.4f}")
    show(top[2], renders[256], f"{args.model}\n256x256")
    show(top[3], renders[1024], f"{args.model} 1024x1024\nMSE {inr.mse(renders[1024], big):.4f}")
    show(top[4], zoom, f"{args.model}, region\n{REGION} at 1024x512")
    show(top[5], truth, f"ground truth {truth.shape[0]}x{truth.shape[1]}")
    if rows == 2:
        diffusion = inr.load_restorator(args.diffusion_model)
        diffusion_row(axes[1], diffusion, gray, truth, renders[256])
    save_figure(fig, args.out)


def diffusion_row(axes, diffusion, gray, truth, single) -> None:
    """The single pass beside the diffusion model's samplers, at 256x256 and over a region."""
    small = inr.resize(truth, (256, 256), "bicubic")
    panels = [("single pass 256", single)]
    for title, sampler in (
        ("diffusion stride 1", SamplerConfig(stride=1)),
        ("diffusion stride 8", SamplerConfig(stride=8)),
        ('stride 98, noise "zero"', SamplerConfig(stride=98, noise="zero")),
    ):
        t0 = time.perf_counter()
        panels.append((title, diffusion.restore(gray, size=(256, 256), sampler=sampler)))
        print(f"{title}: {time.perf_counter() - t0:.1f} s")
    region = diffusion.restore(
        gray, size=(256, 128), region=REGION, sampler=SamplerConfig(stride=8)
    )
    panels.append(("diffusion stride 8, region", region))
    for ax, (title, img) in zip(axes, panels, strict=False):
        extra = f"\nMSE {inr.mse(img, small):.4f}" if img.shape[:2] == (256, 256) else ""
        show(ax, img, title + extra)
    for ax in axes[len(panels) :]:
        ax.axis("off")


if __name__ == "__main__":
    main()

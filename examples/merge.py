"""Gradient-domain merging and seamless cloning.

With no arguments: merges two built-in images (average and max of their
gradients; exact Poisson and SIREN reconstructions) and clones the cat from
one built-in image into another (normal, mixed, monochrome).  It writes one
figure with the inputs, the naive pixel average and paste, and every
result with its run time.

    python examples/merge.py [--a PATH --b PATH] [--src PATH --dst PATH --mask PATH]
                             [--size 256] [--siren-size 64] [--siren-width 64]
                             [--siren-steps 300] [--out outputs/merge.png]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from _figures import input_image, plt, save_figure, show

import inr


def timed(fn, warm: bool = True):
    """Run ``fn``; with ``warm``, once first so the time excludes compilation."""
    if warm:
        fn()
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def default_mask(shape):
    """An ellipse around the middle of the source (the cat in 'chelsea')."""
    h, w = shape[:2]
    yy, xx = np.mgrid[:h, :w]
    return ((yy - 0.45 * h) / (0.38 * h)) ** 2 + ((xx - 0.45 * w) / (0.3 * w)) ** 2 < 1


def paste(src, dst, mask, offset):
    """``src`` copied into ``dst`` where ``mask`` is set, at ``offset = (x, y)``, clipped."""
    out = dst.copy()
    ox, oy = offset
    h, w = mask.shape
    ys = slice(max(oy, 0), min(oy + h, dst.shape[0]))
    xs = slice(max(ox, 0), min(ox + w, dst.shape[1]))
    inner = (slice(ys.start - oy, ys.stop - oy), slice(xs.start - ox, xs.stop - ox))
    region = out[ys, xs]
    region[mask[inner]] = src[inner][mask[inner]]
    return out


def main(argv=None):
    args = parser().parse_args(argv)
    size = (args.size, args.size)
    a = inr.resize(input_image(args.a, "astronaut"), size, "bilinear")
    b = inr.resize(input_image(args.b, "coffee"), size, "bilinear")
    src = input_image(args.src, "chelsea")
    dst = input_image(args.dst, "rocket")
    mask = inr.load_image(args.mask) > 0.5 if args.mask else default_mask(src.shape)
    if mask.ndim == 3:
        mask = mask[..., 0]
    offset = ((dst.shape[1] - src.shape[1]) // 2, (dst.shape[0] - src.shape[0]) // 2)
    clones = [
        (f"clone, {mode}", lambda m=mode: inr.seamless_clone(src, dst, mask, offset, mode=m))
        for mode in ("normal", "mixed", "monochrome")
    ]

    fig, axes = plt.subplots(2, 6, figsize=(24, 8))
    show(axes[0, 0], a, "input a")
    show(axes[0, 1], b, "input b")
    for ax, (name, fn) in zip(axes[0, 2:], merges(a, b, args), strict=False):
        print(f"{name} ...", flush=True)
        siren = "SIREN" in name  # a one-off fit: its time includes compilation
        out, dt = timed(fn, warm=not siren)
        note = " (fit incl. compile)" if siren else ""
        show(ax, np.clip(out, 0, 1), f"{name}\n{dt * 1e3:.0f} ms{note}")
    show(axes[1, 0], np.where(mask[..., None], src, 1.0), "clone source (masked)")
    show(axes[1, 1], dst, "clone destination")
    for ax, (name, fn) in zip(axes[1, 3:], clones, strict=False):
        print(f"{name} ...", flush=True)
        out, dt = timed(fn)
        show(ax, out, f"{name}\n{dt * 1e3:.0f} ms")
    show(axes[1, 2], paste(src, dst, mask, offset), "naive paste")  # after clone's input checks
    fig.suptitle(f"merges at {size[0]}x{size[1]}; clones into {dst.shape[1]}x{dst.shape[0]}")
    save_figure(fig, args.out)


def parser() -> argparse.ArgumentParser:
    """The command line."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--a", help="first image to merge (default: built-in astronaut)")
    p.add_argument("--b", help="second image to merge (default: built-in coffee)")
    p.add_argument("--src", help="image to clone from (default: built-in chelsea)")
    p.add_argument("--dst", help="image to clone into (default: built-in rocket)")
    p.add_argument("--mask", help="mask on --src (white = clone); default an ellipse")
    p.add_argument("--size", type=int, default=256, help="side of the square images")
    p.add_argument(
        "--siren-size",
        type=int,
        default=64,
        help="the SIREN fits the merged gradients at this size, renders at --size",
    )
    p.add_argument("--siren-width", type=int, default=64, help="the SIREN's hidden width")
    p.add_argument("--siren-steps", type=int, default=300, help="the SIREN's fitting steps")
    p.add_argument("--out", default="outputs/merge.png", help="the figure")
    return p


def merges(a, b, args) -> list:
    """``(name, thunk)``: the naive average, Poisson merges, and a SIREN fit of the merged field."""
    out = [("naive pixel average", lambda: (a + b) / 2)]
    for mode in ("average", "max"):
        out.append((f"{mode}, Poisson", lambda m=mode: inr.merge([a, b], mode=m)))
    small = [inr.resize(x, (args.siren_size,) * 2, "bilinear") for x in (a, b)]

    def siren_merge():
        # The merged field, fitted by a small SIREN at --siren-size, rendered at --size.
        field = inr.merge_gradients(small, mode="max")
        mean = np.mean([x.mean(axis=(0, 1)) for x in small], axis=0)
        model = inr.Siren(args.siren_width, 2, out_features=3)
        fit = inr.fit_gradients(field, mean=mean, model=model, steps=args.siren_steps)
        return fit.render(args.size, args.size)

    out.append((f"max, SIREN {args.siren_size}px -> {args.size}px", siren_merge))
    return out


if __name__ == "__main__":
    main()

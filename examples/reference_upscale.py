"""Reference-based upscaling of faces: restore a 40x40 face with another photo of the person.

For each face of a CelebA-style folder (``<person>_<file>.jpg``), the
centred square at 160x160 is the ground truth and its 40x40 bicubic
downscale the input; the reference is the next photo of the same person.
The figure has one row per face: input, reference, bicubic, the
no-reference model (``--plain``, if given), the reference model with its
reference and with the ground truth itself as the reference (the origin's
experiment: what does it copy?), and the ground truth, with PSNR under each.

    python examples/reference_upscale.py --data ../shared/data/celeba/val
                                         [--model pretrained:celeba-refsr] [--plain PATH]
                                         [--faces 4] [--out PNG]

``--model`` is a reference restorator (``RestoratorConfig(task="upscale",
reference=True)``; train one with ``examples/train.py --reference``).
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path

import numpy as np
from _figures import plt, save_figure

import inr
from inr.interpolation import centre_square
from inr.restorator.data import expand_sources, group_names, load_images

SIDE = 160


def pairs(folder, count: int):
    """``(face, same-person reference)`` at 160x160, from people with two or more photos."""
    files = expand_sources(folder)
    members = defaultdict(list)
    for path, group in zip(files, group_names(files), strict=True):
        members[group].append(path)
    chosen = [m[:2] for m in members.values() if len(m) > 1][:count]
    images = load_images([p for pair in chosen for p in pair])
    squares = [inr.resize(centre_square(image), (SIDE, SIDE)) for image in images]
    return [(squares[2 * i], squares[2 * i + 1]) for i in range(len(chosen))]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", default="pretrained:celeba-refsr", help="a reference restorator")
    p.add_argument("--plain", help="the same architecture trained without references")
    p.add_argument("--data", required=True, help="a folder of <person>_<file> photos")
    p.add_argument("--faces", type=int, default=4)
    p.add_argument("--out", default="outputs/reference_upscale.png")
    args = p.parse_args(argv)

    model = inr.load_restorator(args.model)
    plain = inr.load_restorator(args.plain) if args.plain else None
    faces = pairs(args.data, args.faces)
    if not faces:
        raise SystemExit(f"no person in {args.data} has two photos")
    columns = ["input 40x40", "reference", "bicubic"]
    columns += ["no reference"] * (plain is not None)
    columns += ["with reference", "truth as reference", "ground truth"]
    fig, axes = plt.subplots(
        len(faces), len(columns), figsize=(2.2 * len(columns), 2.4 * len(faces))
    )
    axes = np.atleast_2d(axes)
    for row, (truth, reference) in zip(axes, faces, strict=True):
        low = inr.resize(truth, (SIDE // 4, SIDE // 4))
        shown = [low, reference, inr.resize(low, (SIDE, SIDE))]
        if plain is not None:
            shown.append(plain.restore(low, (SIDE, SIDE)))
        shown += [model.restore(low, (SIDE, SIDE), reference=reference)]
        # The origin's experiment: with the answer as its reference, what is copied?
        shown += [model.restore(low, (SIDE, SIDE), reference=truth), truth]
        for ax, title, image in zip(row, columns, shown, strict=True):
            ax.imshow(np.clip(image, 0, 1), interpolation="nearest")
            scored = image.shape == truth.shape and title not in ("reference", "ground truth")
            if scored:
                title = f"{title}\n{inr.psnr(np.clip(image, 0, 1), truth):.2f} dB"
            ax.set_title(title, fontsize=8)
            ax.axis("off")
    save_figure(fig, Path(args.out))


if __name__ == "__main__":
    main()

"""Reference-based upscaling of faces: restore a 40x40 face with another photo of the person.

The ground truth is a face's square at 160x160 and the input its 40x40
bicubic downscale. With ``--data`` (a CelebA-style folder,
``<person>_<file>.jpg``) the reference is the next photo of the same
person; without it, the built-in astronaut's face, whose reference is the
same photo framed wider (same pose and light: the best case for a
reference). One row per face: input, reference, bicubic, the model
without a reference, the model with the reference, and the ground truth,
with PSNR under each; ``--plain`` adds the same architecture trained
without references, ``--truth-reference`` the model given the ground truth
itself as its reference (a diagnostic: what does it copy?).

    python examples/reference_upscale.py [--data ../shared/data/celeba/val]
                                         [--model pretrained:celeba-refsr] [--plain PATH]
                                         [--faces 4] [--truth-reference] [--out PNG]

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


def builtin_pair():
    """The astronaut's face, and the same photo framed wider as its reference."""
    photo = inr.sample_image("astronaut")
    face = inr.resize(photo[20:240, 140:360], (SIDE, SIDE))
    return [(face, inr.resize(photo[0:280, 110:390], (SIDE, SIDE)))]


def rows(model, plain, faces, truth_reference: bool):
    """``(titles, [panels per face])``: what each column shows, and the images."""
    titles = ["input 40x40", "reference", "bicubic"]
    titles += ["trained without references"] * (plain is not None)
    titles += [f"{model.card.get('name', 'model')}\nno reference", "with the reference"]
    titles += ["truth as reference"] * truth_reference + ["ground truth"]
    panels = []
    for truth, reference in faces:
        low = inr.resize(truth, (SIDE // 4, SIDE // 4))
        shown = [low, reference, inr.resize(low, (SIDE, SIDE))]
        shown += [plain.restore(low, (SIDE, SIDE))] if plain is not None else []
        shown += [model.restore(low, (SIDE, SIDE))]
        shown += [model.restore(low, (SIDE, SIDE), reference=reference)]
        shown += [model.restore(low, (SIDE, SIDE), reference=truth)] if truth_reference else []
        panels.append([*shown, truth])
    return titles, panels


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", default="pretrained:celeba-refsr", help="a reference restorator")
    p.add_argument("--plain", help="the same architecture trained without references")
    p.add_argument("--data", help="a folder of <person>_<file> photos (default: built-in)")
    p.add_argument("--faces", type=int, default=4, help="people from --data, a row each")
    p.add_argument(
        "--truth-reference", action="store_true", help="add the ground truth as the reference"
    )
    p.add_argument("--out", default="outputs/reference_upscale.png", help="the figure")
    args = p.parse_args(argv)

    model = inr.load_restorator(args.model)
    plain = inr.load_restorator(args.plain) if args.plain else None
    faces = pairs(args.data, args.faces) if args.data else builtin_pair()
    if not faces:
        raise SystemExit(f"no person in {args.data} has two photos")
    titles, panels = rows(model, plain, faces, args.truth_reference)
    fig, axes = plt.subplots(
        len(faces), len(titles), figsize=(2.2 * len(titles), 2.5 * len(faces)), squeeze=False
    )
    for row, shown in zip(axes, panels, strict=True):
        truth = shown[-1]
        for ax, title, image in zip(row, titles, shown, strict=True):
            ax.imshow(np.clip(image, 0, 1), interpolation="nearest")
            scored = image.shape == truth.shape and title not in ("reference", "ground truth")
            if scored:
                title = f"{title}\n{inr.psnr(np.clip(image, 0, 1), truth):.2f} dB"
            ax.set_title(title, fontsize=8)
            ax.axis("off")
    save_figure(fig, Path(args.out))


if __name__ == "__main__":
    main()

"""Reference-based super-resolution on CelebA faces (TTSR's setting: x4, 40 -> 160).

Each face's centred square is resized to 160x160 (the ground truth) and
downscaled bicubically to 40x40 (the input).  References: the next photo of
the same person, a photo of another person, and the ground truth itself
(the origin's experiment: how much of a reference does the model copy?).
Rows, PSNR and SSIM on RGB and on Y (BT.601):

* bicubic;
* ``--plain``: the same architecture trained without references;
* ``--model``: the reference model without a reference and with each kind;
* inpainting: 16 of the input's 8x8 cells blanked (25%), PSNR inside the
  blanked region, with and without the same-person reference, and for
  ``--plain``;
* x2, x3 and x8 (inputs 80, 53 and 20 pixels) against bicubic.

Goals: same person >= +0.5 dB over ``--plain``; ground truth >= +6 dB;
another person no worse than -0.1 dB; inpainting >= +1 dB with the
same-person reference.

Usage: python benchmarks/reference_sr.py --data ../shared/data/celeba/val
       [--model PATH] [--plain PATH] [--limit 100] [--json PATH]
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path

import numpy as np
from _timing import RESULTS, print_table, write_json

import inr
from inr.restorator.data import group_names, load_images
from inr.restorator.frannet import centre_square

SIDE = 160


def _faces(folder: str, limit: int | None):
    """``(truth, same-person truth, other-person truth)`` triples, 160x160."""
    files = sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in (".jpg", ".png"))
    groups = group_names(files)
    crops = []
    for photo in load_images(files):
        crops.append(inr.resize(centre_square(photo), (SIDE, SIDE)))
    members = defaultdict(list)
    for i, g in enumerate(groups):
        members[g].append(i)
    names = sorted(members)
    triples = []
    for i, g in enumerate(groups):
        own = members[g]
        same = own[(own.index(i) + 1) % len(own)]
        other = members[names[(names.index(g) + 1) % len(names)]][0]
        triples.append((crops[i], crops[same], crops[other]))
    return triples[:limit]


def _scores(out, truth, region=None) -> dict:
    out = np.clip(out, 0, 1)
    if region is not None:
        diff = (out - truth)[region]
        return {"psnr": float(-10 * np.log10(np.mean(diff**2)))}
    y_out, y_truth = inr.luma_bt601(out), inr.luma_bt601(truth)
    return {
        "psnr": inr.psnr(out, truth),
        "psnr_y": inr.psnr(y_out, y_truth),
        "ssim": inr.ssim(out, truth),
        "ssim_y": inr.ssim(y_out, y_truth),
    }


def _mean(rows: list[dict]) -> dict:
    return {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}


def _blank_cells(image, rng):
    """``image`` with 16 of its 8x8 grid cells set to 0, and the blanked mask."""
    n = image.shape[0]
    edges = np.round(np.linspace(0, n, 9)).astype(int)
    mask = np.zeros(image.shape[:2], bool)
    for cell in rng.choice(64, 16, replace=False):
        r, c = divmod(int(cell), 8)
        mask[edges[r] : edges[r + 1], edges[c] : edges[c + 1]] = True
    return np.where(mask[..., None], 0.0, image), mask


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", required=True)
    p.add_argument("--model", help="a reference restorator (task upscale, reference=True)")
    p.add_argument("--plain", help="the same architecture trained without references")
    p.add_argument("--limit", type=int, default=100)
    p.add_argument("--json", default=str(RESULTS / "reference_sr.json"))
    args = p.parse_args()

    faces = _faces(args.data, args.limit)
    model = inr.load_restorator(args.model) if args.model else None
    plain = inr.load_restorator(args.plain) if args.plain else None
    rows = defaultdict(list)
    rng = np.random.default_rng(0)
    for truth, same, other in faces:
        small = inr.resize(truth, (SIDE // 4, SIDE // 4))
        size = (SIDE, SIDE)
        rows["bicubic x4"].append(_scores(inr.resize(small, size), truth))
        holed, mask = _blank_cells(small, rng)
        region = np.kron(mask, np.ones((4, 4), bool))
        if plain is not None:
            rows["no-reference model x4"].append(_scores(plain.restore(small, size), truth))
            out = plain.restore(holed, size)
            rows["inpainting 25%, no-reference model (masked region)"].append(
                _scores(out, truth, region)
            )
        if model is not None:
            for name, ref in [("none", None), ("same person", same), ("other person", other),
                              ("ground truth", truth)]:  # fmt: skip
                out = model.restore(small, size, reference=ref)
                rows[f"reference model x4, reference: {name}"].append(_scores(out, truth))
            for name, ref in [("without", None), ("same person", same)]:
                out = model.restore(holed, size, reference=ref)
                rows[f"inpainting 25%, {name} reference (masked region)"].append(
                    _scores(out, truth, region)
                )
            for scale in (2, 3, 8):
                low = inr.resize(truth, (round(SIDE / scale),) * 2)
                rows[f"bicubic x{scale}"].append(_scores(inr.resize(low, size), truth))
                out = model.restore(low, size, reference=same)
                rows[f"reference model x{scale}, same person"].append(_scores(out, truth))
    table_rows = [{"row": name, "faces": len(v), **_mean(v)} for name, v in rows.items()]
    table = print_table(table_rows, ["row", "faces", "psnr", "psnr_y", "ssim", "ssim_y"])
    write_json(args.json, {"data": args.data, "rows": table_rows, "table": table})


if __name__ == "__main__":
    main()

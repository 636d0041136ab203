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
* x2, x3 and x8 (inputs 80, 53 and 20 pixels) against bicubic;
* ``--bound``: what each reference *itself* knows that the model lacks.
  Its detail (the reference minus its own 40x40 bicubic round trip), moved
  per 16x16 block to the shift (within 12 pixels) whose low-resolution
  content best matches the input's, is added to the model's output with
  the weight ``a >= 0`` that the ground truth itself fits best, per face:
  an upper bound on the PSNR gain of that transfer, blended linearly.  For
  inpainting, the reference shifted and colour-fitted to the visible cells
  is blended into the holes the same way.  With the ground truth as the
  reference the bound is large, so a near-zero bound for another photo
  says the photo holds no such information, not that the procedure fails.

Goals: same person >= +0.5 dB over ``--plain``; ground truth >= +6 dB;
another person no worse than -0.1 dB; inpainting >= +1 dB with the
same-person reference.

Usage: python benchmarks/reference_sr.py --data ../shared/data/celeba/val
       [--model PATH] [--plain PATH] [--limit 100] [--bound] [--json PATH]
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path

import numpy as np
from _timing import RESULTS, print_table, write_json

import inr
from inr.interpolation import centre_square, resize_weights
from inr.restorator.data import group_names, load_images

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


# Host-side 160 -> 40 -> 160 bicubic round trip, as a matrix per axis.
_DOWN = resize_weights(SIDE, SIDE // 4)
_ROUND_TRIP = resize_weights(SIDE // 4, SIDE) @ _DOWN
_SHIFTS = [(dy, dx) for dy in range(-12, 13, 2) for dx in range(-12, 13, 2)]
_BLOCK = 16


def _shift(image, dy, dx):
    """``image`` moved by ``(dy, dx)`` pixels, edges repeated."""
    r = max(abs(dy), abs(dx))
    padded = np.pad(image, ((r, r), (r, r), (0, 0)), mode="edge")
    h, w = image.shape[:2]
    return padded[r - dy : r - dy + h, r - dx : r - dx + w]


def _separable(matrix, image):
    """``matrix @ image @ matrix.T`` on each channel."""
    rows = np.tensordot(matrix, image, axes=(1, 0))
    return np.moveaxis(np.tensordot(matrix, rows, axes=(1, 1)), 0, 1)


def _block_error(a, b):
    """Mean-removed squared difference per ``_BLOCK``-square block, ``(n, n)``."""
    n = a.shape[0] // _BLOCK
    d = (a - b).reshape(n, _BLOCK, n, _BLOCK, -1)
    d = d - d.mean(axis=(1, 3), keepdims=True)
    return np.mean(d**2, axis=(1, 3, 4))


def _matched_detail(reference, upsampled):
    """The reference's detail, each block taken at its best-matching shift."""
    best, detail = None, np.zeros_like(reference)
    for dy, dx in _SHIFTS:
        moved = _shift(reference, dy, dx)
        low = _separable(_ROUND_TRIP, moved)
        err = _block_error(low, upsampled)
        take = err < best if best is not None else np.ones_like(err, bool)
        best = err if best is None else np.minimum(best, err)
        mask = np.kron(take, np.ones((_BLOCK, _BLOCK), bool))[..., None]
        detail = np.where(mask, moved - low, detail)
    return detail


def _oracle_gain(base, addition, truth, region) -> float:
    """PSNR gain in ``region`` of ``base + a * addition``, ``a >= 0`` fitted to the truth."""
    r, d = (truth - base)[region], addition[region]
    a = max(0.0, float(np.sum(d * r) / max(np.sum(d * d), 1e-12)))
    before = np.mean((np.clip(base, 0, 1) - truth)[region] ** 2)
    after = np.mean((np.clip(base + a * addition, 0, 1) - truth)[region] ** 2)
    return float(10 * np.log10(before / after))


def _fitted_copy(reference, holed, visible):
    """The reference at the shift and per-channel gain/offset that fit the visible cells best."""
    best = None
    for dy, dx in _SHIFTS:
        moved = _shift(reference, dy, dx)
        small = _separable(_DOWN, moved)
        x, y = small[visible], holed[visible]
        coef = [np.polyfit(x[:, c], y[:, c], 1) for c in range(3)]
        fit = np.stack([np.polyval(coef[c], small[..., c]) for c in range(3)], -1)
        err = np.mean((fit - holed)[visible] ** 2)
        if best is None or err < best[0]:
            best = (err, np.stack([np.polyval(coef[c], moved[..., c]) for c in range(3)], -1))
    return best[1]


def _bound_rows(out, filled, small, holed, mask, region, refs, truth, rows):
    """The bound rows, over ``out`` (the x4 render) and ``filled`` (the holed one)."""
    inner = np.zeros((SIDE, SIDE), bool)
    inner[_BLOCK:-_BLOCK, _BLOCK:-_BLOCK] = True
    upsampled = inr.resize(small, (SIDE, SIDE))
    for name, ref in refs:
        gain = _oracle_gain(out, _matched_detail(ref, upsampled), truth, inner)
        rows[f"bound x4, reference: {name} (dB over the model)"].append({"psnr": gain})
    for name, ref in refs[:2]:
        copy = _fitted_copy(ref, holed, ~mask)
        gain = _oracle_gain(filled, copy - filled, truth, region)
        rows[f"bound inpainting, reference: {name} (dB, masked region)"].append({"psnr": gain})


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", required=True, help="a folder of <person>_<file> photos (celeba/val)")
    p.add_argument("--model", help="a reference restorator (task upscale, reference=True)")
    p.add_argument("--plain", help="the same architecture trained without references")
    p.add_argument("--limit", type=int, default=100, help="people scored")
    p.add_argument("--bound", action="store_true", help="the references' information bound")
    p.add_argument(
        "--json", default=str(RESULTS / "reference_sr.json"), help="where the results go"
    )
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
            renders = {}  # without a reference, kept for the bound
            for name, ref in [("none", None), ("same person", same), ("other person", other),
                              ("ground truth", truth)]:  # fmt: skip
                out = renders[name] = np.asarray(model.restore(small, size, reference=ref))
                rows[f"reference model x4, reference: {name}"].append(_scores(out, truth))
            for name, ref in [("without", None), ("same person", same)]:
                out = renders[name] = np.asarray(model.restore(holed, size, reference=ref))
                rows[f"inpainting 25%, {name} reference (masked region)"].append(
                    _scores(out, truth, region)
                )
            for scale in (2, 3, 8):
                low = inr.resize(truth, (round(SIDE / scale),) * 2)
                rows[f"bicubic x{scale}"].append(_scores(inr.resize(low, size), truth))
                out = model.restore(low, size, reference=same)
                rows[f"reference model x{scale}, same person"].append(_scores(out, truth))
            if args.bound:
                refs = [("same person", same), ("other person", other), ("ground truth", truth)]
                # The ground truth goes last: the inpainting bound skips it (an exact copy).
                renders = (renders["none"], renders["without"])
                _bound_rows(*renders, small, holed, mask, region, refs, truth, rows)
    table_rows = [{"row": name, "faces": len(v), **_mean(v)} for name, v in rows.items()]
    table = print_table(table_rows, ["row", "faces", "psnr", "psnr_y", "ssim", "ssim_y"])
    write_json(args.json, {"data": args.data, "rows": table_rows, "table": table})


if __name__ == "__main__":
    main()

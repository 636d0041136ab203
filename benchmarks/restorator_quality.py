"""Restorator quality on set5/set14 beside the classical baselines, one process.

* ``restore``: the ground truth squashed to 64x64 and turned gray is the
  input; the output is rendered at full size in colour.  Metric: RGB MSE in
  [0, 1] beside the *oracle* (bicubic upscale of the gray input copied to
  three channels, FranNet's baseline).  Goal: <= 0.75 x the oracle on set14.
* ``upscale`` x2, x3, x4: the low-res input is the antialiased bicubic
  downscale of the ground truth cropped to a multiple of the scale; PSNR on
  the BT.601 luma with ``scale`` pixels cropped from each border, beside
  bicubic upscaling.  Goal: x4 on set14 >= bicubic + 0.5 dB.

Usage:
  python benchmarks/restorator_quality.py --data ../shared/data \
      [--restore pretrained:restore] [--upscale pretrained:upscale] [--sets set5 set14]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from _common import RESULTS, print_table, write_json

import inr


def load_set(folder: Path) -> list[tuple[str, np.ndarray]]:
    out = []
    for path in sorted(folder.glob("*.png")):
        img = inr.load_image(path)
        if img.ndim == 2:
            img = np.repeat(img[..., None], 3, axis=-1)
        out.append((path.stem, img[..., :3]))
    if not out:
        raise SystemExit(f"no PNG images in {folder}")
    return out


def restore_row(model, name, gt, input_size):
    h, w = gt.shape[:2]
    gray = inr.rgb_to_gray(inr.resize(gt, (input_size, input_size), "bicubic"))
    oracle = np.repeat(inr.resize(gray, (h, w), "bicubic")[..., None], 3, axis=-1)
    ours = model.restore(gray, size=(h, w))
    return {"image": name, "oracle_mse": inr.mse(oracle, gt), "inr_mse": inr.mse(ours, gt)}


def luma_psnr(a, b, border):
    ya = inr.luma_bt601(a)[border:-border, border:-border]
    yb = inr.luma_bt601(b)[border:-border, border:-border]
    return inr.psnr(ya, yb)


def upscale_row(model, name, gt, scale):
    h, w = (s - s % scale for s in gt.shape[:2])
    gt = gt[:h, :w]
    low = inr.resize(gt, (h // scale, w // scale), "bicubic")
    bicubic = inr.resize(low, (h, w), "bicubic")
    ours = model.restore(low, size=(h, w))
    return {
        "image": name,
        "scale": scale,
        "bicubic_psnr": luma_psnr(bicubic, gt, scale),
        "inr_psnr": luma_psnr(ours, gt, scale),
    }


def summarise(rows, keys):
    return {k: float(np.mean([r[k] for r in rows])) for k in keys}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", default="../shared/data", help="folder holding set5/ and set14/")
    p.add_argument("--sets", nargs="+", default=["set5", "set14"])
    p.add_argument(
        "--restore", default="pretrained:restore", help="model file, checkpoint or pretrained"
    )
    p.add_argument("--upscale", default="pretrained:upscale")
    p.add_argument("--scales", nargs="+", type=int, default=[2, 3, 4])
    p.add_argument("--json", default=str(RESULTS / "restorator_quality.json"))
    args = p.parse_args()

    summary, per_image = [], {}
    for set_name in args.sets:
        images = load_set(Path(args.data) / set_name)
        if args.restore != "none":
            model = inr.load_restorator(args.restore)
            rows = [restore_row(model, n, g, model.config.input_size) for n, g in images]
            per_image[f"{set_name}/restore"] = rows
            s = summarise(rows, ["oracle_mse", "inr_mse"])
            s.update(set=set_name, task="restore", ratio=s["inr_mse"] / s["oracle_mse"])
            summary.append(s)
        if args.upscale != "none":
            model = inr.load_restorator(args.upscale)
            for scale in args.scales:
                rows = [upscale_row(model, n, g, scale) for n, g in images]
                per_image[f"{set_name}/upscale_x{scale}"] = rows
                s = summarise(rows, ["bicubic_psnr", "inr_psnr"])
                s.update(
                    set=set_name,
                    task=f"upscale x{scale}",
                    gain_db=s["inr_psnr"] - s["bicubic_psnr"],
                )
                summary.append(s)

    print("\nrestore: RGB MSE (lower is better); ratio = inr / oracle")
    print_table(
        [r for r in summary if r["task"] == "restore"], ["set", "oracle_mse", "inr_mse", "ratio"]
    )
    print("\nupscale: Y-channel PSNR (dB), border cropped by the scale")
    print_table(
        [r for r in summary if r["task"] != "restore"],
        ["set", "task", "bicubic_psnr", "inr_psnr", "gain_db"],
    )
    write_json(
        args.json,
        {
            "models": {"restore": args.restore, "upscale": args.upscale},
            "summary": summary,
            "per_image": per_image,
        },
    )


if __name__ == "__main__":
    main()

"""Restorator quality on set5/set14 beside the classical baselines, one process.

* ``restore``: the ground truth squashed to 64x64 and turned gray is the
  input; the output is rendered at full size in colour.  Metric: RGB MSE in
  [0, 1] beside the *oracle* (bicubic upscale of the gray input copied to
  three channels, FranNet's baseline).  Goal: <= 0.75 x the oracle on set14.
* ``upscale`` x2, x3, x4: the low-res input is the antialiased bicubic
  downscale of the ground truth cropped to a multiple of the scale; PSNR on
  the BT.601 luma with ``scale`` pixels cropped from each border, beside
  bicubic upscaling.  Goal: x4 on set14 >= bicubic + 0.5 dB.

* ``--diffusion MODEL`` adds FranNet's sampler sweep for a diffusion
  restorator (restore task): stochasticity {0, 0.5, 1} x stride {1, 4, 8} x
  noise {normal, squared, zero} x projection {on, off}, RGB MSE on each set,
  beside the single-pass model; one table and one plot
  (``--sweep-size S`` squashes the ground truth to S x S and renders at
  that size, to bound the cost on a CPU).

Usage:
  python benchmarks/restorator_quality.py --data ../shared/data \
      [--restore pretrained:restore] [--upscale pretrained:upscale] [--sets set5 set14]
      [--diffusion runs/diffusion.msgpack --sweep-size 256]
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


SWEEP = [
    dict(stochasticity=eta, stride=stride, noise=noise, project_noise=project)
    for eta in (0.0, 0.5, 1.0)
    for stride in (1, 4, 8)
    for noise in ("normal", "squared", "zero")
    for project in (False, True)
]


def sweep(model, images, input_size, side):
    """RGB MSE of every sampler setting over ``images``.

    With ``side`` the ground truth is squashed to ``side x side`` (as the
    input is squashed to 64x64) and every render has that one size, so each
    setting compiles once; ``side=0`` renders at full size.
    """
    rows = []
    cases = []
    for name, gt in images:
        size = (side, side) if side else gt.shape[:2]
        truth = inr.resize(gt, size, "bicubic") if side else gt
        gray = inr.rgb_to_gray(inr.resize(gt, (input_size, input_size), "bicubic"))
        cases.append((name, gray, truth, size))
    for settings in SWEEP:
        errors = [inr.mse(model.restore(g, size=sz, **settings), t) for _, g, t, sz in cases]
        rows.append({**settings, "mse": float(np.mean(errors))})
        print(f"  {settings} -> {rows[-1]['mse']:.5f}", flush=True)
    return rows, cases


def plot_sweep(rows, single_mse, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6), sharey=True)
    for ax, stride in zip(axes, (1, 4, 8), strict=True):
        for noise in ("normal", "squared", "zero"):
            for project, style in ((False, "-o"), (True, "--s")):
                pick = [
                    r
                    for r in rows
                    if r["stride"] == stride
                    and r["noise"] == noise
                    and r["project_noise"] == project
                ]
                ax.plot(
                    [r["stochasticity"] for r in pick],
                    [r["mse"] for r in pick],
                    style,
                    label=f"{noise}{' +proj' if project else ''}",
                )
        ax.axhline(single_mse, color="k", lw=1, label="single pass")
        ax.set_title(f"stride {stride}")
        ax.set_xlabel("stochasticity")
    axes[0].set_ylabel("RGB MSE")
    axes[-1].legend(fontsize=7)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    print(f"wrote {path}")


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
    p.add_argument("--diffusion", default=None, help="a diffusion restorator (restore task)")
    p.add_argument(
        "--sweep-single",
        default=None,
        help="single-pass model with the diffusion model's training budget (default: --restore)",
    )
    p.add_argument("--sweep-sets", nargs="+", default=["set14"])
    p.add_argument(
        "--sweep-size", type=int, default=0, help="square side of sweep renders (0: full size)"
    )
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
    sweeps = {}
    if args.diffusion:
        model = inr.load_restorator(args.diffusion)
        single = inr.load_restorator(args.sweep_single or args.restore)
        for set_name in args.sweep_sets:
            images = load_set(Path(args.data) / set_name)
            rows, cases = sweep(model, images, model.config.input_size, args.sweep_size)
            single_mse = float(
                np.mean([inr.mse(single.restore(g, size=sz), t) for _, g, t, sz in cases])
            )
            best = min(rows, key=lambda r: r["mse"])
            sweeps[set_name] = {"rows": rows, "single_pass_mse": single_mse, "best": best}
            print(f"\nsampler sweep on {set_name} (single pass: {single_mse:.5f})")
            print_table(rows, ["stochasticity", "stride", "noise", "project_noise", "mse"])
            plot_sweep(rows, single_mse, Path(args.json).with_name(f"sampler_sweep_{set_name}.png"))
    write_json(
        args.json,
        {
            "models": {"restore": args.restore, "upscale": args.upscale},
            "summary": summary,
            "per_image": per_image,
            "sampler_sweep": sweeps,
        },
    )


if __name__ == "__main__":
    main()

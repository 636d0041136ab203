"""Restorator quality on set5/set14 beside the classical baselines, one process.

* ``restore``: the ground truth squashed to 64x64 and turned gray is the
  input; the output is rendered at full size in colour.  Metric: RGB MSE in
  [0, 1] beside the *oracle* (bicubic upscale of the gray input copied to
  three channels, FranNet's baseline).  Goal: <= 0.75 x the oracle on set14.
* ``upscale`` x2, x3, x4: the low-res input is the antialiased bicubic
  downscale of the ground truth cropped to a multiple of the scale; PSNR on
  the BT.601 luma with ``scale`` pixels cropped from each border, beside
  bicubic upscaling.  Goal: x4 on set14 >= bicubic + 0.5 dB.
* ``--ensemble dihedral`` (or ``flip``) averages every render over the
  image's flips and transposes (:mod:`inr.restorator.ensemble`).

* ``--diffusion MODEL`` adds FranNet's sampler sweep for a diffusion
  restorator (restore task): stochasticity {0, 0.5, 1} x stride {1, 4, 8} x
  noise {normal, squared, zero} x projection {on, off}, RGB MSE on each set,
  beside the single-pass model; one table and one plot
  (``--sweep-size S`` squashes the ground truth to S x S and renders at
  that size, to bound the cost on a CPU).  Beyond FranNet's grid it also
  runs fewer steps (stochasticity 1, noise "zero", strides 16, 33, 98, and
  deterministic DDIM at stride 98).  The best grid setting and the best
  setting overall are then rendered again at full size, beside the single
  pass, since the goal is stated at full size.
* ``--diffusion MODEL --sampler stride=98,noise=zero`` (repeatable) scores
  only the given sampler settings at full size, beside the single pass,
  instead of the sweep.

Usage:
  python benchmarks/restorator_quality.py --data ../shared/data \
      [--restore pretrained:restore] [--upscale pretrained:upscale] [--sets set5 set14]
      [--diffusion runs/diffusion.msgpack --sweep-size 256] [--ensemble dihedral]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from _timing import RESULTS, print_table, write_json

import inr
from inr.diffusion import visited_steps


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


def restore_row(model, name, gt, input_size, ensemble=None):
    h, w = gt.shape[:2]
    gray = inr.rgb_to_gray(inr.resize(gt, (input_size, input_size), "bicubic"))
    oracle = np.repeat(inr.resize(gray, (h, w), "bicubic")[..., None], 3, axis=-1)
    ours = model.restore(gray, size=(h, w), ensemble=ensemble)
    return {"image": name, "oracle_mse": inr.mse(oracle, gt), "inr_mse": inr.mse(ours, gt)}


def luma_psnr(a, b, border):
    ya = inr.luma_bt601(a)[border:-border, border:-border]
    yb = inr.luma_bt601(b)[border:-border, border:-border]
    return inr.psnr(ya, yb)


def upscale_row(model, name, gt, scale, ensemble=None):
    h, w = (s - s % scale for s in gt.shape[:2])
    gt = gt[:h, :w]
    low = inr.resize(gt, (h // scale, w // scale), "bicubic")
    bicubic = inr.resize(low, (h, w), "bicubic")
    ours = model.restore(low, size=(h, w), ensemble=ensemble)
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
# Fewer steps than the grid's fewest (15 calls); stride 98 visits 99, 1, 0.
BEYOND = [
    *(dict(stochasticity=1.0, stride=k, noise="zero", project_noise=False) for k in (16, 33, 98)),
    dict(stochasticity=0.0, stride=98, noise="zero", project_noise=False),
]


def sweep_cases(images, input_size, side):
    """(name, gray input, truth, size) per image.

    With ``side`` the ground truth is squashed to ``side x side`` (as the
    input is squashed to 64x64) and every render has that one size, so each
    setting compiles once; ``side=0`` keeps the full size.
    """
    cases = []
    for name, gt in images:
        size = (side, side) if side else gt.shape[:2]
        truth = inr.resize(gt, size, "bicubic") if side else gt
        gray = inr.rgb_to_gray(inr.resize(gt, (input_size, input_size), "bicubic"))
        cases.append((name, gray, truth, size))
    return cases


def mean_mse(model, cases, settings=None):
    """Mean RGB MSE of ``model`` over ``cases``, rendered with sampler ``settings``."""
    settings = settings or {}
    sampler = inr.diffusion.SamplerConfig(**settings) if settings else None
    errors = [inr.mse(model.restore(g, size=sz, sampler=sampler), t) for _, g, t, sz in cases]
    return float(np.mean(errors))


def sweep(model, cases):
    """RGB MSE of every sampler setting (FranNet's grid, then :data:`BEYOND`).

    At stochasticity 0 sigma is 0, so the noise mode and the projection do
    nothing (up to rounding); those settings are rendered once and share a
    row value, which saves 15 of the grid's 54 renders.
    """
    rows, seen = [], {}
    for settings in SWEEP + BEYOND:
        same = dict(settings, noise="zero", project_noise=False)
        key = tuple(sorted((same if settings["stochasticity"] == 0 else settings).items()))
        if key not in seen:
            seen[key] = mean_mse(model, cases, settings)
        rows.append({**settings, "grid": settings in SWEEP, "mse": seen[key]})
        print(f"  {settings} -> {rows[-1]['mse']:.5f}", flush=True)
    return rows


def plot_sweep(rows, single_mse, num_steps, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 4, figsize=(17, 3.6), sharey=True)
    for ax, stride in zip(axes[:3], (1, 4, 8), strict=True):
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
    for eta, style in ((1.0, "-o"), (0.0, "--s")):
        pick = [
            r
            for r in rows
            if r["stochasticity"] == eta and r["noise"] == "zero" and not r["project_noise"]
        ]
        calls = [len(visited_steps(num_steps, r["stride"])) for r in pick]
        axes[3].plot(calls, [r["mse"] for r in pick], style, label=f"stochasticity {eta:g}, zero")
    axes[3].axhline(single_mse, color="k", lw=1, label="single pass")
    axes[3].set_xscale("log")
    axes[3].set_title("fewer steps")
    axes[3].set_xlabel("decoder calls")
    axes[3].legend(fontsize=7)
    axes[0].set_ylabel("RGB MSE")
    axes[2].legend(fontsize=7)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    print(f"wrote {path}")


def summarise(rows, keys):
    return {k: float(np.mean([r[k] for r in rows])) for k in keys}


def full_size_rows(model, single, cases, picks):
    """The single pass and each picked sweep row, re-rendered on full-size ``cases``."""
    rows = [{"render": "single pass", "mse": mean_mse(single, cases)}]
    for label, row in picks.items():
        settings = {k: row[k] for k in SWEEP[0]}
        rows.append({"render": label, **settings, "mse": mean_mse(model, cases, settings)})
    return rows


def sampler_setting(text: str) -> dict:
    """``"stride=98,noise=zero"`` as a full sweep row's settings (the rest at their defaults)."""
    settings = dict(stochasticity=1.0, stride=1, noise="normal", project_noise=False)
    for pair in text.split(","):
        key, _, value = pair.partition("=")
        if key not in settings:
            raise SystemExit(f"--sampler: {key!r} is not one of {tuple(settings)}")
        kind = type(settings[key])
        settings[key] = value in ("1", "true", "True") if kind is bool else kind(value)
    return settings


def run_samplers(args, model, single, set_name):
    """The given sampler settings and the single pass, at full size on ``set_name``."""
    cases = sweep_cases(load_set(Path(args.data) / set_name), model.config.input_size, 0)
    picks = {text: sampler_setting(text) for text in args.sampler}
    full = full_size_rows(model, single, cases, picks)
    print(f"\nat full size on {set_name}")
    print_table(full, ["render", "stochasticity", "stride", "noise", "mse"])
    return {"full_size": full}


def run_sweeps(args):
    """FranNet's sweep of ``args.diffusion`` on each of ``args.sweep_sets``."""
    model = inr.load_restorator(args.diffusion)
    single = inr.load_restorator(args.sweep_single or args.restore)
    input_size = model.config.input_size
    sweeps = {}
    for set_name in args.sweep_sets:
        if args.sampler:
            sweeps[set_name] = run_samplers(args, model, single, set_name)
            continue
        images = load_set(Path(args.data) / set_name)
        cases = sweep_cases(images, input_size, args.sweep_size)
        rows = sweep(model, cases)
        single_mse = mean_mse(single, cases)
        picks = {
            "best grid setting": min((r for r in rows if r["grid"]), key=lambda r: r["mse"]),
            "best setting": min(rows, key=lambda r: r["mse"]),
        }
        print(f"\nsampler sweep on {set_name} (single pass: {single_mse:.5f})")
        print_table(rows, ["stochasticity", "stride", "noise", "project_noise", "grid", "mse"])
        full = []
        if args.sweep_size:  # the squashed sweep picks; the goal is judged at full size
            full = full_size_rows(model, single, sweep_cases(images, input_size, 0), picks)
            print(f"\nat full size on {set_name}")
            print_table(full, ["render", "stochasticity", "stride", "noise", "mse"])
        sweeps[set_name] = {"rows": rows, "single_pass_mse": single_mse, **picks, "full_size": full}
        plot_sweep(
            rows,
            single_mse,
            model.config.num_steps,
            Path(args.json).with_name(f"sampler_sweep_{set_name}.png"),
        )
    return sweeps


def parser() -> argparse.ArgumentParser:
    """The command line."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", default="../shared/data", help="folder holding set5/ and set14/")
    p.add_argument("--sets", nargs="+", default=["set5", "set14"], help="folders of --data")
    p.add_argument(
        "--restore", default="pretrained:restore", help="model file, checkpoint or pretrained"
    )
    p.add_argument("--upscale", default="pretrained:upscale", help="the upscaler (none: skip)")
    p.add_argument("--scales", nargs="+", type=int, default=[2, 3, 4], help="upscaling factors")
    p.add_argument("--diffusion", default=None, help="a diffusion restorator (restore task)")
    p.add_argument(
        "--sweep-single",
        default=None,
        help="single-pass model with the diffusion model's training budget (default: --restore)",
    )
    p.add_argument("--sweep-sets", nargs="+", default=["set14"], help="sets of the sampler sweep")
    p.add_argument(
        "--sampler",
        action="append",
        help="score only this setting, e.g. stride=98,noise=zero (repeatable; skips the sweep)",
    )
    p.add_argument(
        "--sweep-size", type=int, default=0, help="square side of sweep renders (0: full size)"
    )
    p.add_argument(
        "--ensemble", choices=inr.restorator.ENSEMBLES, help="self-ensemble every render"
    )
    p.add_argument(
        "--json", default=str(RESULTS / "restorator_quality.json"), help="where results go"
    )
    return p


def main():
    args = parser().parse_args()
    summary, per_image = [], {}
    for set_name in args.sets:
        images = load_set(Path(args.data) / set_name)
        if args.restore != "none":
            s, per_image[f"{set_name}/restore"] = restore_summary(args, set_name, images)
            summary.append(s)
        if args.upscale != "none":
            model = inr.load_restorator(args.upscale)
            for scale in args.scales:
                rows = [upscale_row(model, n, g, scale, args.ensemble) for n, g in images]
                per_image[f"{set_name}/upscale_x{scale}"] = rows
                s = summarise(rows, ["bicubic_psnr", "inr_psnr"])
                gain = s["inr_psnr"] - s["bicubic_psnr"]
                s.update(set=set_name, task=f"upscale x{scale}", gain_db=gain)
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
    sweeps = run_sweeps(args) if args.diffusion else {}
    write_json(
        args.json,
        {
            "models": {"restore": args.restore, "upscale": args.upscale},
            "ensemble": args.ensemble,
            "summary": summary,
            "per_image": per_image,
            "sampler_sweep": sweeps,
        },
    )


def restore_summary(args, set_name: str, images) -> tuple[dict, list]:
    """The restore model on one set: its summary row and its per-image rows."""
    model = inr.load_restorator(args.restore)
    size = model.config.input_size
    rows = [restore_row(model, n, g, size, args.ensemble) for n, g in images]
    s = summarise(rows, ["oracle_mse", "inr_mse"])
    s.update(set=set_name, task="restore", ratio=s["inr_mse"] / s["oracle_mse"])
    return s, rows


if __name__ == "__main__":
    main()

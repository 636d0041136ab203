"""Sparse-view CT: a fitted field against filtered back-projection and SART, in one process.

Slices of 256x256 pixels in [0, 1]: the Shepp-Logan phantom
(scikit-image's, resized) and axial slices of ``stent.npy`` (divided by
its largest value, resized from 128x128).  Their sinograms are
scikit-image's ``radon`` at ``V`` angles evenly spread over 180 degrees,
for ``V`` in 10, 20, 30, 60 and 90, of every pixel across the slice's
diagonal (``circle=False``, the ``diagonal`` geometry) or, with
``--geometry circle``, of its inscribed circle (``circle=True``, one
detector per pixel).  Each is reconstructed by

* FBP (``iradon``, ramp filter) and SART (``iradon_sart``, 5 sweeps),
  scikit-image's (``inr.tomography.fbp``, ``sart``);
* ``inr.tomography.fit_sinogram(sinogram, geometry, value_range=(0, 1))``
  with its defaults (the objective's recipe: a dense multiresolution grid
  and a 32-wide MLP, 2048 rays a step, a total-variation prior, 1000
  steps), wall time with compilation where the row's ``compiled`` says so
  (the first fit of each geometry; later ones reuse its program);

and scored by PSNR and SSIM against the slice (values clipped to [0, 1]).
``ref s`` is the wall time scaled to the reference host by this host's
SIREN step (``host`` in the JSON).  ``--long`` adds, at 30 views, the same
fit run three times as long: a fit whose prior holds it does not get
worse.

Usage: python benchmarks/ct.py --stent ../shared/data/signals/stent.npy
           [--geometry diagonal|circle] [--views 10 20 30 60 90] [--slices 128]
           [--extra-slices 64 192] [--steps N] [--json PATH]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from _timing import RESULTS, compilations, host, print_table, write_json

import inr
from inr import tomography as tomo

SIZE = 256


def slices(stent_path, picks) -> dict:
    """``{name: (256, 256) float32 in [0, 1]}``: the phantom and the stent's axial slices."""
    from skimage.data import shepp_logan_phantom

    out = {"phantom": np.clip(inr.resize(shepp_logan_phantom(), (SIZE, SIZE)), 0, 1)}
    if stent_path:
        volume = np.load(stent_path).astype(np.float32)
        for k in picks:
            out[f"stent {k}"] = np.clip(inr.resize(volume[k] / volume.max(), (SIZE, SIZE)), 0, 1)
    return out


def scores(image, truth) -> tuple[float, float]:
    image = np.clip(image, 0, 1)
    return inr.psnr(image, truth), inr.ssim(image, truth)


def rows(name: str, truth, views: int, steps, circle: bool, slower: float) -> list[dict]:
    from skimage.transform import radon

    theta = np.linspace(0.0, 180.0, views, endpoint=False)
    detectors = SIZE if circle else tomo.diagonal(SIZE)
    geometry = tomo.ParallelBeam.create(theta, SIZE, detectors=detectors)
    sinogram = radon(truth, theta, circle=circle).T
    out = []
    for method, run in (("FBP", lambda: tomo.fbp(sinogram, geometry)),
                        ("SART x5", lambda: tomo.sart(sinogram, geometry, 5))):  # fmt: skip
        start = time.perf_counter()
        image = run()
        seconds = time.perf_counter() - start
        out.append({"slice": name, "views": views, "method": method, "s": seconds,
                    **dict(zip(("PSNR", "SSIM"), scores(image, truth), strict=True))})  # fmt: skip
    start = time.perf_counter()
    with compilations() as compiled:
        fit = tomo.fit_sinogram(sinogram, geometry, value_range=(0.0, 1.0), steps=steps)
    seconds = time.perf_counter() - start
    psnr, ssim = scores(fit.render(SIZE, SIZE), truth)
    out.append({"slice": name, "views": views, "method": f"inr ({fit.step} steps)", "s": seconds,
                "ref s": seconds / slower, "compiled": compiled[0] > 0, "PSNR": psnr,
                "SSIM": ssim, "over SART dB": psnr - out[1]["PSNR"]})  # fmt: skip
    for row in out:
        row["geometry"] = "circle" if circle else "diagonal"
        print(row, flush=True)
    return out


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--stent", help="stent.npy (its slices join the phantom)")
    p.add_argument("--views", type=int, nargs="+", default=[10, 20, 30, 60, 90],
                   help="view counts of the phantom and the first stent slice")  # fmt: skip
    p.add_argument("--slices", type=int, nargs="+", default=[128], help="stent slices, all views")
    p.add_argument("--extra-slices", type=int, nargs="*", default=[64, 192],
                   help="stent slices at 30 views only")  # fmt: skip
    p.add_argument("--steps", type=int, default=None, help="steps of each fit (default: 1000, "
                   "the objective's)")  # fmt: skip
    p.add_argument("--geometry", choices=["diagonal", "circle"], default="diagonal",
                   help="radon(circle=False) across the diagonal, or circle=True")  # fmt: skip
    p.add_argument("--long", action="store_true", help="also 3x the steps at 30 views")
    p.add_argument("--json", default=None, help="where the results go (default results/ct.json, "
                   "ct_circle.json for the circle)")  # fmt: skip
    return p


def main(argv=None):
    args = parser().parse_args(argv)
    images = slices(args.stent, args.slices + args.extra_slices)
    machine, circle = host(), args.geometry == "circle"
    run = lambda *a: rows(*a, circle, machine["slower than reference"])  # noqa: E731
    out = []
    for name, truth in images.items():
        extra = name.startswith("stent") and int(name.split()[1]) not in args.slices
        for views in [30] if extra else args.views:
            out += run(name, truth, views, args.steps)
            if args.long and views == 30:
                out += run(name, truth, views, 3 * (args.steps or 1000))[2:]
    columns = ["slice", "views", "method", "s", "ref s", "compiled", "PSNR", "SSIM",
               "over SART dB"]  # fmt: skip
    path = Path(args.json) if args.json else RESULTS / ("ct_circle.json" if circle else "ct.json")
    write_json(path, {"settings": {**vars(args), "json": str(path.name)}, "host": machine,
                      "rows": out, "table": print_table(out, columns)})  # fmt: skip


if __name__ == "__main__":
    main()

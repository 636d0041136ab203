"""Sparse-view CT: a fitted field against filtered back-projection and SART, in one process.

Slices of 256x256 pixels in [0, 1]: the Shepp-Logan phantom
(scikit-image's, resized) and axial slices of ``stent.npy`` (divided by
its largest value, resized from 128x128).  Their sinograms are
scikit-image's ``radon`` of every pixel across the slice's diagonal
(``circle=False``) at ``V`` angles evenly spread over 180 degrees, for
``V`` in 10, 20, 30, 60 and 90.  Each is reconstructed by

* FBP (``iradon``, ramp filter) and SART (``iradon_sart``, 5 sweeps),
  scikit-image's (``inr.tomography.fbp``, ``sart``);
* ``inr.tomography.fit_sinogram`` with its defaults (a dense
  multiresolution grid and a 32-wide MLP, 2048 rays a step, a
  total-variation prior; 1000 steps), wall time with compilation;

and scored by PSNR and SSIM against the slice (values clipped to [0, 1]).
``--long`` adds, at 30 views, the same fit run three times as long: a fit
whose prior holds it does not get worse.

Usage: python benchmarks/ct.py --stent ../shared/data/signals/stent.npy
           [--views 10 20 30 60 90] [--slices 128] [--extra-slices 64 192] [--json PATH]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from _timing import RESULTS, print_table, write_json

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


def rows(name: str, truth, views: int, steps: int) -> list[dict]:
    from skimage.transform import radon

    theta = np.linspace(0.0, 180.0, views, endpoint=False)
    geometry = tomo.ParallelBeam.create(theta, SIZE, detectors=tomo.diagonal(SIZE))
    sinogram = radon(truth, theta, circle=False).T
    out = []
    for method, run in (("FBP", lambda: tomo.fbp(sinogram, geometry)),
                        ("SART x5", lambda: tomo.sart(sinogram, geometry, 5))):  # fmt: skip
        start = time.perf_counter()
        image = run()
        seconds = time.perf_counter() - start
        out.append({"slice": name, "views": views, "method": method, "s": seconds,
                    **dict(zip(("PSNR", "SSIM"), scores(image, truth), strict=True))})  # fmt: skip
    start = time.perf_counter()
    fit = tomo.fit_sinogram(sinogram, geometry, value_range=(0.0, 1.0), steps=steps)
    seconds = time.perf_counter() - start
    psnr, ssim = scores(fit.render(SIZE, SIZE), truth)
    out.append({"slice": name, "views": views, "method": f"inr ({steps} steps)", "s": seconds,
                "PSNR": psnr, "SSIM": ssim, "over SART dB": psnr - out[1]["PSNR"]})  # fmt: skip
    for row in out:
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
    p.add_argument("--steps", type=int, default=1000, help="steps of each fit")
    p.add_argument("--long", action="store_true", help="also 3x the steps at 30 views")
    p.add_argument("--json", default=str(RESULTS / "ct.json"), help="where the results go")
    return p


def main(argv=None):
    args = parser().parse_args(argv)
    images = slices(args.stent, args.slices + args.extra_slices)
    out = []
    for name, truth in images.items():
        extra = name.startswith("stent") and int(name.split()[1]) not in args.slices
        for views in [30] if extra else args.views:
            out += rows(name, truth, views, args.steps)
            if args.long and views == 30:
                out += rows(name, truth, views, 3 * args.steps)[2:]
    columns = ["slice", "views", "method", "s", "PSNR", "SSIM", "over SART dB"]
    write_json(args.json, {"settings": vars(args), "rows": out, "table": print_table(out, columns)})


if __name__ == "__main__":
    main()

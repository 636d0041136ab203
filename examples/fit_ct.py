"""Reconstruct a CT slice from a few views: a fitted field beside FBP, SART and the truth.

python examples/fit_ct.py [--views 30] [--size 256] [--steps 1000]
                          [--stent ../shared/data/signals/stent.npy --slice 128]
                          [--out outputs/fit_ct.png]

Projects the Shepp-Logan phantom (or a slice of a CT volume) along
``--views`` parallel-beam angles (scikit-image's ``radon``), reconstructs
it by filtered back-projection, by SART and by fitting a field to the
sinogram (``inr.tomography.fit_sinogram``: a multiresolution grid and a
small MLP whose line integrals match the measurements, held to a
piecewise-smooth slice by a total-variation prior), and shows the three
beside the truth with their PSNR.  The defaults take about a minute on a
2-core CPU.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from _figures import plt, save_figure, show

import inr
from inr import tomography as tomo


def slice_image(args) -> tuple[np.ndarray, str]:
    """``(size, size)`` in [0, 1] and its name."""
    if args.stent:
        volume = np.load(args.stent).astype(np.float32)
        image = inr.resize(volume[args.slice] / volume.max(), (args.size, args.size))
        return np.clip(image, 0, 1), f"{Path(args.stent).stem} slice {args.slice}"
    from skimage.data import shepp_logan_phantom

    return np.clip(inr.resize(shepp_logan_phantom(), (args.size, args.size)), 0, 1), "phantom"


def parse(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--views", type=int, default=30, help="projection angles over 180 degrees")
    p.add_argument("--size", type=int, default=256, help="the slice's side in pixels")
    p.add_argument("--steps", type=int, default=1000, help="fitting steps")
    p.add_argument("--stent", help="a CT volume (.npy) to slice instead of the phantom")
    p.add_argument("--slice", type=int, default=128, help="which axial slice of --stent")
    p.add_argument("--out", default="outputs/fit_ct.png", help="the figure")
    return p.parse_args(argv)


def main(argv=None):
    from skimage.transform import radon

    args = parse(argv)
    truth, name = slice_image(args)
    theta = np.linspace(0.0, 180.0, args.views, endpoint=False)
    geometry = tomo.ParallelBeam.create(theta, args.size, detectors=tomo.diagonal(args.size))
    sinogram = radon(truth, theta, circle=False).T  # (views, detectors), in pixels
    began = time.perf_counter()
    fit = tomo.fit_sinogram(sinogram, geometry, value_range=(0.0, 1.0), steps=args.steps,
                            progress=True)  # fmt: skip
    seconds = time.perf_counter() - began
    panels = [
        ("FBP", tomo.fbp(sinogram, geometry)),
        ("SART (5 sweeps)", tomo.sart(sinogram, geometry, 5)),
        (f"inr field ({seconds:.0f} s)", fit.render(args.size, args.size)),
    ]
    fig, axes = plt.subplots(1, 4, figsize=(12, 3.4))
    for ax, (title, image) in zip(axes, panels, strict=False):
        image = np.clip(image, 0, 1)
        show(ax, image, f"{title}: {inr.psnr(image, truth):.2f} dB", vmin=0, vmax=1)
    show(axes[3], truth, "truth", vmin=0, vmax=1)
    fig.suptitle(f"{name}, {args.views} parallel views", fontsize=10)
    print(f"wrote {save_figure(fig, args.out)}")


if __name__ == "__main__":
    main()

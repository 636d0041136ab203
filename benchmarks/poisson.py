"""Poisson solvers: inr vs SciPy (full frame) and OpenCV (seamless clone), one process.

* Full-frame 1024x1024 RGB reconstruction from a gradient field: inr's
  rfft-based DCT solve against ``scipy.fft.dctn`` with all cores (the same
  eigenvalue division), and ``jax.scipy.fft.dctn`` for reference.  inr is
  timed as a user calls it (NumPy in, NumPy out, validation included) and,
  beside that, jitted by the caller on arrays already on the device.
* ``seamless_clone`` of a 1024x1024 RGB source against ``cv2.seamlessClone``
  on the same inputs, for an interior rectangle and an interior ellipse
  (each ~60% of the frame).  On the rectangle both are compared with an
  exact DST solve of Perez's discrete equations (unknowns: the mask's pixels;
  boundary: the destination's pixels next to them; guidance: the source's
  5-point Laplacian).

Usage: python benchmarks/poisson.py [--size 1024] [--json PATH]
"""

from __future__ import annotations

import argparse

import cv2
import jax
import numpy as np
import scipy.fft as sf
from _timing import RESULTS, best_times, print_table, write_json

import inr
from inr.poisson.solve import _neumann_inverse


def full_frame(size):
    img = inr.resize(inr.sample_image("astronaut"), (size, size), "bilinear")
    grad = inr.image_gradient(img)
    mean = img.mean(axis=(0, 1))
    ours = jax.jit(lambda g: inr.reconstruct(g, mean=mean))
    inv = _neumann_inverse(size, size)[:, :, None]

    div = np.asarray(inr.divergence(grad))
    div_jax = jax.numpy.asarray(div)
    g_np = np.asarray(grad)

    def scipy_solve(d=div):
        spec = sf.dctn(d, type=2, axes=(0, 1), workers=-1) * inv
        return sf.idctn(spec, type=2, axes=(0, 1), workers=-1) + mean

    def scipy_rec():  # the same reconstruction, divergence in NumPy included
        gx, gy = g_np[..., 0].copy(), g_np[..., 1].copy()
        gx[:, -1], gy[-1] = 0, 0
        d = gx + gy
        d[:, 1:] -= gx[:, :-1]
        d[1:] -= gy[:-1]
        return scipy_solve(d)

    jsp = jax.jit(
        lambda d: jax.scipy.fft.idctn(jax.scipy.fft.dctn(d, axes=(0, 1)) * inv, axes=(0, 1)) + mean
    )
    solve_only = jax.jit(lambda d: inr.poisson_solve(d, mean=mean))
    times = best_times(
        {
            "public": lambda: np.asarray(inr.reconstruct(g_np, mean=mean)),
            "jitted": lambda: jax.block_until_ready(ours(grad)),
            "solve public": lambda: np.asarray(inr.poisson_solve(div, mean=mean)),
            "solve jitted": lambda: jax.block_until_ready(solve_only(div_jax)),
            "scipy": scipy_solve,
            "scipy_rec": scipy_rec,
            "jsp": lambda: jax.block_until_ready(jsp(div_jax)),
        },
        repeats=10,
    )
    t_scipy, t_scipy_rec = times["scipy"], times["scipy_rec"]
    err = float(np.abs(np.asarray(inr.reconstruct(g_np, mean=mean)) - img).max())
    err_scipy = float(np.abs(scipy_rec() - img).max())

    def row(name, key, **extra):
        t = times[key]
        return {"run": name, "ms": t * 1e3, "x scipy": t / t_scipy, **extra}

    return [
        row("scipy.fft.dctn solve (all cores)", "scipy"),
        row("inr.poisson_solve, public call (NumPy in and out)", "solve public"),
        row("inr.poisson_solve, jitted, on the device", "solve jitted"),
        row("jax.scipy.fft.dctn solve, jitted", "jsp"),
        row("scipy reconstruct (NumPy divergence + solve)", "scipy_rec", **{"max err": err_scipy}),
        row(
            "inr.reconstruct, public call (NumPy in and out)",
            "public",
            **{"x scipy reconstruct": times["public"] / t_scipy_rec, "max err": err},
        ),
        row(
            "inr.reconstruct, jitted, on the device",
            "jitted",
            **{"x scipy reconstruct": times["jitted"] / t_scipy_rec},
        ),
    ]


def _scipy_dirichlet(src, dst, box):
    """Perez's equations on a rectangle by SciPy's DST-I, independent of inr.

    Unknowns: the box less its ring; boundary: ``dst`` on the ring; guidance:
    the 5-point Laplacian of ``src`` (Neumann at the image border).
    """
    s = src.astype(np.float64)
    p = np.pad(s, ((1, 1), (1, 1), (0, 0)), mode="edge")
    lap = p[:-2, 1:-1] + p[2:, 1:-1] + p[1:-1, :-2] + p[1:-1, 2:] - 4 * s
    ring = dst[box].astype(np.float64)
    inner = lap[box][1:-1, 1:-1].copy()
    inner[0] -= ring[0, 1:-1]
    inner[-1] -= ring[-1, 1:-1]
    inner[:, 0] -= ring[1:-1, 0]
    inner[:, -1] -= ring[1:-1, -1]
    h, w = inner.shape[:2]
    ky = -4 * np.sin(np.pi * np.arange(1, h + 1) / (2 * (h + 1))) ** 2
    kx = -4 * np.sin(np.pi * np.arange(1, w + 1) / (2 * (w + 1))) ** 2
    spec = sf.dstn(inner, type=1, axes=(0, 1)) / (ky[:, None, None] + kx[None, :, None])
    out = dst.astype(np.float64).copy()
    out[box][1:-1, 1:-1] = sf.idstn(spec, type=1, axes=(0, 1))
    return out


def _to_cv(img):
    return np.ascontiguousarray((np.clip(img, 0, 1) * 255 + 0.5).astype(np.uint8)[..., ::-1])


def clone(size):
    src = inr.resize(inr.sample_image("coffee"), (size, size), "bilinear")
    dst = inr.resize(inr.sample_image("astronaut"), (size, size), "bilinear")
    # Quantise once so OpenCV and inr see identical inputs.
    src, dst = (np.round(x * 255) / 255 for x in (src, dst))
    src, dst = src.astype(np.float32), dst.astype(np.float32)
    yy, xx = np.mgrid[:size, :size]
    c = size / 2
    masks = {
        "rectangle": (abs(yy - c) < 0.39 * size) & (abs(xx - c) < 0.385 * size),
        "ellipse": ((yy - c) / (0.43 * size)) ** 2 + ((xx - c) / (0.45 * size)) ** 2 < 1,
    }
    rows = []
    for name, mask in masks.items():
        ys, xs = np.nonzero(mask)
        centre = (int((xs.min() + xs.max() + 1) // 2), int((ys.min() + ys.max() + 1) // 2))
        m8 = (mask * 255).astype(np.uint8)

        def run_cv(m8=m8, centre=centre):
            # A fresh mask each call: OpenCV alternates its result when given the same array.
            return cv2.seamlessClone(_to_cv(src), _to_cv(dst), m8.copy(), centre, cv2.NORMAL_CLONE)

        times = best_times(
            {"cv": run_cv, "inr": lambda mask=mask: inr.seamless_clone(src, dst, mask)},
            repeats=7,
        )
        t_cv, t_inr = times["cv"], times["inr"]
        ours = inr.seamless_clone(src, dst, mask)
        theirs = run_cv()[..., ::-1].astype(np.float32) / 255
        row = {
            "mask": name,
            "coverage": float(mask.mean()),
            "cv2 ms": t_cv * 1e3,
            "inr ms": t_inr * 1e3,
            "inr / cv2": t_inr / t_cv,
            "inr vs cv2 dB": inr.psnr(ours, theirs),
        }
        if name == "rectangle":
            box = (slice(ys.min() - 1, ys.max() + 2), slice(xs.min() - 1, xs.max() + 2))
            exact = np.clip(_scipy_dirichlet(src, dst, box), 0, 1)
            row["inr vs exact dB"] = inr.psnr(ours, exact)
            row["cv2 vs exact dB"] = inr.psnr(theirs, exact)
        rows.append(row)
    return rows


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--size", type=int, default=1024, help="side of the images")
    p.add_argument("--json", default=str(RESULTS / "poisson.json"), help="where the results go")
    args = p.parse_args()
    print(f"\nFull-frame {args.size}x{args.size} RGB reconstruction, {jax.devices()[0].platform}")
    ff = full_frame(args.size)
    t1 = print_table(ff, ["run", "ms", "x scipy", "x scipy reconstruct", "max err"])
    print(f"\nseamless_clone, {args.size}x{args.size} RGB")
    cl = clone(args.size)
    t2 = print_table(
        cl,
        [
            "mask",
            "coverage",
            "cv2 ms",
            "inr ms",
            "inr / cv2",
            "inr vs cv2 dB",
            "inr vs exact dB",
            "cv2 vs exact dB",
        ],
    )
    write_json(args.json, {"size": args.size, "full_frame": ff, "clone": cl, "tables": [t1, t2]})


if __name__ == "__main__":
    main()

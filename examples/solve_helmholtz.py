"""Solve Helmholtz's equation with an absorbing layer by a field (SIREN's experiment).

python examples/solve_helmholtz.py [--medium homogeneous|square|circle] [--features 3072]
                                   [--out outputs/solve_helmholtz.png]

A point-like source at the origin radiates at wavenumber 20 into a medium
(homogeneous, or SIREN's square or circle of slower-than-background
slowness) surrounded by a perfectly matched layer.  The field is solved
for by least squares over random sine features (``inr.pde.solve_linear``:
the equation is linear in the network's last layer) and shown, real and
imaginary parts, beside the reference (the exact Hankel field in the
homogeneous medium, a finite-difference solve otherwise) and the error
map, with the relative error over the layer-free interior.  The defaults
take under a minute on a 2-core CPU.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from _figures import plt, save_figure, show

from inr import pde


def reference(problem, n: int) -> np.ndarray:
    """The complex field on ``n x n`` cell centres: exact, or FDFD at twice the size, averaged."""
    if problem.medium == "homogeneous":
        x, y = pde.centres(n)
        return pde.exact_field(problem, np.stack([x.ravel(), y.ravel()], -1)).reshape(n, n)
    return pde.helmholtz_grid(problem, 2 * n).reshape(n, 2, n, 2).mean((1, 3))


def parse(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--medium", default="homogeneous", choices=pde.MEDIA, help="the medium")
    p.add_argument("--features", type=int, default=3072, help="random sine features")
    p.add_argument("--points", type=int, default=16000, help="collocation points")
    p.add_argument("--w0", type=float, default=60.0, help="the features' frequency scale")
    p.add_argument(
        "--jumps",
        type=float,
        default=0.01,
        help="skip the residual this close to a jump in the medium (0: nowhere)",
    )
    p.add_argument("--size", type=int, default=256, help="the rendered grid's side")
    p.add_argument("--out", default="outputs/solve_helmholtz.png", help="the figure")
    return p.parse_args(argv)


def main(argv=None):
    args = parse(argv)
    problem = pde.Helmholtz(medium=args.medium)
    objective = pde.HelmholtzObjective(
        problem, points=args.points, near=args.points // 24, jumps=args.jumps
    )
    began = time.perf_counter()
    fit = pde.solve_linear(objective, pde.SineFeatures(args.features, args.w0))
    seconds = time.perf_counter() - began
    n = args.size
    x, y = pde.centres(n)
    u = fit.at(np.stack([x.ravel(), y.ravel()], -1), clip=False).reshape(n, n, 2)
    field, truth = u[..., 0] + 1j * u[..., 1], reference(problem, n)
    error = pde.interior_error(field, truth, n)
    print(f"{args.medium}: relative interior error {error:.4f} ({seconds:.0f} s)")
    fig, axes = plt.subplots(1, 4, figsize=(13, 3.4))
    lim = np.abs(truth[(np.abs(x) < 0.5) & (np.abs(y) < 0.5)]).max()
    kw = dict(cmap="RdBu", vmin=-lim, vmax=lim, origin="lower")
    show(axes[0], field.real, "fit: real part", **kw)
    show(axes[1], field.imag, "fit: imaginary part", **kw)
    show(axes[2], truth.real, "reference: real part", **kw)
    show(axes[3], np.abs(field - truth), "|fit - reference|", cmap="magma", vmin=0,
         vmax=lim / 4, origin="lower")  # fmt: skip
    for ax in axes:
        ax.add_patch(plt.Rectangle((n / 4, n / 4), n / 2, n / 2, fill=False, ls="--", lw=0.6))
    fig.suptitle(f"Helmholtz, k = 20, {args.medium} medium: interior error {error:.3f} "
                 f"({args.features} features, {seconds:.0f} s)", fontsize=10)  # fmt: skip
    print(f"wrote {save_figure(fig, args.out)}")


if __name__ == "__main__":
    main()

"""Fields defined by an equation: Helmholtz and the wave equation, error against wall time.

Helmholtz (k = 20, SIREN's absorbing layer, a Gaussian source of deviation
0.02 at the origin; ``inr.pde``): the relative L2 error of the complex
field over the layer-free interior (``|x|, |y| < 0.5``, outside 0.05 of the
source) on a 256x256 grid, against the exact field (homogeneous medium) or
a finite-difference solve on a 512x512 grid (SIREN's square), and the wall
time (with compiling):

* the grid solver itself (FDFD, sparse LU) at 256 and 512;
* the library's recipe: least squares for the last layer of random sine
  features (``inr.pde.solve_linear``), for several feature counts; in the
  square, also with the residual skipped within 0.01 of the medium's
  jumps (``HelmholtzObjective(jumps=...)``);
* SIREN's configuration: SIREN 256 x 3, Adam 2e-5, the residual at random
  collocation points (5,000 a step here, plus 200 near the source), for
  ``--siren-steps`` steps.

The wave equation (c = 1, a Gaussian pulse of deviation 0.1, t in
[0, 0.4]): the relative L2 error over five frames against a leapfrog
solve on a 512x512 grid, of a SIREN 128 x 3 fitted to the equation and the
initial condition (a widening time window).

Usage: python benchmarks/pde.py [--features 1024 2048 3072 4096]
           [--square-features 4096] [--siren-steps 300] [--wave-steps 1500] [--json PATH]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import optax
from _timing import RESULTS, print_table, write_json

import inr
from inr import pde

N = 256
JUMPS = 0.01  # the band around the medium's jumps left to continuity


def grid_points(n: int = N) -> np.ndarray:
    x, y = pde.centres(n)
    return np.stack([x.ravel(), y.ravel()], -1)


def error_of(fit, truth) -> float:
    u = fit.at(grid_points(), clip=False).reshape(N, N, 2)
    return pde.interior_error(u[..., 0] + 1j * u[..., 1], truth, N)


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def least_squares(problem, features: int, jumps: float, truth) -> dict:
    """The recipe's row: random sine features, their last layer by least squares."""
    w0 = 65.0 if problem.medium == "homogeneous" else 70.0
    objective = pde.HelmholtzObjective(problem, points=max(12000, 5 * features), near=500,
                                       jumps=jumps)  # fmt: skip
    fit, seconds = timed(lambda: pde.solve_linear(objective, pde.SineFeatures(features, w0)))
    method = f"least squares, {features} sine features (w0 {w0:g})"
    if jumps:
        method += f", residual skipped within {jumps:g} of the medium's jumps"
    return {"method": method, "s": seconds, "error": error_of(fit, truth)}


def helmholtz_rows(medium: str, features, siren_steps: int) -> list[dict]:
    problem = pde.Helmholtz(medium=medium)
    fine, seconds = timed(lambda: pde.helmholtz_grid(problem, 2 * N))
    if medium == "homogeneous":
        truth = pde.exact_field(problem, grid_points()).reshape(N, N)
        averaged = fine.reshape(N, 2, N, 2).mean((1, 3))
        rows = [{"medium": medium, "method": "FDFD 512x512", "s": seconds,
                 "error": pde.interior_error(averaged, truth, N)}]  # fmt: skip
        coarse, seconds = timed(lambda: pde.helmholtz_grid(problem, N))
        rows.append({"medium": medium, "method": "FDFD 256x256", "s": seconds,
                     "error": pde.interior_error(coarse, truth, N)})  # fmt: skip
    else:
        truth = fine.reshape(N, 2, N, 2).mean((1, 3))
        rows = [{"medium": medium, "method": "FDFD 512x512 (the reference)", "s": seconds}]
    bands = (0.0,) if medium == "homogeneous" else (0.0, JUMPS)
    for f in features:
        rows += [{"medium": medium, **least_squares(problem, f, b, truth)} for b in bands]
    if siren_steps:
        objective = pde.HelmholtzObjective(problem, points=5000, near=200)
        kw = dict(model=inr.Siren(256, 3, 2), optimizer=optax.adam(2e-5), steps=siren_steps)
        fit, seconds = timed(lambda: inr.fit(objective, **kw))
        rows.append({"medium": medium, "method": f"SIREN 256x3, Adam 2e-5, {siren_steps} steps",
                     "s": seconds, "error": error_of(fit, truth)})  # fmt: skip
    for row in rows:
        print(row, flush=True)
    return rows


def wave_row(steps: int) -> dict:
    problem = pde.Wave(width=0.1)
    objective = pde.WaveObjective(problem, points=4000, initial=2000, grow=steps // 2)
    model = inr.Siren(128, 3, 1, first_w0=10.0)
    fit, seconds = timed(lambda: inr.fit(objective, model=model, steps=steps,
                                         optimizer=inr.ngp_adam(steps, 1e-3)))  # fmt: skip
    times = np.linspace(0.0, problem.duration, 5)
    truth = pde.wave_grid(problem, 512, times).reshape(5, 128, 4, 128, 4).mean((2, 4))
    x, y = pde.centres(128)
    pts = [np.stack([x.ravel(), y.ravel(), np.full(x.size, problem.tau(t))], -1) for t in times]
    u = np.stack([fit.at(p, clip=False).reshape(128, 128) for p in pts])
    error = float(np.linalg.norm(u - truth) / np.linalg.norm(truth))
    row = {"medium": "wave, t in [0, 0.4]", "method": f"SIREN 128x3, {steps} steps", "s": seconds,
           "error": error}  # fmt: skip
    print(row, flush=True)
    return row


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--features", type=int, nargs="+", default=[1024, 2048, 3072, 4096],
                   help="feature counts of the homogeneous least-squares rows")  # fmt: skip
    p.add_argument("--square-features", type=int, nargs="*", default=[4096],
                   help="feature counts of the square medium's rows")  # fmt: skip
    p.add_argument("--siren-steps", type=int, default=300, help="steps of SIREN's configuration")
    p.add_argument("--wave-steps", type=int, default=1500, help="steps of the wave's fit (0: none)")
    p.add_argument("--json", default=str(RESULTS / "pde.json"), help="where the results go")
    return p


def main(argv=None):
    args = parser().parse_args(argv)
    rows = helmholtz_rows("homogeneous", args.features, args.siren_steps)
    if args.square_features:
        rows += helmholtz_rows("square", args.square_features, 0)
    if args.wave_steps:
        rows.append(wave_row(args.wave_steps))
    table = print_table(rows, ["medium", "method", "s", "error"])
    write_json(args.json, {"settings": vars(args), "rows": rows, "table": table})


if __name__ == "__main__":
    main()

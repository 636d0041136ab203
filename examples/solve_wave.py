"""Solve the wave equation from an initial pulse by a field, beside a finite-difference solve.

python examples/solve_wave.py [--steps 1000] [--frames 5] [--out outputs/solve_wave.png]

A SIREN of ``(x, y, t)`` is fitted to ``u_tt = lap u`` and the initial
condition alone (a Gaussian pulse at rest; SIREN's experiment,
``inr.pde.WaveObjective``, its time window widening over the first half of
the fit), and its frames over ``t`` in [0, 0.4] are shown above the
leapfrog reference's (``inr.pde.wave_grid``), with the relative error.
The defaults take a few minutes on a 2-core CPU.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from _figures import plt, save_figure, show

import inr
from inr import pde


def parse(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--steps", type=int, default=1000, help="fitting steps")
    p.add_argument("--frames", type=int, default=5, help="frames shown over [0, 0.4]")
    p.add_argument("--size", type=int, default=128, help="the frames' side")
    p.add_argument("--width", type=int, default=128, help="the SIREN's width")
    p.add_argument("--out", default="outputs/solve_wave.png", help="the figure")
    return p.parse_args(argv)


def main(argv=None):
    args = parse(argv)
    problem = pde.Wave(width=0.1)
    objective = pde.WaveObjective(problem, points=4000, initial=2000, grow=args.steps // 2)
    began = time.perf_counter()
    fit = inr.fit(objective, model=inr.Siren(args.width, 3, 1, first_w0=10.0), steps=args.steps,
                  optimizer=inr.ngp_adam(args.steps, 1e-3), progress=True)  # fmt: skip
    seconds = time.perf_counter() - began
    n, times = args.size, np.linspace(0.0, problem.duration, args.frames)
    scale = 512 // n
    truth = pde.wave_grid(problem, n * scale, times).reshape(len(times), n, scale, n, scale)
    truth = truth.mean((2, 4))
    x, y = pde.centres(n)
    frames = np.stack([
        fit.at(np.stack([x.ravel(), y.ravel(), np.full(x.size, problem.tau(t))], -1),
                     clip=False).reshape(n, n) for t in times])  # fmt: skip
    error = float(np.linalg.norm(frames - truth) / np.linalg.norm(truth))
    print(f"relative error over t in [0, {problem.duration}]: {error:.4f} ({seconds:.0f} s)")
    fig, axes = plt.subplots(2, len(times), figsize=(2.4 * len(times), 5))
    kw = dict(cmap="RdBu", vmin=-0.5, vmax=0.5, origin="lower")
    for k, t in enumerate(times):
        show(axes[0, k], frames[k], f"field, t = {t:.2f}", **kw)
        show(axes[1, k], truth[k], f"leapfrog, t = {t:.2f}", **kw)
    fig.suptitle(f"wave equation from a pulse: relative error {error:.3f} ({args.steps} steps, "
                 f"{seconds:.0f} s)", fontsize=10)  # fmt: skip
    print(f"wrote {save_figure(fig, args.out)}")


if __name__ == "__main__":
    main()

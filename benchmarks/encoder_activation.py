"""Sines inside the encoder CNN: ReLU vs sine vs sine-ReLU-sine, same data and steps.

The experiment reported for a colorization CNN (sines in the first and last
layers converging about 3x faster) rerun on the restorator: three models
that differ only in ``encoder_activation`` are trained in one process on
the same batches (same seed), and the table gives the training loss along
the way and how many steps each needed to reach the loss ReLU ends with.

Usage:
  python benchmarks/encoder_activation.py --data ../shared/data/bsd68 [--task colorize]
      [--steps 400] [--batch-size 8] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
from _timing import RESULTS, print_table, write_json

import inr

ACTIVATIONS = ("relu", "sine", "sine-relu-sine")


def run(data, activation, args, folder):
    config = inr.RestoratorConfig(task=args.task, encoder_activation=activation)
    recipe = inr.TrainConfig(
        inr.restorator.Examples(points_per_image=args.points),
        steps=args.steps,
        batch_size=args.batch_size,
        optimizer=inr.restorator.restorator_optimizer(args.steps, args.lr),
        seed=args.seed,
        log_every=args.log_every,
    )
    start = time.perf_counter()
    inr.train_restorator(
        data,
        config,
        recipe,
        checkpoints=inr.Checkpoints(folder, save_every=args.steps),
        progress=False,
    )
    seconds = time.perf_counter() - start
    log = [json.loads(line) for line in (Path(folder) / "metrics.jsonl").read_text().splitlines()]
    return np.array([r["step"] for r in log]), np.array([r["loss"] for r in log]), seconds


def steps_to_reach(steps, losses, target):
    hit = np.nonzero(losses <= target)[0]
    return int(steps[hit[0]]) if hit.size else None


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", nargs="+", required=True, help="training folders")
    p.add_argument("--task", default="colorize", choices=inr.restorator.TASKS, help="what to learn")
    p.add_argument("--steps", type=int, default=400, help="training steps per activation")
    p.add_argument("--batch-size", type=int, default=8, help="images per step")
    p.add_argument("--points", type=int, default=1024, help="query points per image")
    p.add_argument("--lr", type=float, default=1e-3, help="Adam's rate")
    p.add_argument("--log-every", type=int, default=20, help="steps between loss readings")
    p.add_argument("--seed", type=int, default=0, help="initialisation and draws")
    p.add_argument(
        "--json", default=str(RESULTS / "encoder_activation.json"), help="where the results go"
    )
    args = p.parse_args()

    curves = {}
    for activation in ACTIVATIONS:
        with tempfile.TemporaryDirectory() as folder:
            curves[activation] = run(args.data, activation, args, folder)
        print(f"{activation}: {curves[activation][2]:.0f} s", flush=True)

    steps = curves["relu"][0]
    # ReLU's final loss, smoothed over the last quarter of the logged points.
    target = float(np.mean(curves["relu"][1][-max(1, len(steps) // 4) :]))
    rows = []
    for activation, (s, losses, seconds) in curves.items():
        reach = steps_to_reach(s, losses, target)
        quarter = [float(losses[int(f * (len(losses) - 1))]) for f in (0.25, 0.5, 1.0)]
        rows.append(
            {
                "encoder": activation,
                "loss@25%": quarter[0],
                "loss@50%": quarter[1],
                "loss@end": quarter[2],
                "steps_to_relu_final": reach if reach is not None else f">{args.steps}",
                "speedup_vs_relu": (steps_to_reach(*curves["relu"][:2], target) / reach)
                if reach
                else 0.0,
                "seconds": seconds,
            }
        )
    print(f"\n{args.task}, {args.steps} steps, batch {args.batch_size}; target loss {target:.4f}")
    print_table(
        rows,
        [
            "encoder",
            "loss@25%",
            "loss@50%",
            "loss@end",
            "steps_to_relu_final",
            "speedup_vs_relu",
            "seconds",
        ],
    )
    write_json(
        args.json,
        {
            "args": vars(args),
            "target_loss": target,
            "rows": rows,
            "curves": {
                a: {"step": c[0].tolist(), "loss": c[1].tolist()} for a, c in curves.items()
            },
        },
    )


if __name__ == "__main__":
    main()

"""Audio, video and volumes as neural fields: SIREN, ReLU+PE and the hash grid, one process.

For each signal, each model is fitted from scratch with ``inr.fit_signal``
and timed with its compilation (a user's first call).  Rows report the final
error of the whole signal (rendered), the wall time, steps/s, and the wall
time at which the training error first reached each target (from the
per-step history, timed by interpolating between reports every 100 steps;
with random batches, the error of that step's batch).  The audio
table adds SIREN's per-step time in inr against siren-pytorch with the same
layers on the same samples.

* audio: ``bach.wav`` (44.1 kHz, 308,207 samples); SIREN's configuration
  (1 -> 256 x 3 sine layers, omega_0 = 3000 first, Adam 1e-4, full batch),
  its ReLU+PE baseline (PE with 10 octaves, same width), the fastest field
  (a dense 1-D hash grid, one 64-wide hidden layer, Adam 3e-2 decaying to
  3e-4) and one
  within SIREN's parameter budget.  Targets: SIREN's published MSE 2.33e-5
  and a tenth of it.
* video: ``cockatoo.mp4`` at 180x320, all 280 frames (uint8 on the device,
  random batches); the hash grid over ``(x, y, t)`` and SIREN (3 -> 256 x 3).
  Targets 30 and 33 dB.
* volume: ``stent.npy`` normalised to [0, 1] (random batches).  Targets 40
  and 45 dB.
* memory: the whole clip at 720x1280 kept as uint8 (774 MB), 50 steps of
  random batches; the process's peak resident memory (``--only memory``,
  alone).

Usage: python benchmarks/signals.py --data ../shared/data/signals
           [--only audio video volume | --only memory] [--siren-steps 10] [--json PATH]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import jax
import numpy as np
import optax
from _timing import RESULTS, best_times, print_table, torch_device, write_json

import inr

SIREN_MSE = {"bach": 2.33e-5}  # SIREN's published fit, against this file (data README)


class Clock:
    """A ``progress`` callback: the wall time at each report (every 100 steps).

    :meth:`reached` reads the first step whose training error meets a target
    from the history and interpolates its wall time between the reports
    around it (the first chunk's time includes the compilation).
    """

    def __init__(self):
        self.start, self.steps, self.times = time.perf_counter(), [0], [0.0]

    def __call__(self, step, total, metrics):
        self.steps.append(step)
        self.times.append(time.perf_counter() - self.start)

    def reached(self, errors: np.ndarray, target: float) -> tuple[int, float] | None:
        met = errors <= target if target < 1 else errors >= target  # MSE < 1, dB > 1
        if not met.any():
            return None
        step = int(np.argmax(met))  # history[i]: the error after i updates
        return step, float(np.interp(step, self.steps, self.times))


def fit_row(signal, name, model, optimizer, steps, points, targets, error, truth, keep, **kw):
    clock = Clock()
    fit = inr.fit_signal(signal, model=model, optimizer=optimizer, steps=steps, points=points,
                         progress=clock, **kw)  # fmt: skip
    wall = time.perf_counter() - clock.start
    rendered = fit.render(*truth.shape[: fit.dims], clip=False)
    mse = float(np.mean((rendered - truth) ** 2))
    row = {"model": name, "steps": steps, "wall s": wall, "steps/s": steps / wall, "MSE": mse,
           "PSNR": float(-10 * np.log10(mse)), "params": _count(fit.params)}  # fmt: skip
    errors = fit.history["loss" if error == "loss" else "psnr"]
    for t in targets:
        hit = clock.reached(errors, t)
        row[f"to {t:g}"] = "not reached" if hit is None else f"{hit[1]:.1f} s (step {hit[0]})"
    if targets and targets[0] < 1:  # audio: is the end monotone (no oscillation)?
        tail = fit.history["loss"][-max(10, steps // 10) :]
        row["monotone end"] = bool(np.all(np.diff(tail) <= 1e-12))
    print({k: v for k, v in row.items()}, flush=True)
    keep(row)
    return row


def _count(params) -> int:
    return int(sum(np.size(x) for x in jax.tree.leaves(params.get("params", params))))


def audio_rows(path: Path, args) -> tuple[list, dict]:
    audio, rate = inr.load_audio(path / "bach.wav")
    mse_of = "loss"  # network units are the signal's ([-1, 1])
    targets = [SIREN_MSE["bach"], SIREN_MSE["bach"] / 10]
    fast = optax.adam(optax.exponential_decay(3e-2, args.audio_steps, 0.01))
    models = [
        ("SIREN 256x3 (paper)", inr.Siren(256, 3, 1, first_w0=3000.0), optax.adam(1e-4),
         args.siren_steps),
        ("ReLU+PE 256x3", inr.MLP(256, 3, 1, encoding=inr.PositionalEncoding(10)),
         optax.adam(1e-4), args.siren_steps),
        ("hash grid 1-D (dense) + MLP 64", inr.MLP(64, 0, 1, encoding=inr.HashGrid(
            levels=16, base_resolution=16, growth=2.0)), fast, args.audio_steps),
        # SIREN's size: 4 dense levels of one feature, the finest 2^17 cells
        # (a 9.4 kHz band at 44.1 kHz), 174,180 parameters for 308,207 samples.
        ("dense 1-D grid, 4 levels x 1 feature + MLP 16, <= 200k", inr.MLP(16, 0, 1,
            encoding=inr.HashGrid(levels=4, features=1, base_resolution=2048, growth=4.0,
                                  log2_table_size=17)), fast, args.audio_steps),
    ]  # fmt: skip
    rows = [
        fit_row(audio, n, m, o, s, None, targets, mse_of, audio, args.keep, value_range=(-1, 1))
        for n, m, o, s in models
    ]
    return rows, peer_speed(audio)


def peer_speed(audio) -> dict:
    """SIREN 1 -> 256 x 3 on the clip: inr's step time against siren-pytorch's, in turns.

    On a GPU both run there, in full float32 (see :func:`main`).
    """
    try:
        import torch
        from siren_pytorch import SirenNet
    except ImportError:
        return {"skipped": "install the bench extra for siren-pytorch"}
    steps, model = 3, inr.Siren(256, 3, 1, first_w0=3000.0)
    device = torch_device()
    torch.manual_seed(0)
    net = SirenNet(dim_in=1, dim_hidden=256, dim_out=1, num_layers=4, w0=30.0, w0_initial=3000.0)
    net = net.to(device)
    coords = torch.from_numpy(inr.grid(len(audio)).reshape(-1, 1)).to(device)
    target = torch.from_numpy(audio).to(device)
    opt = torch.optim.Adam(net.parameters(), lr=1e-4)

    def torch_run():
        for _ in range(steps):
            opt.zero_grad(set_to_none=True)
            ((net(coords) - target) ** 2).mean().backward()
            opt.step()
        if device == "cuda":
            torch.cuda.synchronize()

    def inr_run():
        inr.fit_signal(audio, model=model, steps=steps, value_range=(-1, 1))

    best = best_times({"inr": inr_run, "siren-pytorch": torch_run}, repeats=2)
    per = {k: v / steps for k, v in best.items()}
    print(f"audio SIREN step: {per}", flush=True)
    return {"inr s/step": per["inr"], "siren-pytorch s/step": per["siren-pytorch"],
            "speedup": per["siren-pytorch"] / per["inr"],
            "torch on": torch.cuda.get_device_name() if device == "cuda"
            else f"{torch.get_num_threads()} threads"}  # fmt: skip


def _grid_model(channels: int, steps: int, features: int = 2):
    grid = inr.HashGrid(levels=8, features=features, base_resolution=16, growth=1.5)
    return inr.MLP(64, 1, channels, encoding=grid), optax.adam(
        optax.exponential_decay(1e-2, steps, 0.02)
    )


def video_rows(path: Path, args) -> list:
    clip, _ = inr.load_video(path / "cockatoo.mp4", size=(180, 320), dtype=np.uint8)
    truth = clip.astype(np.float32) / 255.0
    db = "psnr"
    grid, adam = _grid_model(3, args.video_steps)
    siren = inr.Siren(256, 3, 3)
    return [
        fit_row(clip, "hash grid (x, y, t) + MLP 64x1", grid, adam, args.video_steps,
                args.points, [30, 33], db, truth, args.keep),
        fit_row(clip, "SIREN 256x3 (paper)", siren, optax.adam(1e-4), args.siren_batch_steps,
                args.points, [30, 33], db, truth, args.keep),
    ]  # fmt: skip


def volume_rows(path: Path, args) -> list:
    raw = np.load(path / "stent.npy")
    vol = (raw / raw.max()).astype(np.float32)
    db = "psnr"
    # Four features a level (twice the video grid's table) and instant-ngp's
    # Adam (beta2 0.99, epsilon 1e-15: a row's rare gradients move it at once).
    grid, _ = _grid_model(1, args.volume_steps, features=4)
    rate = optax.exponential_decay(1e-2, args.volume_steps, 0.02)
    adam = optax.adam(rate, b2=0.99, eps=1e-15)
    return [
        fit_row(vol, "hash grid 3-D, 8 levels x 4 features + MLP 64x1, ngp Adam", grid, adam,
                args.volume_steps, args.points, [40, 45], db, vol, args.keep, dims=3),
        fit_row(vol, "SIREN 256x3 (paper)", inr.Siren(256, 3, 1), optax.adam(1e-4),
                args.siren_batch_steps, args.points, [40, 45], db, vol, args.keep, dims=3),
    ]  # fmt: skip


def memory_rows(path: Path, args) -> list:
    """The whole 720x1280x280 clip, kept as uint8, fitted by random batches: peak memory."""
    import resource

    clip, _ = inr.load_video(path / "cockatoo.mp4", dtype=np.uint8)
    grid, adam = _grid_model(3, 50)
    start = time.perf_counter()
    inr.fit_signal(clip, model=grid, optimizer=adam, steps=50, points=args.points)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB -> GiB
    row = {"model": "hash grid, 50 steps", "clip": str(clip.shape),
           "clip GiB (uint8)": clip.nbytes / 2**30, "peak RSS GiB": peak,
           "wall s": time.perf_counter() - start}  # fmt: skip
    print(row, flush=True)
    return [row]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", required=True, type=Path, help="the folder of bach.wav etc.")
    p.add_argument(
        "--only",
        nargs="+",
        default=["audio", "video", "volume"],
        help="sections to run; 'memory' runs alone (a process's peak is its own)",
    )
    p.add_argument("--siren-steps", type=int, default=10, help="SIREN/ReLU audio steps")
    p.add_argument("--siren-batch-steps", type=int, default=600, help="SIREN video/volume steps")
    p.add_argument("--audio-steps", type=int, default=140, help="steps of the audio grids")
    p.add_argument("--video-steps", type=int, default=2400, help="steps of the video grid")
    p.add_argument("--volume-steps", type=int, default=2400, help="steps of the volume grid")
    p.add_argument("--points", type=int, default=16384, help="random samples per step")
    p.add_argument(
        "--json", type=Path, default=RESULTS / "signals.json", help="where the results go"
    )
    args = p.parse_args(argv)
    # The paper's figures are float32; a GPU's default TF32 matmuls would
    # floor the audio error near its target (no effect on a CPU).
    jax.config.update("jax_default_matmul_precision", "float32")
    if "memory" in args.only and len(args.only) > 1:
        p.error("--only memory runs alone: the peak memory of a process is of all it ran")
    out = {"settings": {k: str(v) for k, v in vars(args).items()}, "rows so far": []}

    def keep(row):  # each row as it is measured: a run stopped midway keeps them
        out["rows so far"].append(row)
        write_json(args.json, out)

    args.keep = keep
    columns = ["model", "params", "steps", "wall s", "steps/s", "MSE", "PSNR"]
    sections = {"audio": audio_rows, "video": video_rows, "volume": volume_rows}
    for name, rows_of in sections.items():
        if name not in args.only:
            continue
        result = rows_of(args.data, args)
        rows, extra = result if name == "audio" else (result, None)
        targets = [k for k in rows[0] if k.startswith("to ")] + (
            ["monotone end"] if name == "audio" else []
        )
        print(f"\n## {name}")
        out[name] = {"rows": rows, "table": print_table(rows, columns + targets)}
        if extra is not None:
            out[name]["siren_step_vs_siren_pytorch"] = extra
        write_json(args.json, out)  # after each signal: a long run keeps what it measured
    if "memory" in args.only:
        rows = memory_rows(args.data, args)
        out["memory"] = {"rows": rows, "table": print_table(rows, list(rows[0]))}
        write_json(args.json, out)


if __name__ == "__main__":
    main()

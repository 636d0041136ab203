"""Fit a video with a hash grid over (x, y, t) and render frames between the given ones.

python examples/fit_video.py [--video PATH] [--size 90 160] [--frames 48] [--steps 600]
                             [--full] [--out outputs/fit_video.png]

The figure shows given frames, truth above fit, and the frames the field
renders half-way between them (the clip at twice its frame rate); the fitted
clip is written as an MP4 beside it, at twice the frame rate.  Without
``--video`` it fits a built-in synthetic clip (a moving, turning pattern);
the cockatoo clip of the shared data is
``--video ../shared/data/signals/cockatoo.mp4``.  The frames stay on the
device as uint8 and every step fits a random batch of pixels.  The defaults
take about 30 s on a 2-core CPU; ``--full`` fits the whole clip at
180x320 for 2400 steps (minutes).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import optax
from _figures import plt, save_figure, show

import inr


def synthetic_clip(frames: int = 48, size=(72, 96)) -> np.ndarray:
    """A turning colour pattern with a disc crossing it, ``(T, H, W, 3)`` uint8."""
    t, y, x = np.meshgrid(
        np.linspace(0, 1, frames), np.linspace(-1, 1, size[0]), np.linspace(-1, 1, size[1]),
        indexing="ij",
    )  # fmt: skip
    angle = np.arctan2(y, x) + 2 * np.pi * t
    clip = 0.5 + 0.4 * np.stack([np.cos(3 * angle), np.sin(2 * angle + x), np.cos(4 * y - t)], -1)
    disc = (x - (2 * t - 1)) ** 2 + (y - 0.3 * np.sin(6 * t)) ** 2 < 0.1
    clip[disc] = (1.0, 0.9, 0.2)
    return np.round(255 * clip).astype(np.uint8)


def model_and_optimizer(steps: int, largest: int):
    """A 3-D hash grid over (x, y, t) from 16 cells up to the clip's ``largest`` side, 64-wide MLP.

    Levels finer than the clip hold vertices that no sample constrains (and
    share hashed rows with some that are), which shows as noise in frames
    rendered between the given ones.
    """
    levels = 1 + int(np.ceil(np.log(max(largest, 16) / 16) / np.log(1.5)))
    grid = inr.HashGrid(levels=levels, features=2, base_resolution=16, growth=1.5)
    return inr.MLP(64, 1, 3, encoding=grid), optax.adam(optax.exponential_decay(1e-2, steps, 0.02))


def parse(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--video", help="a video file (default: a built-in synthetic clip)")
    p.add_argument("--size", type=int, nargs=2, help="frame height and width (90 160)")
    p.add_argument("--frames", type=int, help="fit the first this many frames (48)")
    p.add_argument("--steps", type=int, help="fitting steps (600; --full 2400)")
    p.add_argument("--points", type=int, default=16384, help="random pixels per step")
    p.add_argument("--full", action="store_true", help="the whole clip at 180x320, 2400 steps")
    p.add_argument("--out", default="outputs/fit_video.png", help="the figure; the .mp4 beside")
    args = p.parse_args(argv)
    args.size = tuple(args.size or ((180, 320) if args.full else (90, 160)))
    args.frames = args.frames or (None if args.full else 48)
    args.steps = args.steps or (2400 if args.full else 600)
    return args


def main(argv=None):
    args = parse(argv)
    if args.video:
        frames = slice(0, args.frames)
        clip, fps = inr.load_video(args.video, size=args.size, frames=frames, dtype=np.uint8)
    else:
        clip, fps = synthetic_clip(args.frames or 48), 24.0
    model, optimizer = model_and_optimizer(args.steps, max(clip.shape[:3]))
    fit = inr.fit_signal(clip, model=model, optimizer=optimizer, steps=args.steps,
                         points=args.points, progress=True)  # fmt: skip
    t, h, w = clip.shape[:3]
    rendered = fit.render(t, h, w)
    db = -10 * np.log10(np.mean((rendered - clip / 255.0) ** 2))
    # 2t - 1 frames from the first frame's time to the last's: frame i at 2i, and
    # a new frame between i and i + 1 at 2i + 1 (times are cell centres, so the
    # box starts a quarter of a frame in).
    lo, hi = 1 / (4 * t), 1 - 1 / (4 * t)
    doubled = fit.render(2 * t - 1, h, w, region=(0, 0, lo, 1, 1, hi))
    inr.save_video(Path(args.out).with_suffix(".mp4"), doubled, fps=2 * fps)
    picks = np.linspace(0, t - 2, 4).astype(int)
    fig, axes = plt.subplots(3, len(picks), figsize=(4 * len(picks), 7.5))
    for col, i in enumerate(picks):
        show(axes[0, col], clip[i], f"truth, frame {i}")
        show(axes[1, col], rendered[i], f"fit, frame {i}")
        show(axes[2, col], doubled[2 * i + 1], f"rendered between frames {i} and {i + 1}")
    fig.suptitle(f"{clip.shape[:3]} clip, hash grid over (x, y, t), {args.steps} steps: "
                 f"{db:.2f} dB")  # fmt: skip
    save_figure(fig, args.out)


if __name__ == "__main__":
    main()

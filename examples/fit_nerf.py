"""Fit a radiance field to posed photos (NeRF) and film it from new viewpoints.

python examples/fit_nerf.py [--data ../shared/data/nerf/lego] [--size 100] [--steps 1500]
                            [--frames 36] [--out outputs/fit_nerf.png]

Fits instant-ngp's field (a hash grid and tiny MLPs, an occupancy grid
skipping empty space) to the NeRF synthetic lego's 100 training views,
scores it on the held-out validation views (PSNR, SSIM), and writes a
figure of one validation view beside the truth and, beside it, a turntable
GIF of novel views, colour beside depth, with the validation PSNR in its
caption.  The
defaults take a few minutes on a 2-core CPU.  Without the data folder it
fits a built-in scene instead: two coloured spheres rendered analytically.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import imageio.v3 as iio
import numpy as np
from _figures import plt, save_figure, show

import inr
from inr import nerf

LEGO = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "nerf" / "lego"


def spheres(n: int, size: int, seed: int = 0):
    """``(images (n, size, size, 4) uint8, cameras)``: two spheres coloured by their normals."""
    rng = np.random.default_rng(seed)
    balls = [((-0.35, 0.0, 0.0), 0.45, (0.9, 0.3, 0.2)), ((0.45, 0.2, 0.1), 0.35, (0.2, 0.5, 0.9))]
    images, cameras = [], []
    for _ in range(n):
        a, e = rng.uniform(0, 2 * np.pi), rng.uniform(0.1, 1.2)
        eye = 3.5 * np.array([np.cos(a) * np.cos(e), np.sin(a) * np.cos(e), np.sin(e)])
        camera = inr.Camera.look_at(eye, up=(0, 0, 1), fov=40.0, size=(size, size))
        o, d = (np.asarray(x, np.float64) for x in inr.rays(camera))
        depth, rgba = np.full(o.shape[:2], np.inf), np.zeros((*o.shape[:2], 4))
        for centre, radius, colour in balls:
            oc = o - centre
            b = np.sum(oc * d, -1)
            disc = b**2 - np.sum(oc**2, -1) + radius**2
            t = np.where(disc > 0, -b - np.sqrt(np.maximum(disc, 0)), np.inf)
            normal = (oc + t[..., None] * d) / radius
            shade = np.clip(0.4 + 0.6 * normal[..., 2:3], 0, 1) * colour
            closer = t < depth
            rgba[closer] = np.concatenate([shade, np.ones_like(t[..., None])], -1)[closer]
            depth = np.minimum(depth, t)
        images.append(np.round(rgba * 255).astype(np.uint8))
        cameras.append(camera)
    return np.stack(images), inr.Camera.stack(cameras)


def scene(data: Path, size: int):
    """``(train images, train cameras, val images, val cameras, sampling, name)``."""
    if (data / "transforms_train.json").is_file():
        train = nerf.load_blender(data, "train", size=size)
        val = nerf.load_blender(data, "val", size=size)
        return (*train, *val, nerf.Sampling(), data.name)
    images, cameras = spheres(60, size)
    sampling = nerf.Sampling(near=1.5, far=5.5, box=1.0)
    return images[:50], cameras[:50], images[50:], cameras[50:], sampling, "two spheres"


def turntable(field, frames: int, size: int, radius: float):
    """``frames`` views around the scene's z axis from 30 degrees up: colour and depth."""
    views = []
    for a in np.linspace(0, 2 * np.pi, frames, endpoint=False):
        eye = radius * np.array([np.cos(a) * np.cos(0.5), np.sin(a) * np.cos(0.5), np.sin(0.5)])
        camera = inr.Camera.look_at(eye, up=(0, 0, 1), fov=40.0, size=(size, size))
        views.append(field.render(camera))
    return views


def gif(views, caption: str, path: Path, far: float):
    """Colour beside depth (near bright), the caption above, as a looping GIF."""
    frames = []
    for v in views:
        fig, axes = plt.subplots(1, 2, figsize=(4.4, 2.5))
        show(axes[0], v.rgb, "novel view")
        show(axes[1], np.where(v.opacity > 0.5, 1 - v.depth / far, 0), "depth", cmap="magma")
        fig.suptitle(caption, fontsize=6)
        fig.canvas.draw()
        frames.append(np.asarray(fig.canvas.buffer_rgba())[..., :3].copy())
        plt.close(fig)
    path.parent.mkdir(parents=True, exist_ok=True)
    iio.imwrite(path, frames, duration=80, loop=0)


def parse(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", type=Path, default=LEGO, help="a NeRF synthetic scene's folder")
    p.add_argument("--size", type=int, default=100, help="image side (the files' box-downsample)")
    p.add_argument("--steps", type=int, default=1500, help="fitting steps")
    p.add_argument("--rays", type=int, default=2048, help="rays per step")
    p.add_argument("--frames", type=int, default=36, help="turntable frames")
    p.add_argument("--out", type=Path, default=Path("outputs/fit_nerf.png"),
                   help="the figure; the turntable .gif beside")  # fmt: skip
    return p.parse_args(argv)


def main(argv=None):
    args = parse(argv)
    images, cameras, val, val_cameras, sampling, name = scene(args.data, args.size)
    began = time.perf_counter()
    # The objective's recipe (model, optimiser, background) but for the length and the bounds.
    field = nerf.fit_radiance_field(images, cameras, steps=args.steps, rays=args.rays,
                                    sampling=sampling, progress=True)  # fmt: skip
    seconds = time.perf_counter() - began
    scores = field.score(val, val_cameras)
    caption = (
        f"{name}, {len(images)} views at {args.size} px, {args.steps} steps "
        f"({seconds:.0f} s): val PSNR {scores['psnr']:.2f} dB, SSIM {scores['ssim']:.3f}"
    )
    print(caption)
    radius = float(np.linalg.norm(np.asarray(cameras.eye), axis=1).mean())
    gif(turntable(field, args.frames, args.size, radius), caption, args.out.with_suffix(".gif"),
        sampling.far)  # fmt: skip
    fig, axes = plt.subplots(1, 2, figsize=(6, 3.2))
    truth = val[0, ..., :3] / 255 * val[0, ..., 3:] / 255 + (1 - val[0, ..., 3:] / 255)
    show(axes[0], field.render(val_cameras[0]).rgb, "novel view (fit)")
    show(axes[1], truth, "held-out photo")
    fig.suptitle(caption, fontsize=7)
    print(f"wrote {save_figure(fig, args.out)} and {args.out.with_suffix('.gif')}")


if __name__ == "__main__":
    main()

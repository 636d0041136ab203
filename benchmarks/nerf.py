"""Radiance fields on the NeRF synthetic lego: quality against wall time, in one process.

For each fit length, a radiance field is fitted from scratch to the 100
training views (``inr.nerf.fit_radiance_field``; wall time with
compilation, a user's first call) and scored on the 100 validation views
(PSNR and SSIM, composited on white):

* ``default``: ``fit_radiance_field(images, cameras, steps=n)`` with no
  other option: the objective's recipe, instant-ngp's field (a 12-level
  hash grid of 2^17 rows, 64-wide MLPs, spherical harmonics of the
  direction), an occupancy grid skipping empty space, 2048 rays a step of
  128 candidate samples with a budget of 32 evaluated, a random background
  per ray, Adam 1e-2 decaying 10x (its default length, 1000 steps, is the
  goal's row);
* ``plain``: the same network with no view dependence and no occupancy
  grid, 1024 rays of 64 uniform samples, constant Adam 1e-2: the plain
  loop the goals were calibrated with, on the same machine.

Each row gives the samples a ray evaluated at the first and last steps
(the occupancy grid's cut), rays per second, and the time to render one
view; ``ref s`` is the wall time scaled to the reference host by this
host's SIREN step (``host`` in the JSON), the host the goals are stated on.
Published anchors, for scale (other machines, other resolutions):
the tiny-NeRF notebook reaches about 22.7 dB after 1000 steps (12 minutes
on a GPU) at 100x100; at 800x800, JaxNeRF 33.28 dB and instant-ngp
36.39 dB (5 minutes on an RTX 3090).

``--only memory`` measures instead the process's peak resident memory
while it fits 4096 rays a step and renders one 800x800 view (alone in its
process).

Usage: python benchmarks/nerf.py --data ../shared/data/nerf/lego [--size 100]
           [--steps 250 500 1000 1500] [--plain-steps 500] [--json PATH]
"""

from __future__ import annotations

import argparse
import resource
import time

import optax
from _timing import RESULTS, compilations, host, print_table, write_json

import inr
from inr import nerf

ANCHORS = {
    "tiny-NeRF notebook, 100x100, 1000 steps (GPU, 12 min)": "about 22.7 dB",
    "JaxNeRF, 800x800": "33.28 dB",
    "instant-ngp, 800x800 (RTX 3090, 5 min)": "36.39 dB",
}


def recipe(name: str, steps: int) -> dict:
    """The arguments of ``fit_radiance_field`` for a configuration (beyond ``steps``)."""
    if name == "default":
        return {}
    grid = inr.HashGrid(levels=12, features=2, log2_table_size=17, base_resolution=16, growth=1.45)
    return dict(model=nerf.NGPField(grid=grid, sh_degree=1), rays=1024, background=None,
                sampling=nerf.Sampling(samples=64, budget=64),
                occupancy=nerf.Occupancy(every=0), optimizer=optax.adam(1e-2))  # fmt: skip


def row(name: str, steps: int, train, val, slower: float) -> dict:
    kw = recipe(name, steps)
    start = time.perf_counter()
    with compilations() as compiled:
        field = nerf.fit_radiance_field(*train, steps=steps, **kw)
    fitted = time.perf_counter() - start
    scores = field.score(*val)
    camera = val[1][0]
    field.render(camera)  # compiled: time a warm render
    start = time.perf_counter()
    field.render(camera)
    rendered = time.perf_counter() - start
    samples = field.history["samples"]
    rays = kw.get("rays", nerf.RadianceObjective.rays)
    out = {"recipe": name, "steps": steps, "wall s": fitted, "ref s": fitted / slower,
           "compiled": compiled[0] > 0, "val PSNR": scores["psnr"], "val SSIM": scores["ssim"],
           "samples/ray first": float(samples[0]), "samples/ray last": float(samples[-10:].mean()),
           "rays/s": rays * steps / fitted, "render s": rendered}  # fmt: skip
    print(out, flush=True)
    return out


def memory(data, size: int) -> dict:
    """Peak resident memory of a 4096-ray fit at ``size`` and an 800x800 render."""
    train = nerf.load_blender(data, "train", size=size)
    field = nerf.fit_radiance_field(*train, steps=50, rays=4096)
    camera = train[1][0].resized((800, 800))
    view = field.render(camera)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB -> GiB
    return {"fit rays/step": 4096, "render": "800x800", "opacity mean": float(view.opacity.mean()),
            "peak GiB": peak, "goal": "< 2 GB"}  # fmt: skip


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", required=True, help="the lego folder (transforms_*.json)")
    p.add_argument("--size", type=int, default=100, help="image side (a box downsample)")
    p.add_argument("--steps", type=int, nargs="+", default=[250, 500, 1000, 1500],
                   help="fit lengths of the default recipe")  # fmt: skip
    p.add_argument("--plain-steps", type=int, nargs="*", default=[500],
                   help="fit lengths of the plain loop")  # fmt: skip
    p.add_argument("--val", type=int, default=100, help="validation views scored")
    p.add_argument("--only", choices=["memory"], help="only the memory row")
    p.add_argument("--json", default=None, help="where the results go")
    return p


def main(argv=None):
    args = parser().parse_args(argv)
    if args.only == "memory":
        out = memory(args.data, args.size)
        write_json(args.json or RESULTS / "nerf_memory.json",
                   {"memory": out, "table": print_table([out], list(out))})  # fmt: skip
        return
    train = nerf.load_blender(args.data, "train", size=args.size)
    val_images, val_cameras = nerf.load_blender(args.data, "val", size=args.size)
    val = (val_images[: args.val], val_cameras[: args.val])
    machine = host()
    slower = machine["slower than reference"]
    rows = [row("default", n, train, val, slower) for n in args.steps]
    rows += [row("plain", n, train, val, slower) for n in args.plain_steps]
    columns = ["recipe", "steps", "wall s", "ref s", "compiled", "val PSNR", "val SSIM",
               "samples/ray first", "samples/ray last", "rays/s", "render s"]  # fmt: skip
    path = args.json or RESULTS / f"nerf_{args.size}.json"
    write_json(path, {"settings": vars(args), "size": args.size, "host": machine, "rows": rows,
                      "anchors": ANCHORS, "table": print_table(rows, columns)})  # fmt: skip


if __name__ == "__main__":
    main()

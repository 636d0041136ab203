"""Shapes as signed distance fields: SIREN, the hash grid and Fourier features, one process.

For every mesh of a folder (OBJ or PLY), 100,000 oriented surface samples
(area-weighted, seed 0) are fitted by each model with
``inr.shapes.fit_sdf``; the zero level set is meshed at 256^3 and compared
with the input mesh on 1,000,000 samples of each surface, both in field
coordinates (centred, the longest side spanning [-1, 1]): Chamfer (half the
sum of the two mean distances), Hausdorff, normal consistency and F-score
at 0.01.  Wall times count compiling.  A row per shape measures the input
mesh against itself: the sampling floor under every Chamfer distance.
Each fitted SIREN is also sphere-traced at 512x512 (first call and warm).

* ``siren``: SIREN's configuration (256 x 3, omega_0 = 30, Adam 1e-4,
  ``SDFLoss()`` as its code weights it).
* ``siren_distance``: the fastest to the goals: SIREN 128 x 3 with
  omega_0 = 15 for the first layer, Adam 3e-4 with cosine decay, SIREN's
  terms plus half the off-surface points near the surface and all of them
  held to the distance of the nearest sample (``SDFLoss(distance=1e2)``,
  ``SDFSampling(near=0.5)``).
* ``hash``: a hash grid (8 levels x 2 features, base 16, growth 1.5, so
  the finest has 273 cells a side; smoothstep) and a 64 x 2 ReLU MLP, Adam
  1e-2 with cosine decay; half the off-surface points near the surface and
  all of them held to the distance of the nearest sample
  (``SDFLoss(normal=1e3, eikonal=0, off_surface=0, distance=1e2)``,
  ``SDFSampling(near=0.5)``: with SIREN's eikonal and off-surface terms the
  grid grows stray surfaces).
* ``fourier``: 256 Gaussian Fourier features (sigma 2) into a 256 x 3 ReLU
  MLP, Adam 1e-4.

``--memory 512`` instead extracts the bunny's mesh of a small hash grid at
512^3 and reports the process's peak resident memory (run it alone).

Usage: python benchmarks/shapes.py --data ../shared/data/shapes
           [--shapes stanford-bunny] [--models siren siren_distance hash fourier]
           [--steps siren=1400 siren_distance=1500 hash=1000 fourier=1400] [--json PATH]
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

import jax
import numpy as np
import optax
from _timing import RESULTS, print_table, write_json

import inr
from inr import shapes

FIT_SAMPLES, METRIC_SAMPLES, RESOLUTION, THRESHOLD = 100_000, 1_000_000, 256, 0.01
TRACE_SIZE = 512  # the sphere-traced pictures' width and height
POINTS = 10_000  # per step: 5,000 on the surface and 5,000 off it


def configs(steps: dict) -> dict:
    """Each model's ``(model, optimizer, loss, sampling)`` for its number of steps."""
    grid = inr.HashGrid(levels=8, base_resolution=16, growth=1.5, interpolation="smoothstep")
    cosine = lambda lr, n: optax.adam(optax.cosine_decay_schedule(lr, n))  # noqa: E731
    supervised = shapes.SDFLoss(normal=1e3, eikonal=0.0, off_surface=0.0, distance=1e2)
    siren, near = (shapes.SDFLoss(), shapes.SDFSampling()), shapes.SDFSampling(near=0.5)
    return {
        "siren": (inr.Siren(256, 3, 1), optax.adam(1e-4), *siren),
        "siren_distance": (inr.Siren(128, 3, 1, first_w0=15.0),
                           cosine(3e-4, steps["siren_distance"]),
                           shapes.SDFLoss(distance=1e2), near),
        "hash": (inr.MLP(64, 2, 1, encoding=grid), cosine(1e-2, steps["hash"]), supervised, near),
        "fourier": (inr.MLP(256, 3, 1, encoding=inr.FourierFeatures(256, 2.0)),
                    optax.adam(1e-4), *siren),
    }  # fmt: skip


def in_field(mesh: shapes.Mesh, transform) -> shapes.Mesh:
    return shapes.Mesh(np.asarray(transform.to_field(mesh.vertices)), mesh.faces)


def metrics(mesh, reference, samples: int = METRIC_SAMPLES) -> dict:
    m = shapes.surface_metrics(mesh, reference, samples=samples, threshold=THRESHOLD)
    return {"Chamfer": m.chamfer, "Hausdorff": m.hausdorff, "normal consistency":
            m.normal_consistency, "F-score": m.f_score}  # fmt: skip


def trace_times(sdf, size: int = TRACE_SIZE) -> dict:
    """A ``size`` x ``size`` picture from 3 half-sizes away (the shape's own units), timed
    twice."""
    centre, scale = np.asarray(sdf.transform.centre), float(sdf.transform.scale)
    eye = tuple(centre + scale * np.array([1.6, 1.0, 2.4]))
    camera = inr.Camera.look_at(eye, centre, fov=40.0, size=(size, size))
    out = {}
    for run in trace_columns(size):
        start = time.perf_counter()
        shapes.render_sdf(sdf, camera)
        out[run] = time.perf_counter() - start
    return out


def trace_columns(size: int) -> tuple[str, str]:
    return f"render {size}² s (first)", f"render {size}² s"


def shape_rows(path: Path, names, steps: dict, resolution: int = RESOLUTION,
               samples: int = METRIC_SAMPLES, trace: int = TRACE_SIZE) -> list[dict]:  # fmt: skip
    truth = shapes.load_mesh(path)
    transform = shapes.unit_transform(truth.vertices)
    reference = in_field(truth, transform)
    points, normals = shapes.sample_surface(truth, FIT_SAMPLES, seed=0)
    rows = [{"shape": path.stem, "model": "the mesh itself (sampling floor)",
             **metrics(reference, reference, samples)}]  # fmt: skip
    for name in names:
        model, optimizer, loss, sampling = configs(steps)[name]
        start = time.perf_counter()
        sdf = shapes.fit_sdf(points, normals, model=model, optimizer=optimizer,
                             steps=steps[name], points=POINTS, loss=loss,
                             sampling=sampling)  # fmt: skip
        jax.block_until_ready(sdf.params)
        fitted = time.perf_counter() - start
        mesh = shapes.extract_mesh(sdf, resolution)
        meshed = time.perf_counter() - start - fitted
        row = {"shape": path.stem, "model": name, "steps": steps[name],
               "params": int(sum(np.size(x) for x in jax.tree.leaves(sdf.params))),
               "fit s": fitted, "mesh s": meshed, "steps/s": steps[name] / fitted,
               **metrics(in_field(mesh, transform), reference, samples)}  # fmt: skip
        if name.startswith("siren"):
            row.update(trace_times(sdf, trace))
        print(row, flush=True)
        rows.append(row)
    return rows


def memory_row(path: Path, resolution: int) -> dict:
    truth = shapes.load_mesh(path)
    points, normals = shapes.sample_surface(truth, FIT_SAMPLES, seed=0)
    model = inr.MLP(32, 1, 1, encoding=inr.HashGrid(levels=8, log2_table_size=16))
    sdf = shapes.fit_sdf(points, normals, model=model, optimizer=optax.adam(1e-3), steps=200,
                         points=4000, sampling=shapes.SDFSampling(near=0.5))  # fmt: skip
    start = time.perf_counter()
    mesh = shapes.extract_mesh(sdf, resolution)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB -> GiB
    row = {"resolution": resolution, "vertices": len(mesh.vertices), "faces": len(mesh.faces),
           "extract s": time.perf_counter() - start, "peak RSS GiB": peak}  # fmt: skip
    print(row, flush=True)
    return row


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", required=True, type=Path, help="a folder of OBJ/PLY meshes")
    p.add_argument("--shapes", nargs="+", help="file stems to run (default: every mesh)")
    p.add_argument(
        "--models",
        nargs="+",
        default=["siren", "siren_distance", "hash", "fourier"],
        help="which of siren, siren_distance, hash, fourier (the module docstring)",
    )
    p.add_argument("--steps", nargs="+", default=[], help="model=steps, e.g. hash=2000")
    p.add_argument("--memory", type=int, help="only: the bunny's extraction at this resolution")
    p.add_argument("--resolution", type=int, default=RESOLUTION, help="the meshes' lattice")
    p.add_argument("--samples", type=int, default=METRIC_SAMPLES, help="samples of the metrics")
    p.add_argument("--trace-size", type=int, default=TRACE_SIZE,
                   help="the sphere-traced pictures' width and height")  # fmt: skip
    p.add_argument(
        "--json", type=Path, default=RESULTS / "shapes.json", help="where the results go"
    )
    args = p.parse_args(argv)
    if args.memory:
        row = memory_row(args.data / "stanford-bunny.obj", args.memory)
        write_json(args.json, {"memory": row, "table": print_table([row], list(row))})
        return
    steps = {"siren": 1400, "siren_distance": 1500, "hash": 1000, "fourier": 1400}
    steps.update({k: int(v) for k, v in (s.split("=") for s in args.steps)})
    files = sorted(f for f in args.data.iterdir() if f.suffix in shapes.MESH_FORMATS)
    files = [f for f in files if not args.shapes or f.stem in args.shapes]
    out, rows = {"settings": {k: str(v) for k, v in vars(args).items()}, "steps": steps}, []
    for path in files:
        rows += shape_rows(path, args.models, steps, args.resolution, args.samples,
                           args.trace_size)  # fmt: skip
        out["rows"] = rows
        write_json(args.json, out)  # after each shape: a long run keeps what it measured
    columns = ["shape", "model", "params", "steps", "fit s", "mesh s", "steps/s", "Chamfer",
               "Hausdorff", "normal consistency", "F-score",
               *trace_columns(args.trace_size)]  # fmt: skip
    out["table"] = print_table(rows, columns)
    write_json(args.json, out)


if __name__ == "__main__":
    main()

"""Data-parallel scaling: training steps, render points and batched fits per second vs devices.

    python benchmarks/scaling.py                       # CPU: 1, 2, 4, 8 forced devices
    python benchmarks/scaling.py --devices 1 2 4 8     # a GPU machine: its real devices

Everything runs in one process on one set of inputs, on meshes of the first
1, 2, 4, ... devices (:mod:`inr.distributed`), so each row is compared with
the 1-device row of the same run; the "peer" is one device.  On a machine
without accelerators the devices are CPU devices forced with
``--xla_force_host_platform_device_count`` (the script sets it before JAX
starts); they share the machine's cores, so their scaling measures the
overhead of the SPMD program, not extra compute.

Measured, with the global batch fixed whatever the device count:

* train: the jitted restorator ``train_step`` (default 0.54 M-parameter
  model, ``--batch`` images x ``--points`` points) on one fixed batch, steps
  per second (the host data pipeline is excluded: it is per host, not per
  device);
* render: ``Restorator.restore`` of the shipped ``pretrained:restore`` model
  at ``--size`` squared, points per second;
* fit: ``fit_images`` of ``--images`` 64x64 images (width-64 SIRENs),
  images per second.

Efficiency is speed-up / devices.  Writes ``benchmarks/results/scaling.json``.
"""

from __future__ import annotations

import argparse
import os
import sys


def _force_cpu_devices(n: int) -> None:
    # Must happen before JAX initialises its backends.
    if "jax" in sys.modules:
        raise RuntimeError("set the device count before importing jax")
    flags = os.environ.get("XLA_FLAGS", "")
    if "xla_force_host_platform_device_count" not in flags:
        os.environ["XLA_FLAGS"] = f"{flags} --xla_force_host_platform_device_count={n}".strip()


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument(
        "--devices", type=int, nargs="+", default=[1, 2, 4, 8], help="mesh sizes to measure"
    )
    p.add_argument("--batch", type=int, default=16, help="global batch (images per step)")
    p.add_argument("--points", type=int, default=1024, help="query points per image")
    p.add_argument("--steps", type=int, default=10, help="timed training steps")
    p.add_argument("--size", type=int, default=512, help="render side")
    p.add_argument("--images", type=int, default=16, help="images fitted by fit_images")
    p.add_argument("--fit-steps", type=int, default=100, help="steps of the fit_images row")
    p.add_argument("--cpu", action="store_true", help="force CPU devices even with a GPU")
    p.add_argument("--out", help="the JSON (default: results/scaling_<platform>.json)")
    args = p.parse_args(argv)
    if args.cpu or not _has_accelerator():
        if args.cpu:
            os.environ["JAX_PLATFORMS"] = "cpu"
        _force_cpu_devices(max(args.devices))
    run(args)


def _has_accelerator() -> bool:
    # Without importing jax (that would fix the device count): ask for CUDA/TPU libs.
    if os.environ.get("JAX_PLATFORMS", "").startswith("cpu"):
        return False
    import importlib.util

    names = ("jax_cuda12_plugin", "jax_cuda13_plugin", "jax_cuda12_pjrt", "libtpu")
    return any(importlib.util.find_spec(m) is not None for m in names)


def run(args) -> None:
    import jax

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from _timing import RESULTS, print_table, write_json

    available = jax.device_count()
    counts = [n for n in args.devices if n <= available]
    kind = jax.devices()[0].device_kind
    print(f"{available} devices ({kind}); measuring meshes of {counts}", flush=True)
    work = _workload(args)
    rows = []
    for n in counts:
        if args.batch % n:
            print(f"skipping {n} devices: batch {args.batch} does not split", flush=True)
            continue
        rows.append(_measure(n, args, work))
        print(rows[-1], flush=True)
    base = rows[0]
    for r in rows:
        for k in ("train_steps_per_s", "render_mpoints_per_s", "fit_images_per_s"):
            speedup = r[k] / base[k] * base["devices"]
            r[k.split("_")[0] + "_speedup"] = speedup
            r[k.split("_")[0] + "_efficiency"] = speedup / r["devices"]
    columns = ["devices"] + [
        f"{what}_{column}"
        for what, speed in (("train", "steps_per_s"), ("render", "mpoints_per_s"),
                            ("fit", "images_per_s"))
        for column in (speed, "speedup", "efficiency")
    ]  # fmt: skip
    table = print_table(rows, columns)
    settings = {k: v for k, v in vars(args).items() if k != "out"}
    out = args.out or RESULTS / f"scaling_{jax.devices()[0].platform}.json"
    write_json(out, {"device_kind": kind, "settings": settings, "rows": rows, "table": table})


def _workload(args) -> dict:
    """What every mesh runs: one fixed training batch (made on the host once), a model, images."""
    import jax
    import numpy as np

    import inr
    from inr import distributed
    from inr.restorator import data as rdata
    from inr.restorator.batches import batch_maker

    config = inr.RestoratorConfig(task="restore")
    tx = inr.restorator.restorator_optimizer(1000, 1e-3)
    names = ("astronaut", "coffee", "chelsea")
    images = rdata.load_images([inr.sample_image(n) for n in names])
    examples = inr.restorator.Examples(points_per_image=args.points).for_model(config)
    make = batch_maker(images, examples, args.batch, distributed.make_mesh(1), seed=0)
    fit_data = np.stack([inr.resize(inr.sample_image(n), (64, 64)) for n in names])
    return {
        "net": inr.restorator.RestoratorNet(config),
        "tx": tx,
        "batch": jax.device_get(make(0)),
        "gray": inr.rgb_to_gray(inr.sample_image("astronaut")),
        "model": inr.load_restorator("pretrained:restore"),
        "fit_data": np.resize(fit_data, (args.images, 64, 64, 3)),
    }


def _measure(n: int, args, work: dict) -> dict:
    """Training steps, render points and fitted images per second on a mesh of ``n`` devices."""
    import functools

    import jax
    from _timing import best_time

    import inr
    from inr import distributed
    from inr.restorator.step import init_state, train_step

    mesh = distributed.make_mesh(n)
    net, tx = work["net"], work["tx"]
    key = jax.random.PRNGKey(0)
    init = functools.partial(init_state, net, tx, points_per_image=args.points)
    shardings = distributed.state_sharding(jax.eval_shape(init, key), mesh)
    state0 = jax.jit(init, out_shardings=shardings)(key)
    step = jax.jit(
        functools.partial(train_step, net, tx, inr.restorator.Loss("l1"), 0),
        in_shardings=(shardings, distributed.data_sharding(mesh)),
        out_shardings=(shardings, distributed.replicated(mesh)),
    )
    on_mesh = distributed.global_batch(work["batch"], mesh)

    def train():
        state = state0
        for _ in range(args.steps):
            state, loss = step(state, on_mesh)
        loss.block_until_ready()

    def fit():
        result = inr.fit_images(
            work["fit_data"], model=inr.Siren(64, 2, 3), steps=args.fit_steps, mesh=mesh
        )
        jax.block_until_ready(result.params)

    side = args.size
    t_render = best_time(lambda: work["model"].restore(work["gray"], (side, side), mesh=mesh))
    return {
        "devices": n,
        "train_steps_per_s": args.steps / best_time(train, repeats=2),
        "render_mpoints_per_s": side**2 / t_render / 1e6,
        "fit_images_per_s": args.images / best_time(fit, repeats=1),
    }


if __name__ == "__main__":
    main()

"""Every public call against its compiled core, and a second call against the first.

The public call takes NumPy and returns NumPy, with its validation; the core
is the same computation with the validation and the argument handling done
once, outside the timing: for the array operators the public function
jitted by the caller (NumPy in, NumPy out), for the fitting and rendering
entry points their module-level compiled programs on arguments already on
the device (output copied to NumPy).  Goal: every ratio <= 1.1.

Second calls, as a notebook user makes them: each public entry is called
once, then again with new data of the same shapes, another step count (an
optimiser written anew with the same values where it takes one) or, for
renders, another size or point count.  The table gives both wall times,
their ratio and the programs each call compiled (counted lowerings): the
second call compiles none.

Usage: python benchmarks/public_calls.py [--size 1024] [--json PATH]
"""

from __future__ import annotations

import argparse
import time
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import optax
from _timing import RESULTS, best_times, compilations, print_table, write_json

import inr
from inr import loop
from inr import result as result_module
from inr._by_value import ByValue
from inr.coords import grid_axes
from inr.distributed import local_mesh, replicate, to_host
from inr.render import evaluate_grid
from inr.restorator import inference


def _numpy(fn):
    return lambda *a: np.asarray(fn(*a))


def operator_rows(size: int) -> list[tuple[str, callable, callable]]:
    rng = np.random.default_rng(0)
    image = rng.random((size, size, 3), dtype=np.float32)
    grad = np.asarray(inr.image_gradient(image))
    rhs = np.asarray(inr.laplacian_5pt(image))
    rows = []
    for name, fn, arg in (
        ("image_gradient", inr.image_gradient, image),
        ("divergence", inr.divergence, grad),
        ("laplacian_5pt", inr.laplacian_5pt, image),
        ("poisson_solve", inr.poisson_solve, rhs),
        ("reconstruct", inr.reconstruct, grad),
    ):
        public, core = _numpy(fn), _numpy(jax.jit(fn))
        label = f"inr.{name} {size}x{size} RGB"
        rows.append((label, lambda p=public, a=arg: p(a), lambda c=core, a=arg: c(a)))
    return rows


def fit_rows() -> list[tuple[str, callable, callable]]:
    image = inr.resize(inr.sample_image("camera"), (64, 64))
    model = inr.Siren(out_features=1, hidden_features=64, hidden_layers=2)
    optimizer, steps = inr.DEFAULT_OPTIMIZER, 100
    kw = dict(model=model, steps=steps)
    fitted = inr.fit_image(image, **kw)

    objective = inr.SignalValues.create(image, dims=2, value_range=(0, 1))
    key = jax.random.PRNGKey(0)

    update = ByValue(optimizer.update)

    def fit_core():  # steps <= loop.CHUNK: one compiled chunk
        params = loop._init_one(model, objective, key)
        out = loop._train_one(model, update, objective, key, params, optimizer.init(params),
                              jnp.int32(0), jnp.int32(steps))  # fmt: skip
        return to_host(out[3]["loss"])[:steps]

    mesh = local_mesh()
    height = width = 512
    axes = grid_axes(height, width, None)
    step = jnp.asarray([2.0 / width, 2.0 / height], jnp.float32)
    params, offset = replicate((fitted.params, fitted.offset), mesh)
    params, offset = jax.tree.map(lambda x: x[None], params), offset[None]
    field = partial(result_module._field, model, "values")

    def render_core():
        args = (params, offset, step, jnp.float32(0.5))
        return np.clip(evaluate_grid(field, args, axes, chunk=65536, mesh=mesh), 0, 1)

    return [
        (
            f"inr.fit_image 64x64, {steps} steps",
            lambda: inr.fit_image(image, model=model, steps=steps),
            fit_core,
        ),  # fmt: skip
        ("FitResult.render 512x512", lambda: fitted.render(height, width), render_core),
    ]


def restore_row() -> tuple[str, callable, callable]:
    model = inr.load_restorator("pretrained:restore")
    gray = inr.rgb_to_gray(inr.resize(inr.sample_image("astronaut"), (64, 64)))
    inputs, base = model._encoder_inputs(gray)
    axes = grid_axes(256, 256, None)
    cell = np.array([64 / 256, 64 / 256], np.float32)
    mesh = inr.distributed.as_mesh(None)
    params = replicate(model.params, mesh)

    def core():
        return to_host(inference._render(model.net, params, inputs, base, axes, cell, 65536, mesh))

    return ("Restorator.restore 64 -> 256x256", lambda: model.restore(gray, size=(256, 256)), core)


def _sphere_views(n: int, size: int, seed: int):
    """Views of a ball coloured by its normals, RGBA uint8, and their cameras."""
    angles = np.random.default_rng(seed).uniform(0, 2 * np.pi, n)
    cameras = inr.Camera.stack([inr.Camera.look_at((3 * np.cos(a), 3 * np.sin(a), 1.0),
                                                   up=(0, 0, 1), size=(size, size))
                                for a in angles])  # fmt: skip
    o, d = (np.asarray(x) for x in inr.rays(cameras))
    b = np.sum(o * d, -1)
    disc = b**2 - np.sum(o**2, -1) + 0.6**2
    normal = (o + (-b - np.sqrt(np.maximum(disc, 0)))[..., None] * d) / 0.6
    rgba = np.concatenate([0.5 + 0.5 * normal, np.ones_like(b[..., None])], -1)
    return np.round(255 * np.where((disc > 0)[..., None], rgba, 0)).astype(np.uint8), cameras


def _fits() -> dict:
    """``{entry: (first call, second call)}`` for the fitting entries, at small sizes.

    Each entry's first call is the first of its programs in the process
    (the set-up's functa is meta-trained with another network than the
    meta-training entry's).
    """
    from inr import nerf, pde, shapes
    from inr import tomography as tomo

    rng = np.random.default_rng(0)
    camera, astronaut = (inr.resize(inr.sample_image(n), (32, 32)) for n in ("camera", "astronaut"))
    siren = dict(model=inr.Siren(32, 2, 1))
    sphere = lambda n, s: rng.normal(size=(n, 3)) * s  # noqa: E731
    p, q = sphere(2000, 1.0), sphere(2000, 2.0)
    views = [_sphere_views(8, 16, seed) for seed in (0, 1)]
    grid = inr.HashGrid(levels=4, log2_table_size=10, base_resolution=4)
    ray_kw = dict(model=nerf.NGPField(grid=grid, hidden=16), rays=256,
                  sampling=nerf.Sampling(near=1.0, far=5.0, box=1.0, samples=32))  # fmt: skip
    scan = tomo.ParallelBeam.create(np.linspace(0, 180, 16, endpoint=False), 64)
    sinograms = [tomo.project(np.clip(rng.random((64, 64)), 0, 1), scan) for _ in range(2)]
    helmholtz = pde.HelmholtzObjective(pde.Helmholtz(k=10.0, sigma=0.05), points=2000, near=100)
    faces = rng.random((2, 12, 8, 8, 3)).astype(np.float32)
    config = lambda n: inr.meta.MetaConfig(inner_steps=2, batch_size=3, steps=n)  # noqa: E731
    functa = inr.meta.meta_train(faces[0], model=inr.meta.ModulatedSiren(16, 1, 3, 8),
                                 config=config(2))  # fmt: skip
    return {
        "inr.fit_image 32x32, SIREN 32x2": (
            lambda: inr.fit_image(camera, steps=100, optimizer=optax.adam(1e-4), **siren),
            lambda: inr.fit_image(camera.T, steps=150, optimizer=optax.adam(1e-4), **siren)),
        "inr.fit_signal audio 8000x1": (
            lambda: inr.fit_signal(rng.normal(size=(8000, 1)), steps=50, points=1024, **siren),
            lambda: inr.fit_signal(rng.normal(size=(8000, 1)), steps=80, points=1024, **siren)),
        "inr.fit_images 3x32x32x3": (
            lambda: inr.fit_images(np.stack([astronaut] * 3), steps=30, model=inr.Siren(32, 2, 3)),
            lambda: inr.fit_images(np.stack([astronaut[::-1]] * 3), steps=40,
                                   model=inr.Siren(32, 2, 3))),
        "inr.fit_image(target='gradients')": (
            lambda: inr.fit_image(camera, target="gradients", steps=30, **siren),
            lambda: inr.fit_image(camera.T, target="gradients", steps=50, **siren)),
        "shapes.fit_sdf 2000 points": (
            lambda: shapes.fit_sdf(p, p, points=256, steps=50, **siren),
            lambda: shapes.fit_sdf(q, q, points=256, steps=70, **siren)),
        "nerf.fit_radiance_field 8x16x16": (
            lambda: nerf.fit_radiance_field(*views[0], steps=30, **ray_kw),
            lambda: nerf.fit_radiance_field(*views[1], steps=40, **ray_kw)),
        "tomography.fit_sinogram 64x64, 16 views": (
            lambda: tomo.fit_sinogram(sinograms[0], scan, steps=50, rays=512),
            lambda: tomo.fit_sinogram(sinograms[1], scan, steps=70, rays=512)),
        "pde.solve_linear Helmholtz, 512 features": (
            lambda: pde.solve_linear(helmholtz, pde.SineFeatures(512, 30.0)),
            lambda: pde.solve_linear(helmholtz, pde.SineFeatures(512, 30.0), seed=1)),
        "meta.meta_train 12 signals 8x8": (
            lambda: inr.meta.meta_train(faces[0], model=inr.Siren(16, 1, 3), config=config(5)),
            lambda: inr.meta.meta_train(faces[1], model=inr.Siren(16, 1, 3), config=config(8))),
        "meta.fit_latents 12 signals 8x8": (
            lambda: inr.meta.fit_latents(faces[0], functa),
            lambda: inr.meta.fit_latents(faces[1], functa)),
    }  # fmt: skip


def _renders() -> dict:
    """``{entry: (first call, second call)}`` for renders and values at points."""
    from inr import shapes

    camera = inr.resize(inr.sample_image("camera"), (32, 32))
    fit = inr.fit_image(camera, model=inr.Siren(32, 2, 1), steps=5)
    p = np.random.default_rng(0).normal(size=(2000, 3))
    sdf = shapes.fit_sdf(p, p / np.linalg.norm(p, axis=1, keepdims=True), steps=5, points=64,
                         model=inr.Siren(32, 2, 1))  # fmt: skip
    model = inr.load_restorator("pretrained:restore")
    gray = inr.rgb_to_gray(inr.resize(inr.sample_image("astronaut"), (64, 64)))
    return {
        "FitResult.render 512x512, then 300x200": (
            lambda: fit.render(512, 512), lambda: fit.render(300, 200)),
        # A block of 65536 points runs only the slices that hold points: 48x48 costs its own.
        "FitResult.render 512x512, then 48x48": (
            lambda: fit.render(512, 512), lambda: fit.render(48, 48)),
        "FitResult.at 10000, then 7777 points": (
            lambda: fit.at(np.zeros((10000, 2))), lambda: fit.at(np.ones((7777, 2)) / 2)),
        "SDF.at 5000, then 3333 points": (
            lambda: sdf.at(p[:1000].repeat(5, 0)), lambda: sdf.at(p[:1111].repeat(3, 0))),
        "Restorator.restore 64 -> 256, then another image": (
            lambda: model.restore(gray, size=(256, 256)),
            lambda: model.restore(gray.T, size=(256, 256))),
    }  # fmt: skip


def second_call_rows() -> list[dict]:
    """Each entry's two calls: run first, in a process that has compiled nothing else."""
    rows = []
    for entries in (_fits, _renders):  # the renders' set-up fits after the fits ran
        rows += [_two_calls(name, *calls) for name, calls in entries().items()]
    return rows


def _two_calls(name: str, first, second) -> dict:
    times, compiled = [], []
    for call in (first, second):
        start = time.perf_counter()
        with compilations() as n:
            call()
        times.append(time.perf_counter() - start)
        compiled.append(n[0])
    row = {"call": name, "first s": times[0], "second s": times[1],
           "second / first": times[1] / times[0], "first compiled": compiled[0],
           "second compiled": compiled[1]}  # fmt: skip
    print(row, flush=True)
    return row


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--size", type=int, default=1024, help="side of the operators' arrays")
    p.add_argument("--repeats", type=int, default=7, help="timings per call (the best is kept)")
    p.add_argument(
        "--json", default=str(RESULTS / "public_calls.json"), help="where the results go"
    )
    args = p.parse_args(argv)

    second = second_call_rows()
    rows = []
    for name, public, core in [*operator_rows(args.size), *fit_rows(), restore_row()]:
        best = best_times({"public": public, "core": core}, repeats=args.repeats)
        rows.append(
            {
                "call": name,
                "public ms": 1e3 * best["public"],
                "core ms": 1e3 * best["core"],
                "public / core": best["public"] / best["core"],
            }
        )
    table = print_table(rows, ["call", "public ms", "core ms", "public / core"])
    columns = ["call", "first s", "second s", "second / first", "first compiled",
               "second compiled"]  # fmt: skip
    second_table = print_table(second, columns)
    write_json(args.json, {"size": args.size, "rows": rows, "table": table,
                           "second calls": second, "second table": second_table})  # fmt: skip


if __name__ == "__main__":
    main()

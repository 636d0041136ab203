"""Every public call against its compiled core, as a notebook user makes it.

The public call takes NumPy and returns NumPy, with its validation; the core
is the same computation with the validation and the argument handling done
once, outside the timing: for the array operators the public function
jitted by the caller (NumPy in, NumPy out), for the fitting and rendering
entry points their module-level compiled programs on arguments already on
the device (output copied to NumPy).  Goal: every ratio <= 1.1.

Usage: python benchmarks/public_calls.py [--size 1024] [--json PATH]
"""

from __future__ import annotations

import argparse

import jax
import jax.numpy as jnp
import numpy as np
from _timing import RESULTS, best_times, print_table, write_json

import inr
from inr import loop
from inr import result as result_module
from inr.coords import grid_axes
from inr.distributed import local_mesh, replicate, to_host
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

    def fit_core():
        params, state = loop._init_one(model, optimizer, objective, key)
        out = loop._train_one(model, optimizer, steps, objective, key, params, state, 0)
        return to_host(out[2]["loss"])

    mesh = local_mesh()
    height = width = 512
    axes = grid_axes(height, width, None)
    step = jnp.asarray([2.0 / width, 2.0 / height], jnp.float32)
    params, offset = replicate((fitted.params, fitted.offset), mesh)
    params, offset = jax.tree.map(lambda x: x[None], params), offset[None]

    def render_core():
        args = (model, "values", 65536, mesh, params, offset, axes, step)
        return np.clip(to_host(result_module._render(*args)), 0, 1)

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


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--size", type=int, default=1024, help="side of the operators' arrays")
    p.add_argument("--repeats", type=int, default=7, help="timings per call (the best is kept)")
    p.add_argument(
        "--json", default=str(RESULTS / "public_calls.json"), help="where the results go"
    )
    args = p.parse_args(argv)

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
    print_table(rows, ["call", "public ms", "core ms", "public / core"])
    write_json(args.json, {"size": args.size, "rows": rows})


if __name__ == "__main__":
    main()

"""Hash grid against SIREN: step time at tiny-cuda-nn's sample configuration, and time to quality.

1. The step of tiny-cuda-nn's image sample (hash grid of 16 levels x 2
   features, 2^19 rows per level, base resolution 16, growth 2; a 64-wide
   MLP with 2 hidden layers; 2^18 random points per step; Adam), beside two
   floors of the same step measured in the same process: the MLP's matmuls
   alone (forward and backward on the encoded points) and the memory pass
   that Adam makes over the table (read parameter, gradient and both
   moments, write three).  In float32, and with the MLP's hidden layers in
   bfloat16 (``inr.MLP(dtype=jnp.bfloat16)``; tiny-cuda-nn runs its MLP in
   half precision).  On a GPU also with the encoding's fused Pallas kernels
   (``HashGrid(implementation="pallas")``), first checked against the XLA
   encoding on the same device.  Goal on an H100: <= 1.5 ms per step.
2. Time to 30, 35 and 40 dB PSNR fitting the astronaut (``--size``; 1024 on
   an accelerator) with SIREN (the paper's net and Adam 1e-4) and with the
   hash grid (instant-ngp's Adam 1e-2), full batch; time per step from the
   timed run after a compiling one, thresholds from the per-step PSNR
   history; the hash grid in float32, with its MLP in bfloat16 and, with
   ``--implementations ... pallas``, through the Pallas kernels.  Goal:
   the hash grid >= 10x faster to 35 dB.  ``--plot`` draws PSNR against
   seconds.
3. ``--large 4096``: the hash grid alone fitting the astronaut at that size
   from ``--points`` random pixels a step (the full grid no longer fits a
   step), thresholds from each step's sample PSNR, then the PSNR of a full
   chunked render.  Goal on an H100: 35 dB in under 30 s at 4096x4096.
4. ``--gradients 256``: ``fit_gradients`` through a smoothstep hash grid on
   the cameraman's forward differences, with the multi-scale terms annealed
   (the default) and kept (``anneal=None``), each against the exact Poisson
   reconstruction.  Goal: within 1 dB of it (read as PSNR against it).

Usage: python benchmarks/hash_grid.py [--size 256] [--siren-steps 400] [--hash-steps 300]
       [--large 4096 --large-steps 2000] [--gradients 256 --gradient-steps 1000]
       [--siren-cold] [--implementations xla pallas] [--dtypes float32 bfloat16]
       [--plot PNG] [--json PATH]
"""

from __future__ import annotations

import argparse
import functools
import itertools
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax
from _timing import RESULTS, best_time, print_table, write_json

import inr
from inr.nn.hash_encoding import encode
from inr.nn.hash_kernel import encode_pallas

THRESHOLDS = (30.0, 35.0, 40.0)
# instant-ngp's optimiser (Muller et al. 2022, Sec. 4): Adam, beta2 0.99, eps 1e-15.
HASH_OPTIMIZER = optax.adam(1e-2, b1=0.9, b2=0.99, eps=1e-15)


DTYPES = {"float32": None, "bfloat16": jnp.bfloat16}


def tcnn_model(dtype=None, **grid) -> inr.MLP:
    grid = inr.HashGrid(**grid)
    return inr.MLP(64, hidden_layers=1, out_features=3, encoding=grid, dtype=dtype)


ENCODERS = {"xla": encode, "pallas": encode_pallas}


def encoding_pass(implementation: str, xy, **options):
    """``table -> (features, table gradient)``: the encoding's share of a step, jitted."""
    spec = inr.HashGrid().spec(2)
    g = jax.random.normal(jax.random.PRNGKey(2), (xy.shape[0], 32))
    fn = functools.partial(ENCODERS[implementation], **options)
    return jax.jit(jax.value_and_grad(lambda t: jnp.sum(fn(xy, t, spec) * g)))


def kernel_error(xy, table) -> float:
    """Largest difference of the Pallas encoding's table gradient from XLA's."""
    want, got = (encoding_pass(name, xy)(table) for name in ("xla", "pallas"))
    return max(float(jnp.abs(a - b).max()) for a, b in zip(want, got, strict=True))


def block_sweep(points: int, repeats: int, blocks=(64, 128, 256, 512, 1024)) -> list[dict]:
    """The Pallas encoding's forward and backward at each block size, in ms."""
    xy = jax.random.uniform(jax.random.PRNGKey(0), (points, 2), minval=-1.0, maxval=1.0)
    table = tcnn_model().init(jax.random.PRNGKey(0), xy[:1])["params"]["encoding"]["table"]
    rows = []
    for block in blocks:
        f = encoding_pass("pallas", xy, block=block)
        ms = 1e3 * best_time(lambda f=f: jax.block_until_ready(f(table)), repeats)
        rows.append({"block": block, "encoding_ms": ms})
    return rows


def sample_step(model, points: int):
    """The sample's jitted step ``(params, state, xy, rgb) -> (params, state, loss)`` and its
    inputs: ``points`` random points and colours, ``model``'s parameters and Adam's state."""
    key = jax.random.PRNGKey(0)
    xy = jax.random.uniform(key, (points, 2), minval=-1.0, maxval=1.0)
    rgb = jax.random.uniform(jax.random.PRNGKey(1), (points, 3))
    params = model.init(key, xy[:1])

    @jax.jit
    def step(params, state, xy, rgb):
        loss, grads = jax.value_and_grad(lambda p: jnp.mean((model.apply(p, xy) - rgb) ** 2))(
            params
        )
        updates, state = HASH_OPTIMIZER.update(grads, state, params)
        return optax.apply_updates(params, updates), state, loss

    return step, (params, HASH_OPTIMIZER.init(params), xy, rgb)


def step_times(points: int, repeats: int, dtype: str, implementation: str) -> dict:
    """The sample configuration's training step and its two floors, in ms."""
    model = tcnn_model(DTYPES[dtype], implementation=implementation)
    key = jax.random.PRNGKey(0)
    step, (params, state, xy, rgb) = sample_step(model, points)

    def run_step():
        jax.block_until_ready(step(params, state, xy, rgb))

    mlp = inr.MLP(64, hidden_layers=1, out_features=3, dtype=DTYPES[dtype])
    features = jax.random.normal(key, (points, 32))
    mlp_params = mlp.init(key, features[:1])

    @jax.jit
    def matmuls(p, x):
        return jax.grad(lambda p, x: jnp.mean((mlp.apply(p, x) - rgb) ** 2), argnums=(0, 1))(p, x)

    table = params["params"]["encoding"]["table"]
    moments = (jnp.zeros_like(table), jnp.zeros_like(table), jnp.ones_like(table))

    @jax.jit
    def adam_pass(t, g, m, v):
        m = 0.9 * m + 0.1 * g
        v = 0.99 * v + 0.01 * g * g
        return t - 1e-2 * m / (jnp.sqrt(v) + 1e-15), m, v

    encoding = encoding_pass(implementation, xy)
    return {
        "encoding": implementation,
        "mlp_dtype": dtype,
        "max_abs_diff_from_xla": 0.0 if implementation == "xla" else kernel_error(xy[:4096], table),
        "step_ms": 1e3 * best_time(run_step, repeats),
        "encoding_ms": 1e3 * best_time(lambda: jax.block_until_ready(encoding(table)), repeats),
        "matmul_floor_ms": 1e3
        * best_time(lambda: jax.block_until_ready(matmuls(mlp_params, features)), repeats),
        "memory_floor_ms": 1e3
        * best_time(lambda: jax.block_until_ready(adam_pass(table, *moments)), repeats),
        "parameters": int(sum(x.size for x in jax.tree.leaves(params))),
        "table_mib": table.size * table.dtype.itemsize / 2**20,
    }


def time_to_quality(
    image: np.ndarray,
    name: str,
    model,
    optimizer,
    steps: int,
    points: int | None = None,
    warm_up: bool = True,
) -> dict:
    """Seconds per step (a compiled run) and the seconds at which each threshold is passed.

    A progress callback makes the fit run in scans of 100 steps, so a
    100-step warm-up compiles the very program that the timed run uses.
    Without the warm-up the timed run includes compiling (``with_compile``
    in the row): for a model too slow to warm up whose thresholds are not
    reached, that only lengthens the time the other models are compared with.
    """

    def fit(n):
        quiet = lambda *_: None  # noqa: E731
        return inr.fit_image(
            image, model=model, optimizer=optimizer, steps=n, points=points, progress=quiet
        )

    steps = 100 * -(-steps // 100)
    if warm_up:
        fit(100)
    t0 = time.perf_counter()
    result = fit(steps)
    seconds = (time.perf_counter() - t0) / steps
    psnr = np.asarray(result.history["psnr"])
    row = {"model": name, "steps": steps, "ms_per_step": 1e3 * seconds, "final_db": psnr[-1]}
    row["with_compile"] = not warm_up
    row["parameters"] = int(sum(x.size for x in jax.tree.leaves(result.params)))
    if points is not None:  # the thresholds came from samples: check the whole image
        row["points"] = points
        row["render_db"] = inr.psnr(result.render(*image.shape[:2]), image)
    for db in THRESHOLDS:
        hit = np.nonzero(psnr >= db)[0]
        row[f"s_to_{db:g}db"] = float((hit[0] + 1) * seconds) if hit.size else float("nan")
    row["curve"] = {"seconds": (np.arange(1, steps + 1) * seconds).tolist(), "psnr": psnr.tolist()}
    return row


def gradient_fits(size: int, steps: int) -> list[dict]:
    """Part 4: PSNR against the exact reconstruction, annealed and kept terms."""
    image = inr.resize(inr.sample_image("camera"), (size, size))
    grad = inr.image_gradient(image)
    exact = inr.reconstruct(grad, mean=float(image.mean()))
    adam = optax.adam(optax.cosine_decay_schedule(1e-2, steps), b1=0.9, b2=0.99, eps=1e-15)
    grid = inr.HashGrid(levels=12, features=2, log2_table_size=14, base_resolution=4,
                        growth=1.5, interpolation="smoothstep")  # fmt: skip
    model = inr.MLP(64, hidden_layers=1, out_features=1, encoding=grid)
    rows = []
    for anneal in (inr.objectives.ANNEAL, None):
        t0 = time.perf_counter()
        fit = inr.fit_gradients(
            grad, mean=float(image.mean()), model=model, optimizer=adam, steps=steps,
            anneal=anneal,
        )  # fmt: skip
        db = inr.psnr(fit.render(size, size), exact)
        seconds = time.perf_counter() - t0
        rows.append({"anneal": str(anneal), "size": size, "steps": steps,
                     "seconds_with_compile": seconds, "db_vs_exact": db})  # fmt: skip
    return rows


def parser() -> argparse.ArgumentParser:
    """The command line."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--size", type=int, default=256, help="side of the fitted astronaut")
    p.add_argument("--siren-steps", type=int, default=400, help="SIREN's fitting steps")
    p.add_argument(
        "--siren-cold",
        action="store_true",
        help="time SIREN's run with its compile, no warm-up (for sizes where SIREN is slow)",
    )
    p.add_argument("--hash-steps", type=int, default=300, help="the hash grids' fitting steps")
    p.add_argument("--points", type=int, default=2**18, help="points per step (tcnn sample)")
    p.add_argument("--repeats", type=int, default=5, help="timings per step row (the best is kept)")
    p.add_argument("--large", type=int, help="also fit the hash grid at this size, sampled")
    p.add_argument("--large-steps", type=int, default=2000, help="steps of the --large fit")
    p.add_argument("--gradients", type=int, help="also fit the cameraman's gradients at this size")
    p.add_argument("--gradient-steps", type=int, default=1000, help="steps of the --gradients fit")
    p.add_argument(
        "--implementations",
        nargs="+",
        choices=inr.nn.hashgrid.IMPLEMENTATIONS,
        # Off a GPU the Pallas kernels run in an interpreter: not worth timing.
        default=["xla", "pallas"] if jax.default_backend() == "gpu" else ["xla"],
        help="encodings to time the sample step with (default: pallas too on a GPU)",
    )
    p.add_argument(
        "--dtypes",
        nargs="+",
        choices=list(DTYPES),
        default=list(DTYPES),
        help="the MLP's dtypes, for the step and the hash grid's fits (default: both)",
    )
    p.add_argument("--plot", help="PNG of PSNR against seconds")
    p.add_argument("--json", default=str(RESULTS / "hash_grid.json"), help="where the results go")
    return p


def main():
    args = parser().parse_args()
    steps, tables = step_rows(args)
    blocks = []
    if "pallas" in args.implementations:
        blocks = block_sweep(args.points, args.repeats)
        print("the Pallas encoding, forward and backward, by points per program:")
        tables.append(print_table(blocks, ["block", "encoding_ms"]))
    rows = quality_rows(args, tables)
    if args.large:
        rows.append(large_row(args, tables))
    gradients = []
    if args.gradients:
        gradients = gradient_fits(args.gradients, args.gradient_steps)
        print(f"cameraman {args.gradients}x{args.gradients}, fit_gradients through a hash grid:")
        tables.append(print_table(gradients, list(gradients[0])))
    if args.plot:
        plot(rows, args.plot, f"astronaut {args.size}x{args.size}")
    write_json(
        args.json,
        {
            "size": args.size,
            "step": steps,
            "pallas_blocks": blocks,
            "quality": rows,
            "gradients": gradients,
            "tables": tables,
        },  # fmt: skip
    )


def step_rows(args) -> tuple[list, list]:
    """The tiny-cuda-nn sample step for each implementation and dtype, and its table."""
    steps = [
        step_times(args.points, args.repeats, dtype, implementation)
        for implementation, dtype in itertools.product(args.implementations, args.dtypes)
    ]
    for row in steps:
        row["vs_matmul_floor"] = row["step_ms"] / row["matmul_floor_ms"]
        row["vs_memory_floor"] = row["step_ms"] / row["memory_floor_ms"]
    print(f"tiny-cuda-nn sample step, {args.points} points:")
    return steps, [print_table(steps, list(steps[0]))]


def quality_rows(args, tables: list) -> list:
    """SIREN and the hash grids on the astronaut, full batch: time to each PSNR, speed-ups."""
    image = inr.resize(inr.sample_image("astronaut"), (args.size, args.size))
    siren = inr.Siren(out_features=3)
    rows = [
        time_to_quality(image, "siren", siren, None, args.siren_steps, warm_up=not args.siren_cold)
    ]
    for dtype in args.dtypes:
        name = "hash grid" + ("" if DTYPES[dtype] is None else f", {dtype} MLP")
        model = tcnn_model(DTYPES[dtype])
        rows.append(time_to_quality(image, name, model, HASH_OPTIMIZER, args.hash_steps))
    if "pallas" in args.implementations:
        model = tcnn_model(implementation="pallas")
        rows.append(
            time_to_quality(image, "hash grid, Pallas", model, HASH_OPTIMIZER, args.hash_steps)
        )
    siren_total = rows[0]["steps"] * rows[0]["ms_per_step"] / 1e3
    for row, db in itertools.product(rows[1:], THRESHOLDS):
        key = f"s_to_{db:g}db"
        if np.isnan(rows[0][key]):  # SIREN never got there: a lower bound
            row[f"speedup_{db:g}db"] = f">{siren_total / row[key]:.3g}"
        else:
            row[f"speedup_{db:g}db"] = rows[0][key] / row[key]
    print(f"astronaut {args.size}x{args.size}, full batch (nan: not reached in its steps):")
    columns = ["model", "parameters", "steps", "ms_per_step", "final_db"]
    columns += [f"s_to_{db:g}db" for db in THRESHOLDS] + [f"speedup_{db:g}db" for db in THRESHOLDS]
    tables.append(print_table(rows, columns))
    return rows


def large_row(args, tables: list) -> dict:
    """The hash grid on a large astronaut, ``args.points`` random pixels a step."""
    image = inr.resize(inr.sample_image("astronaut"), (args.large, args.large))
    large = time_to_quality(
        image, "hash grid", tcnn_model(), HASH_OPTIMIZER, args.large_steps, args.points
    )
    large["model"] = f"hash grid, {args.large}x{args.large} sampled"
    large["size"] = args.large
    print(f"astronaut {args.large}x{args.large}, {args.points} random pixels a step:")
    columns = ["model", "size", "points", "steps", "ms_per_step", "final_db", "render_db"]
    tables.append(print_table([large], columns + [f"s_to_{db:g}db" for db in THRESHOLDS]))
    return large


def plot(rows: list, path: str, title: str) -> None:
    """PSNR against seconds, a curve per row, to a PNG."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for row in rows:
        ax.semilogx(row["curve"]["seconds"], row["curve"]["psnr"], label=row["model"])
    ax.set(xlabel="seconds", ylabel="PSNR (dB)", title=title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.savefig(path, dpi=120, bbox_inches="tight")


if __name__ == "__main__":
    main()

"""SIREN fitting speed: inr vs siren-pytorch vs the matmul floor, one process.

Fits a 256x256 grayscale image with full batches and the reference layer
shapes (2->256, three 256->256, 256->1).  Reports, for the same steps and
points:

* inr steps/s over siren-pytorch steps/s (torch with its default threads);
* inr step time over the *matmul floor*: the same run's time for the
  forward and backward matrix products alone (no activations, no optimiser);
* inr with the library ``jnp.sin`` instead of ``inr.fast_sin``;
* ``fit_images`` on 64 images of 32x32 against fitting them one by one.

Usage: python benchmarks/siren_fit.py [--steps 30] [--json PATH]
"""

from __future__ import annotations

import argparse
import time

import jax
import jax.numpy as jnp
import numpy as np
from _timing import RESULTS, best_time, best_times, print_table, torch_device, write_json

import inr

HIDDEN, LAYERS = 256, 3


def _image(size: int) -> np.ndarray:
    return inr.resize(inr.sample_image("camera"), (size, size), "bilinear")


def time_inr(img, steps, sin):
    model = inr.Siren(HIDDEN, LAYERS, 1, sin=sin)
    run = lambda: inr.fit_image(img, steps=steps, model=model)
    return best_time(run, repeats=2) / steps


def time_floor(n_points, steps):
    """Forward and backward matmuls of the same layer shapes, ``steps`` times."""
    dims = [2] + [HIDDEN] * (LAYERS + 1) + [1]
    keys = jax.random.split(jax.random.PRNGKey(0), len(dims))
    ws = [
        jax.random.normal(k, (a, b)) / np.sqrt(a)
        for k, a, b in zip(keys, dims[:-1], dims[1:], strict=False)
    ]
    x = jax.random.uniform(keys[-1], (n_points, 2))

    @jax.jit
    def products(ws, x):
        def step(ws, _):
            hs = [x]
            for w in ws:
                hs.append(hs[-1] @ w)
            g = hs[-1]
            grads = []
            for i in reversed(range(len(ws))):
                grads.append(hs[i].T @ g)
                if i:
                    g = g @ ws[i].T
            # Feed the gradients back so no step can be skipped or hoisted.
            return [w - 1e-9 * dw for w, dw in zip(ws, reversed(grads), strict=False)], None

        return jax.lax.scan(step, ws, None, length=steps)[0]

    run = lambda: jax.block_until_ready(products(ws, x))
    return best_time(run, repeats=2) / steps


def time_torch(img, steps):
    """siren-pytorch on the GPU JAX uses if torch sees one, else on the CPU.

    torch keeps its float32 matmul default (no TF32), so on a GPU it is
    compared with inr run under ``jax.default_matmul_precision("float32")``.
    """
    import torch
    from siren_pytorch import SirenNet

    device = torch_device()
    torch.manual_seed(0)
    net = SirenNet(dim_in=2, dim_hidden=HIDDEN, dim_out=1, num_layers=LAYERS + 1, w0=30.0)
    net = net.to(device)
    coords = torch.from_numpy(inr.grid(*img.shape).reshape(-1, 2)).to(device)
    target = torch.from_numpy(2.0 * img.reshape(-1, 1) - 1.0).to(device)
    opt = torch.optim.Adam(net.parameters(), lr=1e-4)

    def run():
        for _ in range(steps):
            opt.zero_grad(set_to_none=True)
            loss = ((net(coords) - target) ** 2).mean()
            loss.backward()
            opt.step()
        if device == "cuda":
            torch.cuda.synchronize()

    where = (
        torch.cuda.get_device_name() if device == "cuda" else f"{torch.get_num_threads()} threads"
    )
    return best_time(run, repeats=2) / steps, where


def precision_rows(img, steps):
    """Speed and quality of a ``steps``-step fit under each matmul precision.

    On a CPU every setting runs full float32, so this is for accelerators,
    where JAX's default lets float32 matmuls use TF32 (or bf16 passes).
    """
    rows = []
    for name in ("default", "float32", "tensorfloat32", "bfloat16"):
        pinned = None if name == "default" else name
        with jax.default_matmul_precision(pinned):
            res = inr.fit_image(img, steps=steps)  # also the compile and warm-up run
            t = best_time(lambda: inr.fit_image(img, steps=steps), repeats=2, warmup=0) / steps
        rows.append(
            {"matmul precision": name, "ms/step": t * 1e3, "PSNR": float(res.history["psnr"][-1])}
        )
    return rows


def camera_crops(n_images: int, size: int) -> np.ndarray:
    """``n_images`` random ``size``-square crops of the cameraman, (N, size, size)."""
    rng = np.random.default_rng(0)
    big = inr.sample_image("camera")
    corners = rng.integers(0, big.shape[0] - size, (n_images, 2))
    return np.stack([big[y : y + size, x : x + size] for y, x in corners])


def time_batch(n_images, size, steps, hidden, dtype=None):
    images = camera_crops(n_images, size)
    kw = dict(steps=steps, model=inr.Siren(hidden, dtype=dtype))
    # In turns; an accelerator's one-by-one time moves 20% from run to run.
    best = best_times(
        {
            "seq": lambda: [inr.fit_image(im, **kw) for im in images],
            "vmap": lambda: inr.fit_images(images, **kw),
        },
        repeats=1 if jax.default_backend() == "cpu" else 3,
    )
    return best["seq"], best["vmap"]


def parser() -> argparse.ArgumentParser:
    """The command line."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--steps", type=int, default=20, help="timed steps of the single fit")
    p.add_argument("--size", type=int, default=256, help="side of the fitted image")
    p.add_argument("--batch-steps", type=int, default=100, help="steps of the fit_images rows")
    p.add_argument("--precision-steps", type=int, default=500, help="accelerators only")
    p.add_argument("--json", default=str(RESULTS / "siren_fit.json"), help="where results go")
    return p


def main():
    args = parser().parse_args()
    t0 = time.perf_counter()
    img = _image(args.size)
    rows, fast, floor, torch_step = step_rows(img, args)
    table = print_table(rows, ["run", "ms/step", "x floor"])
    speedup = torch_step / fast
    print(
        f"inr steps/s over siren-pytorch: {speedup:.2f}x; inr step over matmul floor: "
        f"{fast / floor:.2f}x"
    )
    precision = []
    if jax.default_backend() != "cpu":
        precision = precision_rows(img, args.precision_steps)
        print(f"\nmatmul precision, {args.precision_steps} steps (JAX's default may use TF32)")
        print_table(precision, ["matmul precision", "ms/step", "PSNR"])
    batch_rows = many_fit_rows(args.batch_steps)
    print(f"\nfit_images, 64 images of 32x32, {args.batch_steps} steps")
    batch_table = print_table(
        batch_rows,
        ["hidden", "activations", "one by one (s)", "fit_images (s)", "per-image speedup"],
    )
    write_json(
        args.json,
        {
            "size": args.size,
            "steps": args.steps,
            "rows": rows,
            "speedup_over_siren_pytorch": speedup,
            "over_matmul_floor": fast / floor,
            "batch": batch_rows,
            "precision": precision,
            "table": table,
            "batch_table": batch_table,
            "elapsed_s": time.perf_counter() - t0,
        },
    )


def step_rows(img, args) -> tuple[list, float, float, float]:
    """inr's step (two sines) against the matmul floor and siren-pytorch, in seconds."""
    # On a GPU, JAX's default float32 matmuls may use TF32 while torch's do
    # not: pin full float32 so that the comparison is like for like.
    with jax.default_matmul_precision("float32"):
        floor = time_floor(img.size, args.steps)
        fast = time_inr(img, args.steps, inr.fast_sin)
        slow = time_inr(img, args.steps, jnp.sin)
    torch_step, where = time_torch(img, args.steps)
    rows = [
        {"run": "matmul floor (jax)", "ms/step": floor * 1e3, "x floor": 1.0},
        {"run": "inr.fit_image (fast_sin)", "ms/step": fast * 1e3, "x floor": fast / floor},
        {"run": "inr.fit_image (jnp.sin)", "ms/step": slow * 1e3, "x floor": slow / floor},
        {"run": f"siren-pytorch ({where})", "ms/step": torch_step * 1e3,
         "x floor": torch_step / floor},
    ]  # fmt: skip
    print(
        f"\nSIREN fit, {args.size}x{args.size} gray, {HIDDEN}x{LAYERS}, full batch, "
        f"{args.steps} steps, {jax.devices()[0].device_kind}"
    )
    return rows, fast, floor, torch_step


def many_fit_rows(steps: int) -> list:
    """fit_images against one fit_image per image, 64 crops of 32x32, by width."""
    rows = []
    # bfloat16 activations pay on accelerators only (a CPU step is bound by arithmetic).
    runs = [(16, None), (64, None), (256, None)]
    runs += [(256, jnp.bfloat16)] if jax.default_backend() != "cpu" else []
    for hidden, dtype in runs:
        t_seq, t_vmap = time_batch(64, 32, steps, hidden, dtype)
        rows.append(
            {
                "hidden": hidden,
                "activations": jnp.dtype(dtype or jnp.float32).name,
                "one by one (s)": t_seq,
                "fit_images (s)": t_vmap,
                "per-image speedup": t_seq / t_vmap,
            }
        )
    return rows


if __name__ == "__main__":
    main()

"""Sampler cost: inr.diffusion.sample beside bare denoiser calls, and stride speed-ups.

1. Overhead: a full stride-1 sample (100 steps) with a small MLP denoiser
   over many points, beside a ``lax.scan`` of the same 100 bare denoiser
   calls on the same inputs.  Goal: <= 1.05x.  Beside it, the cost of
   DDPM's noise draw alone: an identity denoiser sampled with DDPM's
   settings minus the same with DDIM's, as a share of the bare calls.
2. Stride: the same sampler over a 1024x1024 grid of points (one chain per
   pixel), stride 1 vs stride 8 vs quadratic.  Goal: stride 8 >= 6x faster.
3. The restorator: a ``--model-size`` render (1024 by default) of the
   default model, single pass vs diffusion stride 8 vs stride 1.  Timing
   does not depend on training, so ``--model default`` times an untrained
   default-size diffusion restorator; pass a trained file to use it.

Usage: python benchmarks/sampler.py [--points 262144] [--width 64] [--size 1024]
           [--model default] [--model-size 1024] [--json PATH]
"""

from __future__ import annotations

import argparse
import dataclasses

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
from _timing import RESULTS, best_time, best_times, print_table, write_json

import inr
from inr.diffusion import cosine_schedule, sample, visited_steps
from inr.render import DEFAULT_CHUNK, evaluate_chunked


class Denoiser(nn.Module):
    """A small point-wise MLP of (x_t, t): 3 + 1 -> width -> width -> 3."""

    width: int = 64

    @nn.compact
    def __call__(self, x, t):
        tt = jnp.broadcast_to(t.astype(x.dtype) / 100.0, x.shape[:-1] + (1,))
        h = jnp.concatenate([x, tt], axis=-1)
        h = nn.relu(nn.Dense(self.width)(h))
        h = nn.relu(nn.Dense(self.width)(h))
        return nn.Dense(3)(h)


def restorator_table(args):
    """Single pass vs diffusion stride 8 vs stride 1 for one render of the default model."""
    if args.model == "default":
        config = inr.RestoratorConfig(decoding="diffusion")
        shape = (1, config.input_size, config.input_size, config.in_channels)
        params = inr.restorator.RestoratorNet(config).init(
            jax.random.PRNGKey(0), jnp.zeros(shape), jnp.zeros((1, 1, 2)), jnp.ones((1, 2))
        )
        diffusion = inr.Restorator(params=params, config=config)
    else:
        diffusion = inr.load_restorator(args.model)
    single_cfg = dataclasses.replace(diffusion.config, decoding="single")
    shape = (1, single_cfg.input_size, single_cfg.input_size, single_cfg.in_channels)
    single = inr.Restorator(
        params=inr.restorator.RestoratorNet(single_cfg).init(
            jax.random.PRNGKey(0), jnp.zeros(shape), jnp.zeros((1, 1, 2)), jnp.ones((1, 2))
        ),
        config=single_cfg,
    )
    gray = np.random.default_rng(0).random(shape[1:3], np.float32)
    size = (args.model_size, args.model_size)
    runs = [("single pass", lambda: single.restore(gray, size=size), 1)]
    for stride in (8, 1):
        runs.append(
            (
                f"diffusion stride {stride}",
                lambda s=stride: diffusion.restore(
                    gray, size=size, sampler=inr.diffusion.SamplerConfig(stride=s)
                ),
                len(visited_steps(diffusion.config.num_steps, stride)),
            )
        )
    rows = []
    for name, fn, calls in runs:
        # On a CPU stride 1 runs once: compiling is a small part of its run
        # time.  On a GPU the render is short and compiling it is not, so
        # it is warmed up first.
        cold = calls > 50 and jax.default_backend() == "cpu"
        t = best_time(fn, repeats=1, warmup=0 if cold else 1)
        rows.append({"render": name, "decoder_calls": calls, "seconds": t})
    for row in rows:
        row["x_single_pass"] = row["seconds"] / rows[0]["seconds"]
    print(f"\n{size[0]}x{size[1]} restorator render ({jax.devices()[0].platform})")
    print_table(rows, ["render", "decoder_calls", "seconds", "x_single_pass"])
    return rows


def parser() -> argparse.ArgumentParser:
    """The command line."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--points", type=int, default=262144, help="chains in the overhead table")
    p.add_argument("--size", type=int, default=1024, help="side of the stride table's render")
    p.add_argument("--repeats", type=int, default=5, help="timings per row (the best is kept)")
    p.add_argument("--width", type=int, default=64, help="the toy denoiser's hidden width")
    p.add_argument("--model", default="default", help="'default', 'none' or a diffusion model")
    p.add_argument("--model-size", type=int, default=1024, help="side of the restorator's render")
    p.add_argument("--json", default=str(RESULTS / "sampler.json"), help="where results go")
    return p


def main():
    args = parser().parse_args()
    schedule = cosine_schedule(100)
    net = Denoiser(args.width)
    params = net.init(jax.random.PRNGKey(0), jnp.zeros((1, 3)), jnp.int32(0))
    denoise = lambda x, t: net.apply(params, x, t)
    overhead = overhead_rows(denoise, schedule, args)
    strides = stride_rows(denoise, schedule, args)
    models = restorator_table(args) if args.model != "none" else []
    write_json(
        args.json,
        {
            "points": args.points,
            "width": args.width,
            "size": args.size,
            "overhead": overhead,
            "strides": strides,
            "device": str(jax.devices()[0]),
            "restorator": models,
            "model": args.model,
            "model_size": args.model_size,
        },
    )
    return np.array([r["seconds"] for r in strides])


def overhead_rows(denoise, schedule, args) -> list:
    """The sampler's cost over 100 bare denoiser calls, and DDPM's draw alone."""
    x_T = jax.random.normal(jax.random.PRNGKey(1), (args.points, 3))
    key = jax.random.PRNGKey(2)
    full = jax.jit(lambda x: sample(denoise, x, key, schedule))
    ddim = jax.jit(lambda x: sample(denoise, x, key, schedule, stochasticity=0.0))

    @jax.jit
    def bare(x):
        def body(x, t):
            return denoise(x, t), None

        return jax.lax.scan(body, x, jnp.arange(99, -1, -1, dtype=jnp.int32))[0]

    # With an identity denoiser the two samples differ only by the draw.
    identity = lambda x, t: x
    draw = jax.jit(lambda x: sample(identity, x, key, schedule))
    no_draw = jax.jit(lambda x: sample(identity, x, key, schedule, stochasticity=0.0))

    # In turns, so that all see the same spells of load on a shared machine.
    calls = {"bare": bare, "ddpm": full, "ddim": ddim, "draw": draw, "no_draw": no_draw}
    times = best_times(
        {name: lambda f=f: f(x_T).block_until_ready() for name, f in calls.items()},
        args.repeats,
    )
    t_bare = times["bare"]
    overhead = [
        {"what": "100 bare denoiser calls (scan)", "seconds": t_bare},
        {"what": "sample, stride 1 (DDPM)", "seconds": times["ddpm"]},
        {"what": "sample, stride 1 (DDIM)", "seconds": times["ddim"]},
        {"what": "DDPM's draw alone (identity denoiser, DDPM - DDIM)",
         "seconds": times["draw"] - times["no_draw"]},
    ]  # fmt: skip
    for row in overhead:
        row["x_bare"] = row["seconds"] / t_bare
    w = args.width
    print(f"\nsampler overhead, {args.points} points, MLP 3+1 -> {w} -> {w} -> 3")
    print_table(overhead, ["what", "seconds", "x_bare"])
    return overhead


def stride_rows(denoise, schedule, args) -> list:
    """A deterministic render, one chain per pixel, at strides 1, 8 and quadratic."""
    key = jax.random.PRNGKey(2)
    points = jnp.asarray(inr.grid(args.size, args.size).reshape(-1, 2))
    render_x = jax.random.normal(jax.random.PRNGKey(3), (points.shape[0], 3))
    strides = []
    for stride in (1, 8, "quadratic"):

        @jax.jit
        def render(x, stride=stride):
            def chunk(xc):
                return sample(denoise, xc, key, schedule, stride=stride, stochasticity=0.0)

            return evaluate_chunked(chunk, x, DEFAULT_CHUNK)

        t = best_time(lambda r=render: r(render_x).block_until_ready(), args.repeats)
        strides.append(
            {"stride": str(stride), "calls": len(visited_steps(100, stride)), "seconds": t}
        )
    for row in strides:
        row["speedup_vs_stride_1"] = strides[0]["seconds"] / row["seconds"]
    print(f"\n{args.size}x{args.size} render, one chain per pixel, deterministic DDIM")
    print_table(strides, ["stride", "calls", "seconds", "speedup_vs_stride_1"])
    return strides


if __name__ == "__main__":
    main()

"""Decoder rendering speed: a 1024x1024 render beside the matmul floor of the same decoder.

The floor is the decoder's dense layers alone (the same weight shapes and
point count, chained matrix products under the same chunking, the first
layer's input tiled from the coordinates inside each chunk), measured in
the same process; the render adds the encoder, feature sampling,
positional encoding, bicubic base and colour conversion.  Goal: the render
within 1.5x of the floor.

Usage: python benchmarks/decode.py [--size 1024] [--model pretrained:restore] [--json PATH]
"""

from __future__ import annotations

import argparse

import jax
import jax.numpy as jnp
import numpy as np
from _timing import RESULTS, best_time, print_table, write_json

import inr
from inr.render import DEFAULT_CHUNK, evaluate_chunked


def point_kernels(params, config) -> list[jax.Array]:
    """The decoder's per-point kernels in order; FiLM's (latent -> 2 hidden) act per image."""
    dec = params["params"]["decoder"]
    names = sorted(dec, key=lambda k: int(k.split("_")[-1]))
    film = (config.latent, 2 * config.hidden)
    return [dec[k]["kernel"] for k in names if tuple(dec[k]["kernel"].shape) != film]


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--size", type=int, default=1024, help="side of the render")
    p.add_argument("--model", default="pretrained:restore", help="the restorator rendered")
    p.add_argument("--repeats", type=int, default=3, help="timings per row (the best is kept)")
    p.add_argument("--json", default=str(RESULTS / "decode.json"), help="where the results go")
    args = p.parse_args()

    model = inr.load_restorator(args.model)
    cfg = model.config
    n = args.size * args.size
    image = np.random.default_rng(0).random(
        (cfg.input_size, cfg.input_size) + ((3,) if cfg.in_channels == 3 else ()), np.float32
    )

    render = lambda: model.restore(image, size=(args.size, args.size))
    t_render = best_time(render, args.repeats)

    kernels = point_kernels(model.params, cfg)
    d_in = kernels[0].shape[0]
    points = jnp.asarray(inr.grid(args.size, args.size).reshape(-1, 2))

    @jax.jit
    def floor(x):
        def chain(p):
            # The first layer's input is built per chunk, as the render builds it.
            h = jnp.tile(p, (1, -(-d_in // 2)))[:, :d_in]
            for k in kernels:
                h = h @ k
            return h

        return evaluate_chunked(chain, x, DEFAULT_CHUNK)

    t_floor = best_time(lambda: floor(points).block_until_ready(), args.repeats)
    flops = 2 * n * sum(int(k.shape[0] * k.shape[1]) for k in kernels)
    rows = [
        {
            "what": "matmul floor",
            "seconds": t_floor,
            "Mpoints_per_s": n / t_floor / 1e6,
            "GFLOP_per_s": flops / t_floor / 1e9,
            "x_floor": 1.0,
        },
        {
            "what": f"restore {args.size}x{args.size}",
            "seconds": t_render,
            "Mpoints_per_s": n / t_render / 1e6,
            "GFLOP_per_s": flops / t_render / 1e9,
            "x_floor": t_render / t_floor,
        },
    ]
    print_table(rows, ["what", "seconds", "Mpoints_per_s", "GFLOP_per_s", "x_floor"])
    write_json(
        args.json,
        {
            "model": args.model,
            "size": args.size,
            "config": cfg.to_json(),
            "kernel_shapes": [list(k.shape) for k in kernels],
            "rows": rows,
        },
    )


if __name__ == "__main__":
    main()

"""Restorator training throughput: the real input pipelines against the compute bound.

For each model preset and task, four loops of the same jitted training
step: fed one constant device-resident batch (the compute bound), fed by the
device pipeline (:mod:`inr.restorator.batches`, batches built inside ``jit``),
by the same pipeline building 8 steps' batches per call
(``batch_maker(..., block=8)``, the step indexing its batch out of the
stack; on an accelerator a batch's many small kernels then launch once per
8 steps) and by the host pipeline (the same draw computed by the host's
CPU on a background thread); each loop runs ``--rounds`` times in turns and keeps
its best rate, so that all see the same spells of load.  Goal: the
real pipeline >= 0.9x the bound.  Also the parameter count, the encoder's
FLOPs per input pixel and the decoder's per output pixel (XLA's cost
analysis of one encode and one decode), which with the steps/s say what
capacity costs.

Usage: python benchmarks/train_throughput.py [--data FOLDER ...] [--steps 4] [--rounds 3]
       [--json PATH]
"""

from __future__ import annotations

import argparse
import functools
import time
from pathlib import Path

import jax
import jax.numpy as jnp
from _timing import RESULTS, machine, print_table, write_json

import inr
from inr.distributed import as_mesh
from inr.restorator.batches import Prefetcher, batch_maker
from inr.restorator.data import load_images
from inr.restorator.model import RestoratorNet
from inr.restorator.step import init_state, train_step

_SAMPLES = ("astronaut", "coffee", "chelsea", "rocket")
BLOCK = 8  # batches per call of the blocked device pipeline


def _steps_per_second(step_fn, state, batches, steps: int) -> float:
    """Steps/s of ``steps`` steps after two warm-up steps (compiled, pipeline filled)."""
    it = iter(batches)
    for _ in range(2):
        state, loss = step_fn(state, next(it)[1])
    jax.block_until_ready(loss)
    t0 = time.perf_counter()
    for _ in range(steps):
        state, loss = step_fn(state, next(it)[1])
    jax.block_until_ready(loss)
    return steps / (time.perf_counter() - t0)


def _best_rates(loops: dict, rounds: int) -> dict:
    """The best steps/s of each loop over ``rounds``, run in turns (as ``best_times``)."""
    best = dict.fromkeys(loops, 0.0)
    for _ in range(rounds):
        for name, loop in loops.items():
            best[name] = max(best[name], loop())
    return best


def _flops(fn, *args) -> float:
    cost = jax.jit(fn).lower(*args).compile().cost_analysis()
    return float((cost[0] if isinstance(cost, list) else cost)["flops"])


def model_flops(config: inr.RestoratorConfig, params, points: int = 4096) -> tuple[float, float]:
    """FLOPs per input pixel of one encode and per output pixel of one decode, from XLA."""
    net = RestoratorNet(config)
    n, c = config.input_size, config.in_channels
    image = jnp.zeros((1, n, n, c))
    encode = functools.partial(net.apply, method=RestoratorNet.encode)
    maps, latent = encode(params, image)
    decode = functools.partial(net.apply, method=RestoratorNet.decode)
    args = (params, maps, latent, image, jnp.zeros((1, points, 2)), jnp.ones((1, 2)))
    return _flops(encode, params, image) / n**2, _flops(decode, *args) / points


def measure(images, preset: str, task: str, train: inr.TrainConfig, steps: int, rounds: int):
    config = inr.RestoratorConfig.preset(preset, task=task)
    net = RestoratorNet(config)
    tx = train.make_optimizer()
    mesh = as_mesh(None)
    examples = train.examples.for_model(config)
    state = init_state(net, tx, jax.random.PRNGKey(0), examples.points_per_image)
    step_fn = jax.jit(functools.partial(train_step, net, tx, train.loss, 0), donate_argnums=0)
    rows = train.batch_size
    device = batch_maker(images, examples, rows, mesh, seed=0)
    host = batch_maker(images, examples, rows, mesh, seed=0, pipeline="host")
    constant = device(0)
    blocks = batch_maker(images, examples, rows, mesh, seed=0, block=BLOCK)
    step = functools.partial(train_step, net, tx, train.loss, 0)
    block_step = jax.jit(
        lambda state, stack, j: step(state, jax.tree.map(lambda a: a[j], stack)), donate_argnums=0
    )

    def block_batches():
        for s in range(steps + 2):
            if s % BLOCK == 0:
                stack = blocks(s // BLOCK)
            yield s, (stack, s % BLOCK)

    def fresh():  # the step donates its state
        return jax.tree.map(jnp.copy, state)

    def host_loop():
        with Prefetcher(host, 0, steps + 2) as batches:
            return _steps_per_second(step_fn, fresh(), batches, steps)

    rates = _best_rates(
        {
            "bound": lambda: _steps_per_second(
                step_fn, fresh(), ((s, constant) for s in range(steps + 2)), steps
            ),
            "device": lambda: _steps_per_second(
                step_fn, fresh(), ((s, device(s)) for s in range(steps + 2)), steps
            ),
            "device_block": lambda: _steps_per_second(
                lambda state, b: block_step(state, *b), fresh(), block_batches(), steps
            ),
            "host": host_loop,
        },
        rounds,
    )
    bound, on_device, on_host = rates["bound"], rates["device"], rates["host"]
    blocked = rates["device_block"]
    params = state["params"]
    encoder, decoder = model_flops(config, params)
    return {
        "preset": preset,
        "task": task,
        "parameters": sum(x.size for x in jax.tree.leaves(params)),
        "encoder_flops_per_input_pixel": encoder,
        "decoder_flops_per_pixel": decoder,
        "bound_steps_s": bound,
        "device_steps_s": on_device,
        "host_steps_s": on_host,
        f"device_x{BLOCK}_steps_s": blocked,
        "device_vs_bound": on_device / bound,
        f"device_x{BLOCK}_vs_bound": blocked / bound,
        "host_vs_bound": on_host / bound,
        "device_vs_host": on_device / on_host,
    }


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", nargs="*", help="training folders (default: built-in samples)")
    p.add_argument(
        "--presets", nargs="*", default=["small", "base", "deep"], help="restorator sizes"
    )
    p.add_argument("--tasks", nargs="*", default=["upscale", "restore"], help="restorator tasks")
    p.add_argument("--batch-size", type=int, default=16, help="images per step")
    p.add_argument("--points", type=int, default=1024, help="query points per image")
    p.add_argument("--steps", type=int, default=4, help="timed steps per loop")
    p.add_argument("--rounds", type=int, default=3, help="loops of each kind, in turns")
    p.add_argument(
        "--json", default=str(RESULTS / "train_throughput.json"), help="where the results go"
    )
    args = p.parse_args()

    source = [Path(d) for d in args.data] if args.data else [inr.sample_image(n) for n in _SAMPLES]
    images = load_images(source)
    examples = inr.restorator.Examples(points_per_image=args.points)
    train = inr.TrainConfig(examples, batch_size=args.batch_size)
    print(f"{len(images)} images; {machine()['jax_device']}", flush=True)
    rows = [
        measure(images, preset, task, train, args.steps, args.rounds)
        for preset in args.presets
        for task in args.tasks
    ]
    columns = ["preset", "task", "parameters", "encoder_flops_per_input_pixel"]
    columns += ["decoder_flops_per_pixel", "bound_steps_s"]
    columns += ["device_steps_s", f"device_x{BLOCK}_steps_s", "host_steps_s", "device_vs_bound"]
    columns += [f"device_x{BLOCK}_vs_bound", "host_vs_bound"]
    table = print_table(rows, columns)
    data = [str(d) for d in args.data or _SAMPLES]
    write_json(args.json, {"data": data, "train": train.record(), "rows": rows, "table": table})


if __name__ == "__main__":
    main()

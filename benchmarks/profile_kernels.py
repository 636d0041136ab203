"""Where an accelerator's time goes: device kernels of one traced call, summed by name.

Not a peer comparison: a profiling aid behind docs/performance.md.
It warms the call up, traces one more (``jax.profiler`` with a Perfetto
trace), and prints the wall time beside the summed device-kernel time, then
the kernels by total time.  A wall time well above the kernel time means the
host is the bottleneck (that is how the decoder's host-side grid showed up).

Usage: python benchmarks/profile_kernels.py WHAT [--trace-dir DIR]
  WHAT: fit_images, fit_images_bf16, decode, hash_grid, hash_grid_pallas
"""

from __future__ import annotations

import argparse
import collections
import gzip
import json
import tempfile
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from hash_grid import sample_step, tcnn_model
from siren_fit import camera_crops

import inr


def fit_images_call(steps: int = 20, dtype=None):
    """The benchmark's batched fit: 64 crops of 32x32, width 256."""
    images = camera_crops(64, 32)
    return lambda: inr.fit_images(images, model=inr.Siren(dtype=dtype), steps=steps), steps


def fit_images_bf16_call(steps: int = 20):
    """:func:`fit_images_call` with bfloat16 activations."""
    return fit_images_call(steps, jnp.bfloat16)


def decode_call(size: int = 1024):
    """``pretrained:restore`` rendering ``size`` squared."""
    model = inr.load_restorator("pretrained:restore")
    n = model.config.input_size
    image = np.random.default_rng(0).random((n, n), np.float32)
    return lambda: model.restore(image, size=(size, size)), 1


def hash_grid_call(steps: int = 20, implementation: str = "xla"):
    """tiny-cuda-nn's image sample step (see hash_grid.py), ``steps`` times."""
    step, (params, state, xy, rgb) = sample_step(tcnn_model(implementation=implementation), 2**18)

    def call():
        carry = (params, state)
        for _ in range(steps):
            carry = step(*carry, xy, rgb)[:2]
        return jax.block_until_ready(carry)

    return call, steps


def hash_grid_pallas_call(steps: int = 20):
    """:func:`hash_grid_call` with the encoding's Pallas kernels."""
    return hash_grid_call(steps, "pallas")


CALLS = {
    "fit_images": fit_images_call,
    "fit_images_bf16": fit_images_bf16_call,
    "decode": decode_call,
    "hash_grid": hash_grid_call,
    "hash_grid_pallas": hash_grid_pallas_call,
}


def kernel_totals(trace_file: Path) -> tuple[collections.Counter, collections.Counter]:
    """Microseconds and launch counts per kernel name on the device tracks."""
    events = json.load(gzip.open(trace_file))
    events = events["traceEvents"] if isinstance(events, dict) else events
    names = {
        e["pid"]: e["args"]["name"]
        for e in events
        if e.get("ph") == "M" and e.get("name") == "process_name"
    }
    device = {pid for pid, name in names.items() if "/device:" in name}
    total, count = collections.Counter(), collections.Counter()
    for e in events:
        if e.get("ph") == "X" and e["pid"] in device:
            total[e["name"]] += e["dur"]
            count[e["name"]] += 1
    return total, count


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("what", choices=sorted(CALLS), help="the call to profile")
    p.add_argument("--trace-dir", default=None, help="keep the trace here (default: a temp dir)")
    p.add_argument("--top", type=int, default=25, help="ops listed, by time")
    args = p.parse_args()

    call, per = CALLS[args.what]()
    for _ in range(2):
        call()
    t0 = time.perf_counter()
    call()
    wall = time.perf_counter() - t0
    trace_dir = Path(args.trace_dir or tempfile.mkdtemp(prefix="inr_trace_"))
    jax.profiler.start_trace(str(trace_dir), create_perfetto_trace=True)
    call()
    jax.profiler.stop_trace()
    trace_file = next(trace_dir.rglob("perfetto_trace.json.gz"))
    total, count = kernel_totals(trace_file)
    print(f"{args.what} on {jax.devices()[0].device_kind}; trace: {trace_file}")
    print(f"wall {wall * 1e3:.2f} ms, device kernels {sum(total.values()) / 1e3:.2f} ms")
    unit = "step" if per > 1 else "call"
    for name, us in total.most_common(args.top):
        print(f"{us / per:10.1f} us/{unit}  x{count[name] // per:<4d} {name[:100]}")


if __name__ == "__main__":
    main()

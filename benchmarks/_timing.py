"""Shared helpers for the benchmarks: timing, machine description, output.

Every benchmark runs ``inr`` and its peer in one process on the same inputs
and reports ratios; absolute times are kept in the JSON for reference.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path


def best_time(fn: Callable[[], object], repeats: int = 3, warmup: int = 1) -> float:
    """Minimum wall time of ``fn()`` over ``repeats`` runs, after ``warmup`` runs.

    ``fn`` must block until its work is done (``block_until_ready`` for JAX).
    The minimum is the least noisy estimate of the cost on a shared machine.
    """
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def best_times(
    fns: dict[str, Callable[[], object]], repeats: int = 5, warmup: int = 1
) -> dict[str, float]:
    """:func:`best_time` for several functions, run in turns.

    Round-robin order means every function sees the same spells of load on
    a shared machine, so the ratios between them are steadier than those of
    separate :func:`best_time` calls, which a busy neighbour can skew by
    tens of percent.
    """
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(repeats):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - t0)
    return best


REFERENCE_SIREN_MS = 263.0
"""The SIREN step of the host the goals are stated on, in ms (the paper's 256 x 3 on a
256x256 image, full batch, Adam): hosts differ up to 3x, so figures scale by it."""


def siren_step_ms(steps: int = 10) -> float:
    """This host's SIREN step (as :data:`REFERENCE_SIREN_MS` is measured), warm, in ms."""
    import inr

    image = inr.resize(inr.sample_image("camera"), (256, 256), "bilinear")
    inr.fit_image(image, steps=2)  # compiles: the timed call reuses its program
    start = time.perf_counter()
    inr.fit_image(image, steps=steps)
    return 1e3 * (time.perf_counter() - start) / steps


def host() -> dict:
    """This host's SIREN step and how much slower it is than the reference host's."""
    ms = siren_step_ms()
    return {"siren step ms": ms, "reference siren step ms": REFERENCE_SIREN_MS,
            "slower than reference": ms / REFERENCE_SIREN_MS}  # fmt: skip


@contextlib.contextmanager
def compilations():
    """``with compilations() as n``: ``n[0]`` programs lowered (compiled) inside the block."""
    from jax._src import dispatch, monitoring

    count = [0]

    def listener(event, duration, **kw):
        count[0] += event == dispatch.JAXPR_TO_MLIR_MODULE_EVENT

    monitoring.register_event_duration_secs_listener(listener)
    try:
        yield count
    finally:
        monitoring.unregister_event_duration_listener(listener)


def torch_device() -> str:
    """Where a torch peer runs: the GPU JAX uses if torch sees one, else the CPU."""
    import jax
    import torch

    return "cuda" if jax.default_backend() == "gpu" and torch.cuda.is_available() else "cpu"


def machine() -> dict:
    """What the figures were measured on."""
    import jax

    dev = jax.devices()[0]
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "jax": jax.__version__,
        "jax_device": f"{dev.platform}:{getattr(dev, 'device_kind', '')}",
    }


def print_table(rows: list[dict], columns: list[str]) -> str:
    """A Markdown table of ``rows`` (dicts) over ``columns``; printed and returned."""

    def fmt(v):
        return f"{v:.4g}" if isinstance(v, float) else str(v)

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(fmt(r.get(c, "")) for c in columns) + " |" for r in rows]
    text = "\n".join(lines)
    print(text, flush=True)
    return text


RESULTS = Path(__file__).resolve().parent / "results"


def write_json(path: str | os.PathLike, payload: dict) -> Path:
    """Write ``payload`` plus the machine description as JSON; return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"machine": machine(), **payload}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(payload, indent=2, default=float))
    tmp.replace(path)
    print(f"wrote {path}", flush=True)
    return path

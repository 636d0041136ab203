"""Where each test's time goes: tracing, lowering, XLA's backend, the rest.

A pytest plugin for measuring the suite, not a check::

    INR_PHASES=/tmp/phases .venv/bin/python -m pytest -q -n auto --dist loadfile -p tests._phases
    .venv/bin/python -m tests._phases /tmp/phases

JAX reports each phase's seconds through :mod:`jax.monitoring`; each worker
adds them up per test and writes ``<worker>.json`` into ``INR_PHASES``; the
summary prints the totals and the tests that take longest.  Subprocesses
(the multi-device batteries, the benchmarks' toy runs) count as "rest".
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import pytest
from jax._src import dispatch, monitoring  # the events' names, as tests/_compiles.py

PHASES = {
    dispatch.JAXPR_TRACE_EVENT: "trace",
    dispatch.JAXPR_TO_MLIR_MODULE_EVENT: "lower",
    dispatch.BACKEND_COMPILE_EVENT: "backend",
}
_seconds = dict.fromkeys(PHASES.values(), 0.0)
_tests: dict[str, dict[str, float]] = {}


def _listen(event: str, duration: float, **_) -> None:
    if event in PHASES:
        _seconds[PHASES[event]] += duration


def pytest_configure(config):
    monitoring.register_event_duration_secs_listener(_listen)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    before, began = dict(_seconds), time.perf_counter()
    yield
    row = {phase: _seconds[phase] - before[phase] for phase in _seconds}
    row["rest"] = time.perf_counter() - began - sum(row.values())
    _tests[item.nodeid] = row


def pytest_sessionfinish(session):
    folder = os.environ.get("INR_PHASES")
    if folder and _tests:
        Path(folder).mkdir(parents=True, exist_ok=True)
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        (Path(folder) / f"{worker}.json").write_text(json.dumps(_tests))


def summary(folder: str, top: int = 30) -> None:
    tests = {}
    for path in Path(folder).glob("*.json"):
        tests.update(json.loads(path.read_text()))
    columns = [*PHASES.values(), "rest"]
    totals = {c: sum(row[c] for row in tests.values()) for c in columns}
    print(f"{len(tests)} tests, {sum(totals.values()):.0f} s:",
          ", ".join(f"{c} {s:.0f} s" for c, s in totals.items()))  # fmt: skip
    print(" ".join(f"{c:>7}" for c in ["total", *columns]), " test")
    for name, row in sorted(tests.items(), key=lambda kv: -sum(kv[1].values()))[:top]:
        print(" ".join(f"{v:7.1f}" for v in [sum(row.values()), *row.values()]), "", name)


if __name__ == "__main__":
    summary(*sys.argv[1:2])

"""Progress of a long run: one interface for every fit, meta-training and training run.

Every ``progress=`` argument of the library takes:

* ``False`` or ``None``: silent;
* ``True``: a :class:`TextProgress`, lines on standard output at a sensible
  rate (the first report, then at most one every few seconds, and the
  last), each with the step, every metric the run reports and the time;
* a callable ``progress(step, total, metrics)``: called at every report
  with the steps done, the steps in all and ``{name: float}`` (the last
  step's metrics, averaged over a batch of fits).

A fit reports after each compiled chunk of steps (:data:`inr.loop.REPORT_EVERY`),
so progress costs one transfer of a few numbers per chunk and nothing
inside the compiled loop.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

__all__ = ["Progress", "TextProgress", "as_progress", "format_metrics"]

Progress = Callable[[int, int, dict], None]


def format_metrics(metrics: dict) -> str:
    """``"loss 1.234e-03  psnr 35.12 dB"``: every metric, PSNRs in dB."""
    parts = []
    for name, value in metrics.items():
        if "psnr" in name:
            parts.append(f"{name} {value:6.2f} dB")
        else:
            parts.append(f"{name} {value:.4g}")
    return "  ".join(parts)


class TextProgress:
    """Prints ``step N/total  metrics  elapsed, eta`` lines, at most one every ``every_s`` seconds.

    The first and the last report always print.  ``stream`` is where the
    lines go (standard output by default).
    """

    def __init__(self, every_s: float = 5.0, stream=None):
        self.every_s, self.stream = every_s, stream
        self.began, self.printed = time.perf_counter(), None

    def __call__(self, step: int, total: int, metrics: dict) -> None:
        now = time.perf_counter()
        due = self.printed is None or now - self.printed >= self.every_s or step >= total
        if not due:
            return
        self.printed = now
        elapsed = now - self.began
        eta = f", eta {elapsed / max(step, 1) * (total - step):.0f} s" if step < total else ""
        line = f"step {step:>6}/{total}  {format_metrics(metrics)}  ({elapsed:.0f} s{eta})"
        print(line, file=self.stream or sys.stdout, flush=True)


def as_progress(progress) -> Progress | None:
    """The reporter of a ``progress=`` argument (see the module), or ``None``."""
    if progress is None or progress is False:
        return None
    if progress is True:
        return TextProgress()
    if callable(progress):
        return progress
    raise ValueError(
        f"progress must be True, False or a callable (step, total, metrics); got {progress!r}"
    )

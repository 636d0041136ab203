"""XLA flags for the suite's subprocesses."""

import os
import re


def compiling_flags(extra: str = "") -> str:
    """This process's ``XLA_FLAGS`` at LLVM's optimisation level 0, then ``extra``.

    For a subprocess whose time is compiling small programs rather than
    running them (a toy run, a battery of small fits): level 0 compiles
    faster even where the slow tier asks this process for 3, and it changes
    no floating-point semantics (tests/conftest.py).
    """
    flags = re.sub(r"--xla_backend_optimization_level=\d+", "", os.environ.get("XLA_FLAGS", ""))
    return " ".join(f"{flags} --xla_backend_optimization_level=0 {extra}".split())


def compiling_env(extra: str = "", **variables: str) -> dict[str, str]:
    """This process's environment for such a subprocess: :func:`compiling_flags`, ``variables``."""
    return {**os.environ, "XLA_FLAGS": compiling_flags(extra), **variables}

"""Optional dependencies: imported on first use, with the extra that installs them."""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["require"]


def require(module: str, extra: str) -> ModuleType:
    """``import module``, or an ``ImportError`` naming ``pip install 'inr[extra]'``."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise ImportError(f"this needs {module!r}: pip install 'inr[{extra}]'") from None

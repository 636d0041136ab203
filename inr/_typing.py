"""Shape-annotated array hints without a runtime dependency.

``F32["n 2"]`` is ``Annotated[jax.Array, "n 2"]``: documentation for readers
and IDEs, checked where it matters by ``inr._validate`` at the boundary.
"""

from __future__ import annotations

from typing import Annotated

import jax

Array = jax.Array


class _Shaped:
    def __getitem__(self, spec: str):
        return Annotated[jax.Array, spec]


F32 = _Shaped()

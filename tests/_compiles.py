"""Counting what JAX compiles: the check that a second call reuses the first one's programs.

Every new program, jitted or an eager operation on new shapes, is lowered
to MLIR once (whether or not a persistent cache then spares XLA the
work), so the lowerings counted while a call runs are the programs it
needed that no earlier call had.
"""

from __future__ import annotations

import contextlib

from jax._src import dispatch, monitoring

_LOWERED = dispatch.JAXPR_TO_MLIR_MODULE_EVENT


@contextlib.contextmanager
def compilations():
    """``with compilations() as n: ...``: ``n[0]`` is how many programs the block lowered."""
    count = [0]

    def listener(event, duration, **kw):
        del duration, kw
        if event == _LOWERED:
            count[0] += 1

    monitoring.register_event_duration_secs_listener(listener)
    try:
        yield count
    finally:
        monitoring.unregister_event_duration_listener(listener)

"""Training checkpoints with orbax: atomic, the last ``keep`` kept, resumable.

A checkpoint holds the train state ``{"params", "opt_state", "step"}`` and a
JSON ``meta`` record (the model config and every setting that fixes the data
stream).  Batches are a function of ``(seed, step)`` (see
:mod:`inr.restorator.data`) and the model has no other randomness, so
``step`` is the data and RNG position: a run resumed from step ``k`` goes on
exactly as the uninterrupted run would.  Orbax writes each checkpoint to a
temporary folder and renames it when complete, so a run killed mid-save
leaves the previous checkpoint as the latest.
"""

from __future__ import annotations

from pathlib import Path

import jax
import orbax.checkpoint as ocp

from inr.distributed import make_mesh, replicated

__all__ = ["open_manager", "restore", "save"]


def open_manager(directory, keep: int = 3) -> ocp.CheckpointManager:
    """A synchronous orbax ``CheckpointManager`` keeping the last ``keep`` steps."""
    options = ocp.CheckpointManagerOptions(
        max_to_keep=keep, enable_async_checkpointing=False, create=True
    )
    handlers = {"state": ocp.StandardCheckpointHandler(), "meta": ocp.JsonCheckpointHandler()}
    return ocp.CheckpointManager(
        Path(directory).absolute(), options=options, item_handlers=handlers
    )


def save(manager: ocp.CheckpointManager, state: dict, meta: dict) -> None:
    """Save ``state`` at ``int(state["step"])`` with its ``meta``; returns when durable."""
    args = ocp.args.Composite(state=ocp.args.StandardSave(state), meta=ocp.args.JsonSave(meta))
    manager.save(int(state["step"]), args=args, force=True)
    manager.wait_until_finished()


def restore(manager: ocp.CheckpointManager, abstract_state=None) -> tuple[dict, dict] | None:
    """``(state, meta)`` of the latest checkpoint, or ``None`` if there is none.

    ``abstract_state`` (a pytree like the state, e.g. the freshly initialised
    one placed on the current mesh) gives the structure, with optax's named
    tuples, and the sharding of every leaf: a checkpoint restores onto any
    mesh.  Without it the state is nested dicts replicated on every device.
    """
    step = manager.latest_step()
    if step is None:
        return None
    if abstract_state is None:
        # The devices that saved it may not exist here: place it on these.
        everywhere = replicated(make_mesh())
        saved = manager.item_metadata(step)["state"]
        abstract_state = jax.tree.map(
            lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=everywhere), saved
        )
    args = ocp.args.Composite(
        state=ocp.args.StandardRestore(abstract_state), meta=ocp.args.JsonRestore()
    )
    restored = manager.restore(step, args=args)
    return restored["state"], restored["meta"]

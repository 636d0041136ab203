"""Training checkpoints with orbax, and the metrics log beside them.

Every training run of the library (restorators, meta-learned
initialisations) saves the same way.  A checkpoint holds the train state
(a pytree with a ``"step"`` leaf) and a JSON ``meta`` record (the model
config and every setting that fixes the data stream).  Batches are a
function of ``(seed, step)`` and the models have no other randomness, so
``step`` is the data and RNG position: a run resumed from step ``k`` goes on
exactly as the uninterrupted run would.  Orbax writes each checkpoint to a
temporary folder and renames it when complete, so a run killed mid-save
leaves the previous checkpoint as the latest.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax
import orbax.checkpoint as ocp

from inr._validate import as_positive_int
from inr.distributed import make_mesh, replicated

__all__ = [
    "Checkpoints",
    "FitDiverged",
    "MetricsLog",
    "as_checkpoints",
    "check_finite",
    "differences",
    "fingerprint",
    "open_manager",
    "optimizer_probe",
    "restore",
    "resume",
    "save",
]


def fingerprint(params) -> str:
    """A digest of ``params``' (host) values: which weights a run started from."""
    digest = hashlib.sha256()
    for leaf in jax.tree.leaves(params):
        digest.update(np.ascontiguousarray(leaf, np.float32).tobytes())
    return digest.hexdigest()[:16]


@dataclasses.dataclass(frozen=True)
class Checkpoints:
    """Where and how often a run saves (orbax; atomic; the last ``keep`` kept).

    Attributes:
      directory: the run's folder: checkpoints and ``metrics.jsonl``.
      save_every: steps between checkpoints (and one at the end).
      keep: how many of the latest checkpoints to keep.
      resume: continue from the folder's latest checkpoint.  With ``False``
        a folder that holds checkpoints is an error: they are never
        overwritten.
    """

    directory: str | Path
    save_every: int = 500
    keep: int = 3
    resume: bool = True

    def __post_init__(self):
        if not isinstance(self.directory, (str, Path)) or not str(self.directory):
            raise ValueError(f"directory must be a folder path; got {self.directory!r}")
        object.__setattr__(self, "directory", Path(self.directory))
        as_positive_int(self.save_every, "save_every")
        as_positive_int(self.keep, "keep")


def as_checkpoints(checkpoints) -> Checkpoints | None:
    """``None``, a folder path, or a :class:`Checkpoints`."""
    if checkpoints is None or isinstance(checkpoints, Checkpoints):
        return checkpoints
    if isinstance(checkpoints, (str, Path)):
        return Checkpoints(checkpoints)
    raise ValueError(f"checkpoints must be None, a folder or Checkpoints; got {checkpoints!r}")


class MetricsLog:
    """``metrics.jsonl``: one JSON record per line; on resume, lines past ``start`` are dropped.

    ``last`` is the last record kept (``{}`` for none): where a resumed run's
    clocks and counters go on from.
    """

    def __init__(self, path: Path | None, start: int):
        self.path, self.last = path, {}
        if path is None or not path.exists():
            return
        kept = [line for line in path.read_text().splitlines() if line.strip()]
        kept = [line for line in kept if json.loads(line).get("step", 0) <= start]
        self.last = json.loads(kept[-1]) if kept else {}
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text("".join(line + "\n" for line in kept))
        os.replace(tmp, path)

    def write(self, record: dict) -> None:
        if self.path is not None:
            with open(self.path, "a") as f:
                f.write(json.dumps(record) + "\n")


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
    mesh.  Without it, or for its top-level entries that are ``None`` (a
    history whose length the checkpoint knows), the checkpoint's own
    structure is restored as nested dicts replicated on every device.
    """
    step = manager.latest_step()
    if step is None:
        return None
    # The devices that saved it may not exist here: place it on these.
    everywhere = replicated(make_mesh())
    saved = manager.item_metadata(step)["state"]
    as_saved = lambda tree: jax.tree.map(  # noqa: E731
        lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=everywhere), tree
    )
    if abstract_state is None:
        abstract_state = as_saved(saved)
    elif isinstance(abstract_state, dict):
        abstract_state = {k: as_saved(saved[k]) if v is None else v
                          for k, v in abstract_state.items()}  # fmt: skip
    # Nodes without leaves (optax's EmptyState) are saved as None; older orbax releases
    # cannot match them against the target's node, so the target says None there too and
    # the target's own structure is put back after.
    structure = jax.tree.structure(abstract_state)
    bare = jax.tree.map(lambda n: None if not jax.tree.leaves(n) else n, abstract_state,
                        is_leaf=lambda n: n is not None and not jax.tree.leaves(n))  # fmt: skip
    args = ocp.args.Composite(state=ocp.args.StandardRestore(bare), meta=ocp.args.JsonRestore())
    restored = manager.restore(step, args=args)
    return jax.tree.unflatten(structure, jax.tree.leaves(restored["state"])), restored["meta"]


def differences(saved: dict, run: dict) -> list[str]:
    """The names of the settings in which a saved run's record differs from ``run``'s.

    Lists of numbers (an optimiser's probe) compare to float32 rounding
    across machines; a setting one record lacks is ``None`` there.
    """
    names = sorted(set(saved) | set(run))
    return [k for k in names if not _same(saved.get(k), run.get(k))]


def _same(a, b) -> bool:
    numbers = isinstance(a, list) and isinstance(b, list) and len(a) == len(b)
    if numbers and a and all(isinstance(v, float) for v in a + b):
        return bool(np.allclose(a, b, rtol=1e-5, atol=1e-12))
    return a == b


def optimizer_probe(tx: optax.GradientTransformation, updates: int = 8) -> list[float]:
    """What ``tx`` does, as numbers: its first ``updates`` steps on a fixed problem.

    Three parameters, gradients that change sign and size (some past a
    unit norm, where a clip acts): two optimisers with the same rates,
    schedule start, clip and decay give the same list, to float32 rounding.
    """
    out = []
    with jax.default_device(jax.local_devices(backend="cpu")[0]):  # the same on every machine
        params = jnp.array([0.5, -1.0, 2.0])
        state = tx.init(params)
        for k in range(updates):
            grad = jnp.array([1.0, -2.0, 3.0]) * np.cos(k + 1.0) * (3.0 if k % 2 else 0.1)
            step, state = tx.update(grad, state, params)
            params = optax.apply_updates(params, step)
            out += [float(v) for v in jax.device_get(step)]
    return out


def resume(saving: Checkpoints, state: dict, changed: Callable[[dict], list[str]]):
    """``(manager, state)``: the folder's latest state if it holds the same run, else ``state``.

    ``changed(saved_meta)`` names the settings in which the saved run
    differs from this one; any is a ``ValueError``, as is a folder that
    holds checkpoints when ``saving.resume`` is off (they are never
    overwritten).  The caller closes the manager.
    """
    folder = str(saving.directory)
    manager = open_manager(saving.directory, saving.keep)
    if not saving.resume and manager.latest_step() is not None:
        manager.close()
        raise ValueError(
            f"checkpoints folder {folder!r} already holds checkpoints; pass "
            "Checkpoints(..., resume=True) to continue that run, or choose an empty folder"
        )
    found = restore(manager, state)
    if found is None:
        return manager, state
    restored, saved = found
    names = changed(saved)
    if names:
        manager.close()
        raise ValueError(
            f"checkpoints folder {folder!r} holds a run with different settings "
            f"({', '.join(names)}); use another folder"
        )
    return manager, restored


class FitDiverged(FloatingPointError):
    """A run whose loss or parameters stopped being finite.

    Attributes:
      history: every metric up to and including ``step``, the first step
        whose loss was not finite (all of it when only the parameters are
        not), as the run's ``history``.
      step: that step (0-based), or ``None`` when the loss stayed finite.
    """

    def __init__(self, message: str, history: dict, step: int | None):
        super().__init__(message)
        self.history, self.step = history, step


@jax.jit
def _finite(tree) -> jax.Array:
    return jnp.all(jnp.asarray([jnp.all(jnp.isfinite(x)) for x in jax.tree.leaves(tree)]))


def check_finite(history: dict, params=None, what: str = "the fit") -> None:
    """:class:`FitDiverged` unless every step's ``"loss"`` and every leaf of ``params`` is finite.

    The one divergence check of every run (fits, meta-training, training):
    ``history`` is ``{name: (..., steps)}``; a stack's run diverges where any
    of its fits does.
    """
    loss = history.get("loss")
    if loss is not None and np.size(loss):
        bad = ~np.isfinite(np.asarray(loss, np.float64)).reshape(-1, np.shape(loss)[-1]).all(0)
        if bad.any():
            step = int(np.argmax(bad))
            kept = {k: np.asarray(v)[..., : step + 1] for k, v in history.items()}
            raise FitDiverged(
                f"{what} diverged at step {step} (its loss is not finite): check the "
                "optimizer's learning rate; the error's history holds every step up to it",
                kept, step,
            )  # fmt: skip
    floats = [x for x in jax.tree.leaves(params) if jnp.issubdtype(jnp.result_type(x), jnp.inexact)]
    if floats and not bool(_finite(floats)):
        raise FitDiverged(
            f"{what} diverged: its parameters are not finite (check the optimizer's "
            "learning rate)", history, None,
        )  # fmt: skip

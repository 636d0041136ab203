"""Meshes and shardings: one code path for one device, many devices and many hosts.

Everything in ``inr`` that scales out is *data parallel* over a mesh axis
named ``"data"`` (JAX's SPMD model: a :class:`jax.sharding.Mesh`, arrays with
a :class:`~jax.sharding.NamedSharding`, ``jit`` and ``shard_map``):

* training (:func:`inr.train_restorator`): the global batch is split over
  ``"data"``, parameters and optimiser state are replicated (or, with
  ``shard_params=True``, each leaf's largest divisible axis is split, as in
  ZeRO-3 / FSDP, Rajbhandari et al. 2020); XLA inserts the gradient
  all-reduce.  The global batch size is the caller's whatever the device
  count, so the result does not depend on it (up to float32 reduction order);
* batched fits (:func:`inr.fit_images`): each device fits its share of the
  images;
* rendering (:func:`inr.evaluate_chunked` with ``mesh``): each device
  evaluates its share of the query points, in chunks.

A single device is the mesh of size one: there is no second code path.
Several hosts run the same program (``jax.distributed.initialize``, see
:func:`initialize`); each host feeds its own rows of the batch
(:func:`global_batch`) and reads its own share of the files
(:func:`process_shard`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np
from jax.experimental import multihost_utils
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

__all__ = [
    "DATA",
    "as_mesh",
    "check_divisible",
    "data_sharding",
    "data_size",
    "global_batch",
    "initialize",
    "local_mesh",
    "make_mesh",
    "pad_rows",
    "process_shard",
    "replicate",
    "replicated",
    "state_sharding",
    "to_host",
]

DATA = "data"

# A multi-process job's coordinates: JAX reads the first itself, inr the others.
_ENV = ("JAX_COORDINATOR_ADDRESS", "JAX_NUM_PROCESSES", "JAX_PROCESS_ID")


def initialize(
    coordinator: str | None = None,
    num_processes: int | None = None,
    process_id: int | None = None,
) -> bool:
    """Join a multi-host job (``jax.distributed.initialize``); returns whether it did.

    Arguments left ``None`` are read from ``JAX_COORDINATOR_ADDRESS``,
    ``JAX_NUM_PROCESSES`` and ``JAX_PROCESS_ID``.  With none of them set it
    joins only when ``INR_DISTRIBUTED=1``, letting JAX detect the cluster
    itself (a TPU pod slice, SLURM, Open MPI), so a single-process script can
    call it unconditionally.  Call it before any other JAX call.
    """
    env = [os.environ.get(k) for k in _ENV]
    coordinator = coordinator or env[0]
    num_processes = num_processes if num_processes is not None else _int(env[1], _ENV[1])
    process_id = process_id if process_id is not None else _int(env[2], _ENV[2])
    named = any(v is not None for v in (coordinator, num_processes, process_id))
    if not (named or os.environ.get("INR_DISTRIBUTED") == "1"):
        return False
    jax.distributed.initialize(
        coordinator_address=coordinator, num_processes=num_processes, process_id=process_id
    )
    return True


def _int(value: str | None, name: str) -> int | None:
    if value is None or value == "":
        return None
    if not value.isdigit():
        raise ValueError(
            f"environment variable {name} must be a non-negative integer; got {value!r}"
        )
    return int(value)


def make_mesh(devices: Sequence[jax.Device] | int | None = None) -> Mesh:
    """A one-axis ``("data",)`` mesh over ``devices`` (default: every device of every host).

    An int ``n`` takes the first ``n`` of ``jax.devices()``.
    """
    if devices is None:
        devices = jax.devices()
    elif isinstance(devices, (int, np.integer)):
        available = jax.devices()
        if not 1 <= devices <= len(available):
            raise ValueError(f"mesh must use 1..{len(available)} devices; got {devices}")
        devices = available[:devices]
    return Mesh(np.asarray(devices), (DATA,))


def local_mesh() -> Mesh:
    """A ``("data",)`` mesh over this host's devices: for work that never leaves the host."""
    return make_mesh(jax.local_devices())


def as_mesh(mesh) -> Mesh:
    """``None`` (all devices), a device count, or a :class:`Mesh` with a ``"data"`` axis."""
    if mesh is None or isinstance(mesh, (int, np.integer)):
        return make_mesh(mesh)
    if not isinstance(mesh, Mesh):
        raise ValueError(f"mesh must be None, a device count or a jax.sharding.Mesh; got {mesh!r}")
    if DATA not in mesh.axis_names:
        raise ValueError(f"mesh must have a {DATA!r} axis; got axes {mesh.axis_names}")
    return mesh


def data_size(mesh: Mesh) -> int:
    """How many ways the ``"data"`` axis splits a batch."""
    return int(mesh.shape[DATA])


def data_sharding(mesh: Mesh) -> NamedSharding:
    """Leading axis split over ``"data"``, the rest (and other mesh axes) replicated."""
    return NamedSharding(mesh, P(DATA))


def replicated(mesh: Mesh) -> NamedSharding:
    """A full copy on every device of ``mesh``."""
    return NamedSharding(mesh, P())


def _leaf_sharding(shape: tuple[int, ...], mesh: Mesh, shard: bool) -> NamedSharding:
    n = data_size(mesh)
    if shard and n > 1:
        # The largest axis that splits evenly: the most memory saved per leaf.
        for axis in sorted(range(len(shape)), key=lambda a: -shape[a]):
            if shape[axis] % n == 0:
                spec = [None] * len(shape)
                spec[axis] = DATA
                return NamedSharding(mesh, P(*spec))
    return replicated(mesh)


def replicate(tree, mesh: Mesh):
    """``tree`` with every leaf copied to every device of ``mesh`` (a no-op where it is).

    Lets parameters trained on one mesh render on another.  Leaves already
    placed that way are passed through: a render calls this every time, and
    copying every leaf again would cost a host round trip per leaf.
    """
    target = replicated(mesh)

    def put(x):
        sharding = getattr(x, "sharding", None)
        if sharding is not None and sharding.is_equivalent_to(target, x.ndim):
            return x
        return jax.device_put(x, target)

    return jax.tree.map(put, tree)


def state_sharding(tree, mesh: Mesh, shard_params: bool = False):
    """Shardings for a pytree of parameters or optimiser state (arrays or shape structs).

    Replicated by default; with ``shard_params`` each leaf's largest axis that
    the ``"data"`` size divides is split over it (scalars and leaves with no
    such axis stay replicated).  The mathematics is unchanged: ``jit``
    gathers what each step needs.
    """
    return jax.tree.map(lambda x: _leaf_sharding(np.shape(x), mesh, shard_params), tree)


def check_divisible(name: str, value: int, mesh: Mesh) -> None:
    """``ValueError`` unless ``value`` splits evenly over the ``"data"`` axis and the hosts."""
    n = data_size(mesh)
    if value % n or value % jax.process_count():
        raise ValueError(
            f"{name} ({value}) must be a multiple of the {n} devices of the mesh's "
            f"{DATA!r} axis (and of the {jax.process_count()} processes); change {name} "
            "or pass a smaller mesh"
        )


def global_batch(local, mesh: Mesh):
    """One global array per leaf from this host's rows (all rows on one host).

    ``local`` is a pytree of NumPy arrays whose leading axis holds this
    process's ``1 / process_count`` of the global batch; the result is split
    over ``"data"``.
    """
    sharding = data_sharding(mesh)

    def put(x):
        x = np.asarray(x)
        shape = (x.shape[0] * jax.process_count(), *x.shape[1:])
        return jax.make_array_from_process_local_data(sharding, x, shape)

    return jax.tree.map(put, local)


def pad_rows(x: jax.Array, n: int) -> jax.Array:
    """``x`` with its last row repeated up to ``n`` rows (finite padding, dropped later)."""
    pad = n - x.shape[0]
    if not pad:
        return x
    return jnp.concatenate([x, jnp.broadcast_to(x[-1:], (pad,) + x.shape[1:])])


def process_shard(items: Sequence) -> list:
    """This host's share of ``items``: every ``process_count``-th, from its index."""
    return list(items)[jax.process_index() :: jax.process_count()]


def to_host(x) -> np.ndarray:
    """The whole of a (possibly sharded, possibly multi-host) array as NumPy, on every host."""
    if jax.process_count() > 1 and not getattr(x, "is_fully_addressable", True):
        return np.asarray(multihost_utils.process_allgather(x, tiled=True))
    return np.asarray(x)

"""Where a run's batches are computed: the two pipelines over one draw.

Both pipelines compute :func:`inr.restorator.examples.draw_batch` from an
:class:`~inr.restorator.store.ImageStore` of the run's images, so they draw
the same stream; they differ in where:

* ``"device"``: the store lives on the accelerator and the batch is built
  there inside ``jit``, split over the mesh's ``"data"`` axis as it is made.
* ``"host"``: the store stays in host memory and the batch is built by the
  host's CPU on a background thread (:class:`Prefetcher`), then sent to the
  devices: for image sets larger than the accelerator's memory.

On several hosts each builds its own rows from its own images and the rows
are assembled into the global batch (:func:`inr.distributed.global_batch`).
"""

from __future__ import annotations

import contextlib
import functools
import queue
import threading
from collections.abc import Callable, Iterator

import jax
import jax.numpy as jnp
from jax.sharding import NamedSharding, PartitionSpec

from inr.distributed import data_sharding, global_batch, process_shard, replicated
from inr.restorator.data import expand_sources, group_names, load_images
from inr.restorator.examples import Examples, draw_batch, window
from inr.restorator.store import image_store

__all__ = ["Prefetcher", "batch_maker", "batches", "load_run_images"]


def load_run_images(source, references=None):
    """This host's ``(images, groups, trainable)``, with each item's reference from ``references``.

    An item whose reference is given forms a group with it alone, and the
    reference is kept for reference only (no batch row is drawn from it);
    the other items keep their file-name groups (:func:`~inr.restorator.data.group_names`).
    """
    items = process_shard(expand_sources(source))
    tags = [(g, True) for g in group_names(items)]
    extra = []
    if references is not None:
        for i, item in enumerate(items):
            ref = references(item)
            if ref is not None:
                pair = f"\0reference pair {i}"
                tags[i] = (pair, True)
                extra.append(ref)
                tags.append((pair, False))
    # The tags travel with the images, so an unreadable file drops its own.
    images, kept = load_images(items + extra, with_groups=True, groups=tags)
    return images, [g for g, _ in kept], [t for _, t in kept]


def batch_maker(
    images, examples: Examples, batch_size: int, mesh, seed: int, *, pipeline: str = "device",
    groups=None, trainable=None, block: int = 1,
):  # fmt: skip
    """``make(step)``: the global batch of ``step``, split over ``mesh``'s ``"data"`` axis.

    ``images`` are this host's; each host builds its ``1 / process_count``
    of the rows from them.  ``examples`` has its task and input size filled
    in (:meth:`~inr.restorator.examples.Examples.for_model`).  ``groups``
    names each image's group, from which a reference model's references
    are drawn; ``trainable`` flags the images rows are drawn from (default:
    all; see :func:`~inr.restorator.store.image_store`).

    ``block > 1`` (the device pipeline on one host): ``make(b)`` builds the
    batches of steps ``b * block`` to ``(b + 1) * block - 1`` in one call,
    stacked on a new leading axis, so that each of a batch's small kernels
    is launched once for ``block`` steps.
    """
    if isinstance(block, bool) or not isinstance(block, int) or block < 1:
        raise ValueError(f"block must be a positive int; got {block!r}")
    if block > 1 and (pipeline != "device" or jax.process_count() > 1):
        raise ValueError("block > 1 needs pipeline='device' on one process")
    store = image_store(images, groups, trainable)
    rows = batch_size // jax.process_count()
    build = functools.partial(
        draw_batch, examples=examples, rows=rows, side=window(store, examples), seed=seed,
        process=jax.process_index(),
    )  # fmt: skip
    if pipeline == "host" or jax.process_count() > 1:
        # Built apart (on this host's CPU, or from this host's own images), then assembled.
        store = jax.device_put(
            store, jax.local_devices(backend="cpu")[0] if pipeline == "host" else None
        )
        build = jax.jit(build)  # where its committed store lives
        return lambda step: global_batch(jax.device_get(build(store, step=step)), mesh)
    store = jax.device_put(store, replicated(mesh))
    sharding = data_sharding(mesh)
    if block > 1:
        build = _stacked(build, block)
        sharding = NamedSharding(mesh, PartitionSpec(None, *sharding.spec))
    build = jax.jit(build, out_shardings=sharding)
    return lambda step: build(store, step=step)


def _stacked(build, block: int):
    """``build(store, step=b)`` -> the batches of steps ``b * block ... + block - 1``, stacked."""

    def stacked(store, step):
        steps = step * block + jnp.arange(block)
        return jax.vmap(lambda s: build(store, step=s))(steps)

    return stacked


def batches(make, start: int, stop: int, pipeline: str):
    """``(step, batch)`` in order, in a ``with`` block: from a host thread, or dispatched directly.

    Dispatching a device batch is already asynchronous, so it needs no thread.
    """
    if pipeline == "host":
        return Prefetcher(make, start, stop)
    return contextlib.nullcontext((step, make(step)) for step in range(start, stop))


class Prefetcher:
    """Computes ``make(step)`` for ``step`` in ``[start, stop)`` on a background thread.

    Iterate to get ``(step, batch)`` in order; at most ``depth`` batches wait
    in memory.  ``close()`` (or leaving a ``with`` block) stops the thread.
    An exception in ``make`` is re-raised in the consumer.
    """

    def __init__(self, make: Callable[[int], dict], start: int, stop: int, depth: int = 2):
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(make, start, stop), daemon=True)
        self._thread.start()

    def _put(self, item) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _run(self, make, start, stop):
        try:
            for step in range(start, stop):
                if not self._put((step, make(step))):
                    return
        except BaseException as exc:  # handed to the consumer
            self._put(exc)
            return
        self._put(None)

    def __iter__(self) -> Iterator[tuple[int, dict]]:
        while True:
            item = self._queue.get()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            yield item

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

"""FranNet's masking augmentation: blank random cells of a grid over the input.

A :class:`Masking` draws a grid of ``k x k`` cells over an ``(h, w, c)``
input, then ``n`` distinct cells (``min_cells <= n <= max_fraction k^2``)
that are set to 0 in every channel.  Cell ``(r, c)`` covers rows
``round(r h / k)`` to ``round((r + 1) h / k)`` (``np.linspace``'s
boundaries), and likewise for columns.  FranNet trains with it so that the
decoder learns to fill what the input lacks; a masked input is also how
inpainting is asked for at render time.

The same draw has two implementations: :func:`mask_cells` in NumPy, to
mask a picture by hand (an inpainting input), and :func:`mask_cells_device`
in ``jax.numpy`` for the training batches built inside ``jit``
(:mod:`inr.restorator.examples`), with static shapes (a grid of at most 64
cells a side) and traced sizes.  They consume different random streams.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["GRIDS", "Masking", "as_masking", "mask_cells", "mask_cells_device"]

GRIDS = ("uniform", "dynamic")
# FranNet's "dynamic" grid sides: primes, so that cells of one side rarely
# align with those of another, and 64.
_PRIMES = (5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 64)
_LARGEST = 64  # the largest side a "uniform" or "dynamic" grid draws


@dataclasses.dataclass(frozen=True)
class Masking:
    """FranNet's masking augmentation: blank ``n`` random cells of a ``k x k`` grid.

    Attributes:
      grid: ``k`` fixed (an int), ``"uniform"`` (``k`` uniform in 5..64) or
        ``"dynamic"`` (``k`` from the primes 5..61 and 64).
      min_cells: smallest ``n``.
      max_fraction: largest ``n`` as a fraction of the ``k^2`` cells.
    """

    grid: int | str = 8
    min_cells: int = 0
    max_fraction: float = 0.75

    def __post_init__(self):
        if isinstance(self.grid, str):
            if self.grid not in GRIDS:
                raise ValueError(
                    f"masking grid must be an int, 'uniform' or 'dynamic'; got {self.grid!r}"
                )
        elif int(self.grid) < 1:
            raise ValueError(f"masking grid must be positive; got {self.grid!r}")
        if not 0.0 <= self.max_fraction <= 1.0:
            raise ValueError(f"masking max_fraction must be in [0, 1]; got {self.max_fraction}")

    def draw_grid(self, rng: np.random.Generator) -> int:
        """The grid side ``k`` for one example."""
        if self.grid == "uniform":
            return int(rng.integers(5, _LARGEST + 1))
        if self.grid == "dynamic":
            return int(rng.choice(_PRIMES))
        return int(self.grid)


def as_masking(masking) -> Masking | None:
    """``None``, a :class:`Masking`, a grid size, ``"uniform"`` or ``"dynamic"``."""
    if masking is None or isinstance(masking, Masking):
        return masking
    if isinstance(masking, (int, str)):
        return Masking(grid=masking)
    raise ValueError(
        f"masking must be None, an int, 'uniform', 'dynamic' or Masking; got {masking!r}"
    )


def mask_cells(image: np.ndarray, rng: np.random.Generator, masking: Masking) -> np.ndarray:
    """A copy of ``image (h, w, c)`` with ``n`` random grid cells set to 0."""
    k = masking.draw_grid(rng)
    cells = k * k
    hi = max(int(np.floor(masking.max_fraction * cells)), masking.min_cells)
    n = int(rng.integers(min(masking.min_cells, hi), hi + 1))
    ys = np.round(np.linspace(0, image.shape[0], k + 1)).astype(int)
    xs = np.round(np.linspace(0, image.shape[1], k + 1)).astype(int)
    out = image.copy()
    for cell in rng.choice(cells, size=n, replace=False):
        r, c = divmod(int(cell), k)
        out[ys[r] : ys[r + 1], xs[c] : xs[c + 1]] = 0.0
    return out


def _grid_size(key: jax.Array, masking: Masking) -> jax.Array:
    if masking.grid == "uniform":
        return jax.random.randint(key, (), 5, _LARGEST + 1)
    if masking.grid == "dynamic":
        return jnp.asarray(_PRIMES)[jax.random.randint(key, (), 0, len(_PRIMES))]
    return jnp.asarray(int(masking.grid))


def mask_cells_device(key: jax.Array, image: jax.Array, masking: Masking) -> jax.Array:
    """:func:`mask_cells` for a square ``image (n, n, c)`` inside ``jit``."""
    n = image.shape[0]
    largest = _LARGEST if isinstance(masking.grid, str) else int(masking.grid)
    k_grid, k_count, k_cells = jax.random.split(key, 3)
    k = _grid_size(k_grid, masking)
    cells = k * k
    hi = jnp.maximum(jnp.floor(masking.max_fraction * cells).astype(jnp.int32), masking.min_cells)
    count = jax.random.randint(k_count, (), jnp.minimum(masking.min_cells, hi), hi + 1)
    # Cell boundaries round(j n / k), as np.linspace; a pixel's cell counts those at or below it.
    j = jnp.arange(1, largest)
    bounds = jnp.where(j < k, jnp.round(j * n / k), n + 1)
    cell = jnp.sum(jnp.arange(n)[:, None] >= bounds[None, :], axis=1)
    # m distinct cells: those whose random score ranks below m among the k^2.
    score = jax.random.uniform(k_cells, (largest * largest,))
    score = jnp.where(jnp.arange(largest * largest) < cells, score, 2.0)
    blank = jnp.argsort(jnp.argsort(score)) < count
    hit = blank[cell[:, None] * k + cell[None, :]]
    return jnp.where(hit[..., None], 0.0, image)

"""The occupancy grid (inr.nerf.occupancy): it never skips a sample that has density."""

import jax
import jax.numpy as jnp
import numpy as np

from inr import nerf


def _grid(density_fn, updates: int = 1, resolution: int = 16):
    grid = nerf.OccupancyGrid.create((-1.0,) * 3, (1.0,) * 3, resolution)
    for k in range(updates):
        grid = grid.update(density_fn, jax.random.PRNGKey(k), decay=0.8, threshold=0.5)
    return grid


def test_cells_of_constant_density_are_exactly_the_occupied_ones():
    """A field constant on the grid's cells: every dense cell is kept, every far empty one not."""
    dense = np.zeros((16, 16, 16), bool)
    dense[3:6, 10:12, 7] = True

    def density(x):
        cell = jnp.clip(jnp.floor((x + 1) / 2 * 16).astype(int), 0, 15)
        return jnp.where(jnp.asarray(dense)[cell[:, 0], cell[:, 1], cell[:, 2]], 10.0, 0.0)

    grid = _grid(density)
    points = jax.random.uniform(jax.random.PRNGKey(9), (20000, 3), minval=-1, maxval=1)
    kept = np.asarray(grid.lookup(points))
    assert kept[np.asarray(density(points)) > 0.5].all()  # no dense sample is skipped
    dilated = np.asarray(grid.occupied)
    assert dilated.sum() == 5 * 4 * 3  # the block and one cell around it
    assert not kept[np.abs(np.asarray(points)).max(1) > 0.95].any()


def test_a_smooth_ball_loses_no_sample_above_the_threshold():
    density = lambda x: 20.0 * jnp.maximum(0.0, 1.0 - jnp.linalg.norm(x, axis=-1) / 0.5)  # noqa: E731
    grid = _grid(density, updates=3)
    points = jax.random.uniform(jax.random.PRNGKey(3), (50000, 3), minval=-1, maxval=1)
    kept = np.asarray(grid.lookup(points))
    assert kept[np.asarray(density(points)) > 0.5].all()
    assert kept.mean() < 0.2  # the ball is 1/16 of the box: most of it is skipped
    outside = nerf.OccupancyGrid.create((-1.0,) * 3, (1.0,) * 3, 8).lookup(jnp.array([[2.0, 0, 0]]))
    assert not bool(outside[0])


def test_a_cell_empties_as_its_density_decays():
    grid = _grid(lambda x: jnp.full(x.shape[0], 10.0))
    assert bool(grid.occupied.all())
    for k in range(20):
        grid = grid.update(lambda x: jnp.zeros(x.shape[0]), jax.random.PRNGKey(k), 0.8, 0.5)
    assert not bool(grid.occupied.any())

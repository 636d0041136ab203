"""FranNet's masking: both draws blank exactly ``n`` whole cells of the same grid."""

import jax
import numpy as np
import pytest

from inr.restorator.masking import Masking, mask_cells, mask_cells_device

SIDE, K, N = 30, 7, 10  # 30 is no multiple of 7: cells of 4 and 5 pixels


def _cells(blank: np.ndarray) -> list[bool]:
    """Per cell of ``round(linspace(0, SIDE, K + 1))``: blank, with no partial cell."""
    edges = np.round(np.linspace(0, SIDE, K + 1)).astype(int)
    out = []
    for r0, r1 in zip(edges[:-1], edges[1:], strict=True):
        for c0, c1 in zip(edges[:-1], edges[1:], strict=True):
            cell = blank[r0:r1, c0:c1]
            assert cell.all() or not cell.any(), "a cell is partly blank"
            out.append(bool(cell.all()))
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_host_and_device_draws_blank_n_whole_cells(seed):
    # min_cells equal to the largest count fixes n = N.
    masking = Masking(grid=K, min_cells=N, max_fraction=N / K**2)
    image = np.full((SIDE, SIDE, 3), 0.5, np.float32)
    host = mask_cells(image, np.random.default_rng(seed), masking)
    device = jax.jit(mask_cells_device, static_argnums=2)(jax.random.PRNGKey(seed), image, masking)
    for out in (host, np.asarray(device)):
        blank = out[..., 0] == 0
        assert sum(_cells(blank)) == N
        np.testing.assert_array_equal(out[~blank], 0.5)
        assert (out[blank] == 0).all()
    np.testing.assert_array_equal(image, 0.5)  # the input is not modified

"""Self-ensembles: the group's geometry (renders: ``test_model.py``, beside the others)."""

import numpy as np
import pytest

import inr
from inr.restorator import ensemble

DIHEDRAL = ensemble.members("dihedral")


def test_the_dihedral_members_are_the_eight_distinct_symmetries():
    a = np.arange(12).reshape(3, 4)
    images = {x.tobytes() + bytes(x.shape) for x in _all(a)}
    assert len(images) == 8
    for m in DIHEDRAL:
        np.testing.assert_array_equal(ensemble.untransform(ensemble.transform(a, m), m), a)


def _all(a):
    return [ensemble.transform(a, m) for m in DIHEDRAL]


@pytest.mark.parametrize("member", DIHEDRAL)
def test_a_region_moves_with_its_image(member):
    """The pixels of a region of ``a`` are the pixels of the moved region of the moved ``a``."""
    a = np.random.default_rng(0).random((6, 10))
    x0, y0, x1, y1 = 0.2, 0.5, 0.7, 1.0  # columns 2..6, rows 3..5: pixel-aligned
    crop = a[3:6, 2:7]
    moved = ensemble.transform(a, member)
    u0, v0, u1, v1 = ensemble.transform_region((x0, y0, x1, y1), member)
    h, w = moved.shape
    rows = slice(round(v0 * h), round(v1 * h))
    cols = slice(round(u0 * w), round(u1 * w))
    np.testing.assert_array_equal(moved[rows, cols], ensemble.transform(crop, member))
    assert ensemble.transform_size(crop.shape, member) == moved[rows, cols].shape


def test_an_unknown_ensemble_is_refused():
    upscaler = inr.Restorator(params=None, config=inr.RestoratorConfig(task="upscale"))
    with pytest.raises(ValueError, match="ensemble"):
        upscaler.restore(np.zeros((16, 16, 3)), ensemble="rotate")
    assert inr.restorator.ENSEMBLES == ("flip", "dihedral")

"""The examples run end to end at toy sizes (they are documentation, so they must not rot)."""

import sys
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).parents[1] / "examples"


@pytest.fixture
def examples_path(monkeypatch):
    pytest.importorskip("matplotlib")
    monkeypatch.syspath_prepend(str(EXAMPLES))
    for name in ("_figures", "merge"):
        monkeypatch.delitem(sys.modules, name, raising=False)


def test_merge_writes_its_figure(examples_path, tmp_path):
    import merge

    out = tmp_path / "merge.png"
    merge.main(["--size", "32", "--siren-size", "16", "--siren-steps", "2", "--out", str(out)])
    assert out.stat().st_size > 0


def test_naive_paste_clips_to_the_destination(examples_path):
    from merge import paste

    src = np.ones((4, 4, 3), np.float32)
    dst = np.zeros((6, 6, 3), np.float32)
    mask = np.zeros((4, 4), bool)
    mask[1:, 1:] = True
    out = paste(src, dst, mask, (3, -1))  # right half and top row fall outside
    want = np.zeros((6, 6), bool)
    want[0:3, 4:6] = True
    np.testing.assert_array_equal(out[..., 0] == 1, want)
    assert not dst.any()

"""Every guide's code runs as written, page by page, so the docs cannot drift from the API.

Marked slow (about a minute of compiling): the README's tour and the notebook,
which run in the default suite, cover the same calls at the same sizes.
"""

from pathlib import Path

import pytest

from tests.test_docs import python_blocks

DOCS = Path(__file__).parents[1] / "docs"
PAGES = sorted(p.name for p in DOCS.glob("*.md") if python_blocks(p))


def test_the_guides_have_code():
    assert {
        "fitting.md",
        "editing.md",
        "restorators.md",
        "diffusion.md",
        "devices.md",
        "signals.md",
        "shapes.md",
        "meta.md",
    } <= set(PAGES)


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES)
def test_guide_runs(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for i, block in enumerate(python_blocks(DOCS / page)):
        try:
            exec(compile(block, f"{page} python block {i}", "exec"), namespace)
        except Exception as exc:  # pragma: no cover - the message is the point
            pytest.fail(f"{page} python block {i} failed: {exc!r}\n{block}")

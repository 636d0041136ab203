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


@pytest.mark.slow  # a fit of 400 steps
def test_the_guides_own_objective_is_short_and_deconvolves():
    """docs/fitting.md's user-written objective: under 30 lines of user code, and it works.

    The deblurred field is closer to the sharp image than the blurred photo is.
    """
    blocks = [b for b in python_blocks(DOCS / "fitting.md") if "class Blurred" in b]
    assert len(blocks) == 1
    code = [line for line in blocks[0].splitlines() if line.strip()]
    user = [line for line in code if not line.startswith(("import ", "from "))]
    assert len(user) <= 30, f"{len(user)} lines"
    namespace: dict = {}
    first = python_blocks(DOCS / "fitting.md")[0]
    exec(compile(first.split("img =")[0], "fitting.md imports", "exec"), namespace)
    exec(compile(blocks[0], "fitting.md deconvolution", "exec"), namespace)
    assert namespace["deblurred"] > namespace["as_seen"] + 3.0
    assert namespace["fit"].history["loss"].shape == (400,)

"""The README's code runs as written, in order, as a reader would paste it."""

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]


def python_blocks(path: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", path.read_text(), flags=re.S)


@pytest.mark.slow  # CI runs the README in the built wheel's own environment (.ci/smoke.py)
def test_readme_tour_runs(tmp_path, monkeypatch):
    blocks = python_blocks(ROOT / "README.md")
    assert len(blocks) >= 4
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for i, block in enumerate(blocks):
        try:
            exec(compile(block, f"README.md python block {i}", "exec"), namespace)
        except Exception as exc:  # pragma: no cover - the message is the point
            pytest.fail(f"README.md python block {i} failed: {exc!r}\n{block}")
    assert namespace["fit"].render(8, 8).shape == (8, 8, 3)


@pytest.mark.slow
def test_tour_notebook_runs(tmp_path):
    """docs/tour.ipynb executes top to bottom, as a reader would run it."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    pytest.importorskip("matplotlib")
    notebook = nbformat.read(ROOT / "docs" / "tour.ipynb", as_version=4)
    client = nbclient.NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) == 6  # crop and gradient, clone, colorize, upscale, learned init, CT


def test_one_version_everywhere():
    """The package, its metadata, the citation and the changelog name the same release."""
    import inr

    version = re.search(r'^version = "(.+)"$', (ROOT / "pyproject.toml").read_text(), re.M)[1]
    assert inr.__version__ == version
    assert f"\nversion: {version}\n" in (ROOT / "CITATION.cff").read_text()
    assert f"\n## {version}" in (ROOT / "CHANGELOG.md").read_text()


def test_the_tour_notebook_is_stored_with_its_outputs():
    """The docs site shows the notebook as stored: run top to bottom, every output kept.

    After editing ``docs/tour.ipynb``, run it again and save it (in Jupyter,
    or with nbclient as ``test_tour_notebook_runs`` does).
    """
    notebook = json.loads((ROOT / "docs" / "tour.ipynb").read_text())
    code = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]
    assert [cell["execution_count"] for cell in code] == list(range(1, len(code) + 1))
    outputs = [o for cell in code for o in cell["outputs"]]
    assert not [o for o in outputs if o["output_type"] == "error"]
    assert len([o for o in outputs if "image/png" in o.get("data", {})]) == 6


def test_the_docs_site_lists_every_guide_and_subpackage():
    """mkdocs.yml's navigation has every page of docs/ and an API page per subpackage."""
    config = (ROOT / "mkdocs.yml").read_text()
    listed = set(re.findall(r":\s*([\w/.-]+\.(?:md|ipynb))\s*$", config, re.M))
    pages = {p.relative_to(ROOT / "docs").as_posix() for p in (ROOT / "docs").rglob("*.md")}
    assert pages | {"tour.ipynb"} <= listed
    packages = sorted(p.parent.name for p in (ROOT / "inr").glob("*/__init__.py"))
    for package in packages:
        page = ROOT / "docs" / "api" / f"{package}.md"
        assert page.read_text().strip().endswith(f"::: inr.{package}"), package

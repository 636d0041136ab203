"""Every number the documentation quotes is in the JSON file its section cites.

The rules (what a quote is, how it matches, where commands go) are in
``tests/_claims.py``; ``python tests/_claims.py`` lists what fails.
"""

import json

import inr
from tests import _claims


def test_every_quoted_number_is_in_the_json_its_section_cites():
    problems = _claims.unbacked()
    assert not problems, "\n".join(problems)


def _tree(tmp_path, page: str, results: dict) -> list[str]:
    (tmp_path / "benchmarks" / "results").mkdir(parents=True)
    (tmp_path / "benchmarks" / "results" / "run.json").write_text(json.dumps(results))
    (tmp_path / "benchmarks" / "README.md").write_text(
        "# Benchmarks\n\n## run\n\n`python benchmarks/run.py`, `results/run.json`.\n"
    )
    (tmp_path / "page.md").write_text(page)
    return _claims.unbacked(["page.md"], root=tmp_path)


RESULTS = {"psnr": 31.134, "ms": 1269.68, "share": 0.3, "params": 542947, "note": "7.2 s (step 44)"}


def test_quotes_match_at_the_precision_written(tmp_path):
    page = """# Page

## Fits (`results/run.json`)

It reaches 31.1 dB (31.13 dB to two places), 1270 ms a step, 30% of the
time, 0.54 M parameters, 7.2 s to the target; `Adam 1e-4`, 256 x 3 and x4
are settings, and so is this code: `fit(steps=99.5)`.

| model | ms |
|---|---|
| inr | 1269.7 |

```python
print(12.5)  # code is not quoted prose
```
"""
    assert _tree(tmp_path, page, RESULTS) == []


def test_a_number_the_json_does_not_hold_fails(tmp_path):
    page = "# Page\n\nFrom `results/run.json`: 31.2 dB, and in a table:\n\n| a |\n|---|\n"
    page += "| 1269.6 |\n"
    problems = _tree(tmp_path, page, RESULTS)
    assert [p.split(": ")[1] for p in problems] == ["'31.2 dB'", "'1269.6'"]


def test_a_section_inherits_its_parents_citations_and_not_its_siblings(tmp_path):
    page = """# Page

## Cited (`results/run.json`)

### Inside

31.13 dB.

## Sibling

31.13 dB again.
"""
    problems = _tree(tmp_path, page, RESULTS)
    assert len(problems) == 1 and "page.md:11" in problems[0] and "cites no JSON" in problems[0]


def test_a_cited_file_must_exist_and_have_a_command(tmp_path):
    page = "# Page\n\n`results/gone.json` and `results/run.json`.\n"
    (tmp_path / "benchmarks" / "results").mkdir(parents=True)
    problems = _tree(tmp_path / "x", page, RESULTS)
    assert problems == ["page.md: cites gone.json, which does not exist"]
    # The benchmark README's section names the command that writes run.json;
    # without it, a page citing run.json must give the command itself.
    (tmp_path / "x" / "benchmarks" / "README.md").write_text("# Benchmarks\n")
    problems = _claims.unbacked(["page.md"], root=tmp_path / "x")
    assert "page.md: cites run.json, and no command writes it" in problems


def _public_entries() -> dict:
    """Every public fit, training and render of the library, by the name the README uses."""
    from inr import meta, nerf, pde, restorator, shapes, tomography

    return {
        "inr.fit": inr.fit, "inr.fit_signal": inr.fit_signal, "inr.fit_signals": inr.fit_signals,
        "inr.fit_image": inr.fit_image, "inr.fit_images": inr.fit_images,
        "inr.fit_gradients": inr.fit_gradients, "shapes.fit_sdf": shapes.fit_sdf,
        "nerf.fit_radiance_field": nerf.fit_radiance_field,
        "tomography.fit_sinogram": tomography.fit_sinogram, "pde.solve_linear": pde.solve_linear,
        "meta.meta_train": meta.meta_train, "meta.fit_latents": meta.fit_latents,
        "inr.train_restorator": inr.train_restorator, "FitResult.render": inr.FitResult.render,
        "FitResult.at": inr.FitResult.at, "FitResult.gradient": inr.FitResult.gradient,
        "FitResult.laplacian": inr.FitResult.laplacian,
        "nerf.RadianceField.render": nerf.RadianceField.render,
        "nerf.RadianceField.at": nerf.RadianceField.at, "shapes.SDF.at": shapes.SDF.at,
        "shapes.extract_mesh": shapes.extract_mesh, "shapes.render_sdf": shapes.render_sdf,
        "tomography.project": tomography.project,
        "Restorator.restore": restorator.Restorator.restore,
    }  # fmt: skip


def _takes_mesh(fn) -> bool:
    """``mesh=`` in its signature, or passed on to ``inr.fit`` with the ``**options``."""
    import inspect

    params = inspect.signature(fn).parameters
    if "mesh" in params:
        return True
    forwards = any(p.kind is p.VAR_KEYWORD for p in params.values())
    return forwards and "fit(" in inspect.getsource(fn).replace("\n", "").replace(" ", "")


def test_the_readme_says_which_entries_take_a_mesh():
    """README: every fit, training and render takes ``mesh=``, but the ones it names."""
    import re

    text = (_claims.ROOT / "README.md").read_text()
    sentence = re.search(r"every fit,\s+training and render takes `mesh=`(.*?)\.\s", text, re.S)
    assert sentence, "the README's sentence on mesh= is gone"
    named = set(re.findall(r"`([\w.]+)`", sentence.group(1).split(";")[0]))
    lacking = {name.split(".", 1)[-1] if name.startswith("inr.") else name
               for name, fn in _public_entries().items() if not _takes_mesh(fn)}  # fmt: skip
    assert lacking == named, f"take no mesh=: {sorted(lacking)}; the README names {sorted(named)}"

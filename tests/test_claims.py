"""Every number the documentation quotes is in the JSON file its section cites.

The rules (what a quote is, how it matches, where commands go) are in
``tests/_claims.py``; ``python tests/_claims.py`` lists what fails.
"""

import json

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

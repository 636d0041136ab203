"""Quoted numbers and the JSON files they cite.

A page of the documentation is cut into sections at its headings.  A
section *cites* every ``results/<name>.json`` (or
``benchmarks/results/<name>.json``) it names, and inherits what its
enclosing sections cite.  A *quoted number* is a measurement written in
prose or a table, outside code: a number followed by a unit of measure
(``12 s``, ``2.95x``, ``31.1 dB``, ``0.72 GiB``, ``30%``, ``0.54 M``), a
number with a decimal point or an exponent within a few words after the
name of a metric (``MSE 2.4e-6``, ``Chamfer 0.0015``), or a table cell that
is a number alone.  Settings (``Adam 1e-4``, ``256 x 3``, ``x4``) are not
quotes.  Each quote must be a value of a cited file at the precision
written: ``43.09`` matches 43.0914, ``1270`` matches 1269.68, ``31.1 dB``
matches 31.13, ``30%`` matches 0.30, ``0.54 M`` matches 542,947
(:data:`CONVERSIONS`).  Numbers inside the file's strings
count (``"7.2 s (step 44)"``).

Run ``python tests/_claims.py`` to list the numbers that fail.
"""

from __future__ import annotations

import json
import math
import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
PAGES = [
    "README.md",
    "benchmarks/README.md",
    *sorted(f"docs/{p.name}" for p in (ROOT / "docs").glob("*.md")),
]

CITATION = re.compile(r"(?:benchmarks/)?results/([\w.-]+\.json)")
NUMBER = r"(?<![\w.^/-])([-+−]?\d{1,3}(?:,\d{3})+|[-+−]?\d+(?:\.\d+)?(?:e[-+−]?\d+)?)(?![\w.]?\d)"
UNIT = r"(?:\s?(?:dB|x(?![\w]|\s?\d)|×(?!\s?\d)|%)|\s(?:s|ms|min|h|GiB|MiB|GB|MB|KB|M)(?![\w]))"
METRIC = re.compile(
    r"(?:MSE|PSNR|SSIM|LPIPS|Chamfer|IoU|consistency|error|loss)\b[^.;:]{0,24}$", re.I
)
QUOTED = re.compile(NUMBER + rf"(?P<unit>{UNIT})?")


# A file may hold a quantity in another unit than the page: the factor to it.
CONVERSIONS = {"%": (0.01,), "M": (1e6,), "min": (60.0,), "h": (3600.0,), "ms": (1e-3,),
               "GiB": (2.0**30,), "MiB": (2.0**20,)}  # fmt: skip


@dataclass(frozen=True)
class Quote:
    page: str
    line: int
    text: str
    value: float
    decimals: int  # digits after the point; negative for trailing zeros of an integer
    unit: str

    def __str__(self):
        return f"{self.page}:{self.line}: {self.text!r}"


def _prose(line: str) -> str:
    """The line without inline code, link targets and HTML comments."""
    line = re.sub(r"`[^`]*`", " ", line)
    line = re.sub(r"\]\([^)]*\)", "]", line)
    return re.sub(r"<!--.*?-->", " ", line)


def _parse(text: str) -> tuple[float, int]:
    text = text.replace("−", "-").replace(",", "")
    mantissa = re.split(r"e", text, flags=re.I)[0].lstrip("+-")
    if "." in mantissa:
        decimals = len(mantissa.split(".")[1])
    else:
        decimals = -(len(mantissa) - len(mantissa.rstrip("0"))) if mantissa != "0" else 0
    if "e" in text.lower():
        decimals -= int(re.split(r"e", text, flags=re.I)[1])
    return float(text), decimals


def quotes(line: str, page: str, number: int) -> list[Quote]:
    """The quoted numbers of one line of prose or table."""
    prose = _prose(line)
    cells = (
        [c.strip() for c in prose.strip().strip("|").split("|")]
        if prose.lstrip().startswith("|")
        else []
    )
    found = []
    for m in QUOTED.finditer(prose):
        text, unit = m[1], (m["unit"] or "").strip()
        alone = any(re.fullmatch(r"\**" + re.escape(text) + r"\**", c) for c in cells)
        decimal = "." in text or "e" in text.lower()
        if not (unit or alone or (decimal and METRIC.search(prose[: m.start()]))):
            continue
        if text.replace(",", "").lstrip("+-−") in {"0", "1"} and not unit:
            continue  # a table's baseline row ("x floor 1") restates a definition
        value, decimals = _parse(text)
        found.append(Quote(page, number, m[0].strip(), value, decimals, unit))
    return found


def sections(page: str) -> list[tuple[set[str], list[Quote]]]:
    """``(cited JSON names, quoted numbers)`` of each section of ``page``."""
    out, stack, fenced = [], [], False
    for number, line in enumerate((ROOT / page).read_text().splitlines(), 1):
        if line.startswith("```"):
            fenced = not fenced
            continue
        if fenced:
            continue
        heading = re.match(r"(#+) ", line)
        if heading:
            level = len(heading[1])
            stack = [s for s in stack if s[0] < level]
            stack.append((level, set(), []))
            out.append(stack[-1])
        if not stack:
            stack.append((0, set(), []))
            out.append(stack[-1])
        stack[-1][1].update(CITATION.findall(line))
        stack[-1][2].extend(quotes(line, page, number))
    # A section cites what its enclosing sections cite: resolve in order.
    resolved, chain = [], []
    for level, cited, found in out:
        chain = [c for c in chain if c[0] < level] + [(level, cited)]
        resolved.append((set().union(*(c[1] for c in chain)), found))
    return resolved


def values(name: str) -> list[float]:
    """Every number in ``benchmarks/results/<name>``, in its numbers and its strings."""
    numbers: list[float] = []

    def walk(x):
        if isinstance(x, bool) or x is None:
            return
        if isinstance(x, (int, float)):
            numbers.append(float(x))
        elif isinstance(x, str):
            numbers.extend(_parse(m[1])[0] for m in re.finditer(NUMBER, x))
        elif isinstance(x, dict):
            for k, v in x.items():
                walk(k)
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)

    walk(json.loads((RESULTS / name).read_text()))
    return [v for v in numbers if math.isfinite(v)]


def matches(quote: Quote, candidates: list[float]) -> bool:
    """Whether some candidate, rounded as ``quote`` is written, reads as ``quote``."""
    half = 0.5 * 10.0 ** (-quote.decimals) * (1 + 1e-9)
    scales = [1.0, *CONVERSIONS.get(quote.unit, ())]
    target = abs(quote.value)
    return any(abs(abs(v) - target * s) <= half * s for v in candidates for s in scales)


def unbacked(pages=PAGES) -> list[str]:
    """Every quoted number of ``pages`` that no cited JSON holds, with why."""
    failures = []
    for page in pages:
        for cited, found in sections(page):
            missing = sorted(c for c in cited if not (RESULTS / c).exists())
            failures += [f"{page}: cites {c}, which does not exist" for c in missing]
            candidates = [v for c in sorted(cited - set(missing)) for v in values(c)]
            for q in found:
                if not cited:
                    failures.append(f"{q}: its section cites no JSON")
                elif not matches(q, candidates):
                    failures.append(f"{q}: not in {', '.join(sorted(cited))}")
    return failures


if __name__ == "__main__":
    problems = unbacked(sys.argv[1:] or PAGES)
    print("\n".join(problems))
    print(f"{len(problems)} quoted numbers without a JSON behind them", file=sys.stderr)

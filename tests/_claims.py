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
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
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
RANGE = re.compile(rf"(?<![\w.])(\d+(?:\.\d+)?)[-–](\d+(?:\.\d+)?)({UNIT})")
COMMAND = re.compile(r"\b(?:python|bash)\s+benchmarks/\w+\.(?:py|sh)")
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
    # A range with a unit quotes both ends: "0.22-0.33x" is 0.22x and 0.33x.
    prose = RANGE.sub(lambda m: f"{m[1]}{m[3]} to {m[2]}{m[3]}", _prose(line))
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


@dataclass
class Section:
    level: int
    cites: set[str]  # its own citations; ``cited`` adds its enclosing sections'
    quotes: list[Quote]
    text: str = ""
    cited: set[str] = field(default_factory=set)

    @property
    def has_command(self) -> bool:
        return bool(COMMAND.search(self.text))


def sections(path: Path, name: str) -> list[Section]:
    """The sections of the page at ``path`` (called ``name`` in messages)."""
    out, fenced = [], False
    for number, line in enumerate(path.read_text().splitlines(), 1):
        heading = None if fenced else re.match(r"(#+) ", line)
        if heading or not out:
            out.append(Section(len(heading[1]) if heading else 0, set(), []))
        out[-1].text += line + "\n"
        fence = line.startswith("```")
        fenced ^= fence
        if fenced or fence:
            continue
        out[-1].cites.update(CITATION.findall(line))
        out[-1].quotes.extend(quotes(line, name, number))
    chain: list[Section] = []
    for section in out:  # a section cites what its enclosing sections cite
        chain = [s for s in chain if s.level < section.level] + [section]
        section.cited = set().union(*(s.cites for s in chain))
    return out


def values(path: Path) -> list[float]:
    """Every number in the JSON file at ``path``, in its numbers and its strings."""
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

    walk(json.loads(path.read_text()))
    return [v for v in numbers if math.isfinite(v)]


def matches(quote: Quote, candidates: list[float]) -> bool:
    """Whether some candidate, rounded as ``quote`` is written, reads as ``quote``."""
    half = 0.5 * 10.0 ** (-quote.decimals) * (1 + 1e-9)
    scales = [1.0, *CONVERSIONS.get(quote.unit, ())]
    target = abs(quote.value)
    return any(abs(abs(v) - target * s) <= half * s for v in candidates for s in scales)


def unbacked(pages=PAGES, root: Path = ROOT) -> list[str]:
    """Every quoted number of ``pages`` that no cited JSON holds, and every
    cited JSON that no command writes (none in its section, and none in the
    section of ``benchmarks/README.md`` that cites it), with why."""
    results = root / "benchmarks" / "results"
    readme = root / "benchmarks" / "README.md"
    written = {c for s in sections(readme, "") if s.has_command for c in s.cites}
    failures = []
    for page in pages:
        for section in sections(root / page, page):
            for c in sorted(section.cites):
                if not (results / c).exists():
                    failures.append(f"{page}: cites {c}, which does not exist")
                elif not (section.has_command or c in written):
                    failures.append(f"{page}: cites {c}, and no command writes it")
            present = sorted(c for c in section.cited if (results / c).exists())
            candidates = [v for c in present for v in values(results / c)]
            for q in section.quotes:
                if not section.cited:
                    failures.append(f"{q}: its section cites no JSON")
                elif not matches(q, candidates):
                    failures.append(f"{q}: not in {', '.join(sorted(section.cited))}")
    return failures


if __name__ == "__main__":
    problems = unbacked(sys.argv[1:] or PAGES)
    print("\n".join(problems))
    print(f"{len(problems)} quoted numbers without a JSON behind them", file=sys.stderr)

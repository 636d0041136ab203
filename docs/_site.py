"""mkdocs hooks: the repository's top-level pages on the docs site, their links kept.

The README, the benchmark tables, the changelog and the contributor pages
live where a reader of the repository expects them, outside ``docs/``.
The site takes them as generated pages and rewrites every relative link of
every page from a path in the repository to the page or file that path has
on the site, so each link works in both places.  A link to something that
is not on the site is left as written, and ``mkdocs build --strict``
reports it.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path

from mkdocs.structure.files import File

ROOT = Path(__file__).resolve().parents[1]

# Repository path -> site path, for the pages that live outside docs/.
PAGES = {
    "README.md": "index.md",
    "benchmarks/README.md": "benchmarks.md",
    "CHANGELOG.md": "changelog.md",
    "CONTRIBUTING.md": "contributing.md",
    "ARCHITECTURE.md": "architecture.md",
}
SOURCES = {site: repo for repo, site in PAGES.items()}
# Figures outside docs/ that those pages show, kept at their repository path.
FIGURES = "benchmarks/results/*.png"

LINK = re.compile(r"(\]\()([^)\s]+)(\))")


def _site_path(repo_path: str) -> str | None:
    """Where the file at ``repo_path`` (relative to the root) is on the site, if it is."""
    if repo_path in PAGES:
        return PAGES[repo_path]
    if repo_path.startswith("docs/"):
        return repo_path[len("docs/") :]
    if Path(repo_path).match(FIGURES):
        return repo_path
    return None


def _repo_path(site_path: str) -> str:
    if site_path in SOURCES:
        return SOURCES[site_path]
    return site_path if Path(site_path).match(FIGURES) else f"docs/{site_path}"


def on_files(files, config):
    for repo_path, site_path in PAGES.items():
        files.append(File.generated(config, site_path, abs_src_path=str(ROOT / repo_path)))
    for figure in sorted(ROOT.glob(FIGURES)):
        repo_path = figure.relative_to(ROOT).as_posix()
        files.append(File.generated(config, repo_path, abs_src_path=str(figure)))
    return files


def _rewrite(target: str, page_site: str) -> str:
    """A link written relative to the page's repository file, made relative to its site page."""
    if re.match(r"^[a-z][a-z0-9+.-]*:|^#|^/", target):
        return target
    path, hash_, anchor = target.partition("#")
    page_repo = _repo_path(page_site)
    repo_path = posixpath.normpath(posixpath.join(posixpath.dirname(page_repo), path))
    site = _site_path(repo_path)
    if site is None:
        return target
    return posixpath.relpath(site, posixpath.dirname(page_site) or ".") + hash_ + anchor


def on_page_markdown(markdown, page, config, files):
    site = page.file.src_uri
    return LINK.sub(lambda m: m[1] + _rewrite(m[2], site) + m[3], markdown)

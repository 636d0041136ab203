"""Small helpers shared by the example scripts (figures and inputs)."""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import inr  # noqa: E402


def parser(doc: str, builtin: str, quick: dict, full: dict, out: str) -> argparse.ArgumentParser:
    """The options every single-image example shares: --image, --size, --steps, --width, --out.

    ``quick`` holds the defaults (``size``, ``steps``, ``width``), chosen to
    show the point in seconds on a laptop CPU; ``--full`` switches to
    ``full``, the paper's setting, which takes minutes there.  Call
    :func:`parse` to apply them.
    """
    p = argparse.ArgumentParser(description=doc.split("\n")[0])
    p.add_argument("--image", help=f"your own image (default: built-in {builtin})")
    p.add_argument("--size", type=int, help=f"image side (default {quick['size']})")
    p.add_argument("--steps", type=int, help=f"fitting steps (default {quick['steps']})")
    p.add_argument("--width", type=int, help=f"SIREN hidden width (default {quick['width']})")
    described = ", ".join(f"{k} {v}" for k, v in full.items())
    p.add_argument("--full", action="store_true", help=f"the paper's setting: {described}")
    p.add_argument("--out", default=out, help=f"the figure (default {out})")
    p.set_defaults(_quick=quick, _full=full)
    return p


def parse(p: argparse.ArgumentParser, argv=None) -> argparse.Namespace:
    """Parsed arguments, with unset sizes taken from the quick or the full setting."""
    args = p.parse_args(argv)
    chosen = args._full if args.full else args._quick
    for key, value in chosen.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    return args


def input_image(path: str | None, builtin: str):
    """The user's image if given, else a built-in one (float32 in [0, 1])."""
    return inr.load_image(path) if path else inr.sample_image(builtin)


def show(ax, image, title: str, cmap: str = "gray", **kw):
    ax.imshow(image, cmap=cmap if image.ndim == 2 else None, **kw)
    ax.set_title(title, fontsize=9)
    ax.axis("off")


def show_zoomed(top, bottom, image, title: str, box, cmap: str = "gray", **kw):
    """``image`` whole on ``top`` with ``box`` outlined, and ``box`` enlarged on ``bottom``.

    ``box`` is ``(y0, x0, y1, x1)`` in fractions of the image, so panels of
    different sizes (an input and its upscales) show the same region.
    """
    show(top, image, title, cmap, **kw)
    h, w = image.shape[:2]
    y0, x0, y1, x1 = (round(f * n) for f, n in zip(box, (h, w, h, w), strict=True))
    outline = plt.Rectangle((x0 - 0.5, y0 - 0.5), x1 - x0, y1 - y0, fill=False, ec="yellow")
    top.add_patch(outline)
    show(bottom, image[y0:y1, x0:x1], "", cmap, interpolation="nearest")


def save_figure(fig, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)
    print(f"wrote {path.resolve()}", flush=True)
    return path


__all__ = ["input_image", "parse", "parser", "plt", "save_figure", "show", "show_zoomed"]

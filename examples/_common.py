"""Small helpers shared by the example scripts (figures and inputs)."""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import inr  # noqa: E402


def parser(doc: str, builtin: str, size: int, steps: int, out: str) -> argparse.ArgumentParser:
    """The options every single-image example shares: --image, --size, --steps, --out."""
    p = argparse.ArgumentParser(description=doc.split("\n")[0])
    p.add_argument("--image", help=f"your own image (default: built-in {builtin})")
    p.add_argument("--size", type=int, default=size)
    p.add_argument("--steps", type=int, default=steps)
    p.add_argument("--out", default=out)
    return p


def input_image(path: str | None, builtin: str):
    """The user's image if given, else a built-in one (float32 in [0, 1])."""
    return inr.load_image(path) if path else inr.sample_image(builtin)


def show(ax, image, title: str, cmap: str = "gray", **kw):
    ax.imshow(image, cmap=cmap if image.ndim == 2 else None, **kw)
    ax.set_title(title, fontsize=9)
    ax.axis("off")


def save_figure(fig, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)
    print(f"wrote {path.resolve()}", flush=True)
    return path


__all__ = ["input_image", "parser", "plt", "save_figure", "show"]

"""Learned initialisations and functa on held-out faces: PSNR against steps, in one process.

On the first ``--images`` faces of ``celeba/val`` (never seen in training;
centred square crop at 64x64, as the weights were trained):

* **init**: PSNR after 0, 1, 2, 3, 5 and 10 steps from the learned
  initialisation (SGD at its learned rates: ``fit_images(init=...)``) and
  from the standard SIREN initialisation with the paper's Adam 1e-4 (the
  same 256 x 3 network, one fresh init per face); then the first step at
  which the standard init's mean PSNR reaches the learned init's after 3
  steps (the catch-up step, searched up to ``--max-steps``) and its ratio
  to 3.  PSNRs are the fits' own per-step histories (the whole image, the
  network's unclipped output), the same measure for both.
* **functa**: for each functa file (one per latent size, each meta-trained
  at the same budget), the mean PSNR of the rendered faces after its
  inner steps (``fit_latents``); and the throughput of ``fit_latents`` on
  all the faces at once against fitting each face alone (one call per
  face), in images per second, warm.

Usage: python benchmarks/meta.py --data ../shared/data/celeba/val
           [--init pretrained:celeba-init] [--functa pretrained:celeba-functa F64 ...]
           [--images 25] [--max-steps 200] [--json PATH]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import optax
from _timing import RESULTS, print_table, write_json

import inr
from inr import meta

STEPS = (0, 1, 2, 3, 5, 10)
GOAL_DB, GOAL_RATIO = 25.0, 10.0


def init_rows(faces, init, max_steps: int) -> tuple[list[dict], dict]:
    """PSNR after each of :data:`STEPS`, learned against standard, and the catch-up step."""
    learned = inr.fit_images(faces, init=init, steps=max(STEPS) + 1).history["psnr"].mean(0)
    standard_fit = inr.fit_images(faces, model=init.model, optimizer=optax.adam(1e-4),
                                  steps=max(max_steps, max(STEPS) + 1))  # fmt: skip
    standard = standard_fit.history["psnr"].mean(0)
    rows = [{"steps": k, "learned init dB": float(learned[k]), "standard init dB":
             float(standard[k])} for k in STEPS]  # fmt: skip
    bar = float(learned[3])
    reached = np.flatnonzero(standard >= bar)
    catch_up = int(reached[0]) if reached.size else None
    summary = {
        "learned after 3 steps dB": bar,
        "standard catches up at step": catch_up if catch_up is not None else f"> {max_steps}",
        "ratio to 3 steps": catch_up / 3 if catch_up else f"> {max_steps / 3:.0f}",
        "goal": f">= {GOAL_DB} dB and >= {GOAL_RATIO}x",
        "init card steps": init.card.get("steps"),
    }
    return rows, summary


def psnr(pictures, faces) -> float:
    truth = faces.astype(np.float32) / 255.0
    return float(np.mean([inr.psnr(a, b) for a, b in zip(pictures, truth, strict=True)]))


def functa_row(faces, functa) -> dict:
    """PSNR after the inner steps, and batched against one-at-a-time throughput."""
    meta.fit_latents(faces, functa)  # compile both shapes before timing
    meta.fit_latents(faces[:1], functa)
    start = time.perf_counter()
    latents = meta.fit_latents(faces, functa)
    batched = len(faces) / (time.perf_counter() - start)
    start = time.perf_counter()
    for face in faces:
        meta.fit_latents(face[None], functa)
    alone = len(faces) / (time.perf_counter() - start)
    return {
        "latent": functa.model.latent_features,
        "inner steps": functa.inner_steps,
        "meta steps": functa.card.get("steps"),
        "PSNR dB": psnr(functa.render(latents), faces),
        "batched images/s": batched,
        "alone images/s": alone,
        "batched / alone": batched / alone,
    }


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", required=True, help="celeba/val: faces never trained on")
    p.add_argument("--images", type=int, default=25, help="how many faces (the first, by name)")
    p.add_argument("--init", default="pretrained:celeba-init", help="a learned init ('' skips)")
    p.add_argument("--functa", nargs="*", default=["pretrained:celeba-functa"],
                   help="functa files, one per latent size")  # fmt: skip
    p.add_argument("--max-steps", type=int, default=200, help="standard init's longest fit")
    p.add_argument("--json", default=RESULTS / "meta.json", help="where the results go")
    args = p.parse_args(argv)
    faces = meta.image_folder(args.data, 64, limit=args.images)
    out = {"settings": {k: str(v) for k, v in vars(args).items()}}
    if args.init:
        rows, summary = init_rows(faces, meta.load_init(args.init), args.max_steps)
        out["init"] = {"rows": rows, "summary": summary,
                       "table": print_table(rows, list(rows[0]))}  # fmt: skip
        print_table([summary], list(summary))
        write_json(args.json, out)
    rows = [functa_row(faces, meta.load_functa(f)) for f in args.functa]
    if rows:
        out["functa"] = {"rows": rows, "table": print_table(rows, list(rows[0]))}
    write_json(args.json, out)


if __name__ == "__main__":
    main()

"""Meta-learn an initialisation or a functa from a folder of images (over inr.meta.meta_train).

    python examples/train_meta.py --data ../shared/data/celeba/train --kind init \
        --steps 2000 --checkpoint-dir runs/celeba-init --export celeba-init.msgpack

    python examples/train_meta.py --data ../shared/data/celeba/train --kind functa \
        --latent 256 --steps 2000 --checkpoint-dir runs/celeba-functa --export celeba-functa.msgpack

Every image is cropped to its centred square and resized to ``--size``
(64: learnit's and FranNet's CelebA), kept as uint8 on the device.  The
network is SIREN 256 x 3 (``--width``, ``--depth``); ``--kind functa``
modulates it with a latent of ``--latent`` numbers (``--start`` takes its
SIREN layers from a learned init; ``--more`` trains a shipped or exported
model further, on an accelerator say).  Interrupt it at any
time and run the same command again: it resumes from the latest
checkpoint; run it with a larger ``--steps`` to train on where it ended
(the resumable pieces a CPU needs).  ``--export`` writes the result as one
file that ``inr.meta.load_init`` / ``load_functa`` read, with its model
card's record (data, command, steps, wall time, machine).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import jax
import optax

import inr
from inr import meta

LICENCE = {
    "celeba": "weights trained on CelebA: non-commercial research use only (CelebA's terms)",
}


def network(kind: str, width: int, depth: int, latent: int):
    if kind == "functa":
        return meta.ModulatedSiren(width, depth, 3, latent_features=latent)
    return inr.Siren(width, depth, 3)


def starting_point(args, card: dict):
    """What ``meta_train`` starts from (``None``: fresh), noted on the card."""
    if args.start and args.more:
        raise SystemExit("--start and --more exclude each other")
    if args.more:
        card["start"] = f"{args.more}, trained further"
        return (meta.load_functa if args.kind == "functa" else meta.load_init)(args.more)
    if args.start:
        card["start"] = f"the SIREN layers of {args.start}"
        return meta.load_init(args.start).params
    return None


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", required=True, type=Path, help="a folder of images (never a val set)")
    p.add_argument("--kind", default="init", choices=("init", "functa"), help="what to learn")
    p.add_argument("--size", type=int, default=64, help="images are resized to size x size")
    p.add_argument("--limit", type=int, help="use the first LIMIT images of the folder")
    p.add_argument("--width", type=int, default=256, help="SIREN hidden width")
    p.add_argument("--depth", type=int, default=3, help="SIREN hidden layers")
    p.add_argument("--latent", type=int, default=256, help="functa latent size")
    p.add_argument("--start", help="a learned init whose SIREN layers start the network")
    p.add_argument(
        "--more", metavar="MODEL",
        help="a result of --kind to train further (file or pretrained:NAME): its parameters "
        "and inner rates go on, the outer Adam starts afresh",
    )  # fmt: skip
    p.add_argument(
        "--method", default="maml", choices=meta.METHODS,
        help="maml: second order; fomaml: first order; reptile",
    )  # fmt: skip
    p.add_argument("--inner-steps", type=int, default=3, help="SGD steps per signal")
    p.add_argument("--inner-lr", type=float, default=1e-2, help="inner rate (where learned starts)")
    p.add_argument("--fixed-rates", action="store_true", help="no Meta-SGD: keep inner-lr")
    p.add_argument("--outer-lr", type=float, default=3e-5, help="Adam's rate in the outer loop")
    p.add_argument("--batch-size", type=int, default=3, help="signals per outer step")
    p.add_argument("--steps", type=int, default=1000, help="outer steps in all (resume adds)")
    p.add_argument("--log-every", type=int, default=25, help="steps per line of metrics.jsonl")
    p.add_argument("--checkpoint-dir", type=Path, help="save and resume here (and metrics.jsonl)")
    p.add_argument("--save-every", type=int, default=100, help="steps between checkpoints")
    p.add_argument("--export", type=Path, help="write the result to this file")
    p.add_argument("--name", help="the card's name (default: the export file's stem)")
    args = p.parse_args(argv)

    began = time.perf_counter()
    images = meta.image_folder(args.data, args.size, limit=args.limit)
    print(f"{len(images)} images from {args.data} at {args.size}x{args.size}", flush=True)
    config = meta.MetaConfig(
        method=args.method,
        inner_steps=args.inner_steps,
        inner_lr=args.inner_lr,
        learn_rates=not args.fixed_rates and args.method != "reptile",
        batch_size=args.batch_size,
        steps=args.steps,
        log_every=args.log_every,
    )
    checkpoints = None
    if args.checkpoint_dir:
        checkpoints = inr.Checkpoints(args.checkpoint_dir, save_every=args.save_every)
    side = f"{args.size}x{args.size}"
    given = sys.argv[1:] if argv is None else argv
    device = inr.distributed.make_mesh().devices.flat[0]
    where = f"{os.cpu_count()}-core CPU" if device.platform == "cpu" else device.device_kind
    card = {
        "name": args.name or (args.export.stem if args.export else args.kind),
        "data": f"{args.data.name} ({len(images)} images, centred square crop, {side})",
        "licence": LICENCE["celeba"] if "celeba" in str(args.data) else "as the training data's",
        "command": "python examples/train_meta.py " + " ".join(given),
        "machine": f"{platform.machine()}, {where}, jax {jax.__version__}",
    }
    model = network(args.kind, args.width, args.depth, args.latent)
    warm = starting_point(args, card)
    result = meta.meta_train(images, model=model, optimizer=optax.adam(args.outer_lr),
                             config=config, checkpoints=checkpoints, progress=True,
                             card=card, start=warm)  # fmt: skip
    seconds = time.perf_counter() - began
    print(f"{result!r} in {seconds:.0f} s (this piece)", flush=True)
    if args.export:
        save = meta.save_functa if args.kind == "functa" else meta.save_init
        print("wrote", save(args.export, result))


if __name__ == "__main__":
    main()

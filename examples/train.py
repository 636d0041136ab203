"""Train a restorator from folders of images (a command line over inr.train_restorator).

    python examples/train.py --task restore --data ../shared/data/bsd68 ../shared/data/sun_hays80 \
        --steps 3000 --checkpoint-dir runs/restore --export restore.msgpack

Without ``--data`` it trains on three built-in photos (a quick look, not a
useful model). It saves the weights (``--export``, default
``outputs/restorator.msgpack``) and a figure beside them: a built-in photo
the model did not see as its input, the bicubic baseline, the model's
output and the truth.

Interrupt it at any time and run the same command again: it resumes from
the latest checkpoint and ends with the same weights.

It trains data parallel on every device it sees (``--devices`` for fewer).
On several hosts run the same command on each, adding
``--coordinator HOST:PORT --num-processes N --process-id I`` (or setting
``JAX_COORDINATOR_ADDRESS``, ``JAX_NUM_PROCESSES`` and ``JAX_PROCESS_ID``;
on a TPU pod slice ``INR_DISTRIBUTED=1`` lets JAX find the others itself).
Each host reads every N-th file; ``--checkpoint-dir`` must be a folder all
hosts share.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

import jax
from _figures import plt, save_figure, show

import inr

_BUILT_IN = ("coffee", "chelsea", "rocket")  # the default training photos
_UNSEEN = "astronaut"  # the figure's photo, never a default training one


def _from_args(cls, args, **overrides):
    """A config dataclass from the given options named like its fields, and ``overrides``."""
    names = {field.name for field in dataclasses.fields(cls)}
    given = {k: v for k, v in vars(args).items() if k in names and v is not None}
    return cls(**{**given, **overrides})


def main(argv=None):
    args = parser().parse_args(argv)
    # Before any other JAX call: a multi-host job must be joined first.
    inr.distributed.initialize(args.coordinator, args.num_processes, args.process_id)
    lead = jax.process_index() == 0
    config, init = _model(args)
    checkpoints = None
    if args.checkpoint_dir:
        checkpoints = inr.Checkpoints(
            args.checkpoint_dir, save_every=args.save_every, resume=not args.no_resume
        )
    start = time.perf_counter()
    data = (
        inr.restorator.data.expand_sources(args.data)[: args.limit]
        if args.data
        else [inr.sample_image(name) for name in _BUILT_IN]
    )
    model = inr.train_restorator(
        data,
        config,
        _recipe(args),
        init=init,
        checkpoints=checkpoints,
        validation=args.validation,
        progress=lead,
        mesh=args.devices,
    )
    if lead:
        print(f"trained in {time.perf_counter() - start:.0f} s on {jax.device_count()} devices")
        print(f"wrote {inr.save_restorator(args.export, model).resolve()}", flush=True)
    panels = at_work(model)  # on every host: a render is one job across hosts
    if lead:
        fig, axes = plt.subplots(1, len(panels), figsize=(3 * len(panels), 3.4))
        for ax, (image, title) in zip(axes, panels, strict=True):
            show(ax, image, title, interpolation="nearest" if "input" in title else None)
        save_figure(fig, Path(args.export).with_suffix(".png"))
    return model


def parser() -> argparse.ArgumentParser:
    """The command line, in four groups of flags."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    for add in (_data_args, _architecture_args, _reference_args, _run_args):
        add(p.add_argument_group(add.__doc__.rstrip(".")))
    return p


def _model(args) -> tuple:
    """``(config, init)``: the architecture from the flags, or from ``--init``'s weights."""
    features = tuple(int(f) for f in args.features.split(","))
    texture = tuple(int(f) for f in args.texture.split(","))
    config = _from_args(inr.RestoratorConfig, args, features=features, texture=texture)
    if args.preset:
        config = dataclasses.replace(config, **inr.restorator.PRESETS[args.preset])
    init = None if args.init is None else inr.load_restorator(args.init)
    if init is not None and args.decoding == "diffusion" and init.config.decoding == "single":
        # A diffusion model that starts as the trained single pass (convert's docstring).
        init = inr.restorator.to_diffusion(init)
    if init is not None and args.residual_blocks:
        size = {"input_size": args.input_size} if init.config.task == "upscale" else {}
        init = inr.restorator.deepen(init, args.residual_blocks, **size)
    if init is not None:
        config = init.config
    # The search window has no parameters, so a fine-tune may change it.
    radius = {} if args.search_radius is None else {"search_radius": args.search_radius}
    return dataclasses.replace(config, **radius), init


def _recipe(args) -> inr.TrainConfig:
    """The training recipe (examples, optimizer, loss) from the flags."""
    masking = args.masking
    if masking is not None and masking.isdigit():
        masking = int(masking)
    weights = {"perceptual": args.perceptual, "adversarial": args.adversarial}
    terms = {
        name: None if w is None else getattr(inr.restorator, name.title())(w)
        for name, w in weights.items()
    }
    # The restorator's task and input size are the config's (or --init's).
    examples = _from_args(
        inr.restorator.Examples, args, masking=masking, task=None, input_size=None
    )
    optimizer = inr.restorator.restorator_optimizer(
        args.steps, args.lr, clip=args.clip or None, weight_decay=args.weight_decay,
        schedule=args.schedule,
    )  # fmt: skip
    loss = inr.restorator.Loss(args.loss, **terms)
    return _from_args(inr.TrainConfig, args, examples=examples, optimizer=optimizer, loss=loss)


def _data_args(p) -> None:
    """Training data, examples, optimizer and loss."""
    p.add_argument("--data", nargs="+", help="folders or image files (default: built-in photos)")
    p.add_argument("--task", default="restore", choices=inr.restorator.TASKS, help="what to learn")
    p.add_argument("--input-size", type=int, default=64, help="side of the small input")
    p.add_argument("--steps", type=int, default=3000, help="training steps in all")
    p.add_argument("--batch-size", type=int, default=16, help="images per step")
    p.add_argument(
        "--points", dest="points_per_image", type=int, default=1024, help="query points per image"
    )
    p.add_argument("--lr", type=float, default=1e-3, help="Adam's peak rate")
    p.add_argument(
        "--schedule", default="cosine", choices=("cosine", "constant"),
        help="the rate: warm-up then cosine decay to 1%%, or constant",
    )  # fmt: skip
    p.add_argument("--clip", type=float, default=1.0, help="gradient norm clip (0: none)")
    p.add_argument("--weight-decay", type=float, default=0.0, help="AdamW's decay (0: Adam)")
    p.add_argument("--loss", default="l1", choices=("l1", "l2"), help="the pointwise error")
    p.add_argument("--masking", default=None, help="grid size k, 'uniform' or 'dynamic'")
    p.add_argument("--max-scale", type=float, default=4.0, help="largest upscaling factor drawn")
    p.add_argument(
        "--crop", default="random", choices=inr.restorator.examples.CROPS,
        help="where each training crop is taken",
    )  # fmt: skip
    p.add_argument(
        "--downscale", default="bicubic", choices=inr.restorator.examples.DOWNSCALES,
        help="the filter that makes the small input",
    )  # fmt: skip
    p.add_argument(
        "--query",
        default="uniform",
        choices=inr.restorator.examples.QUERIES,
        help="training points: uniform (bilinear targets), pixel centres, or a square patch",
    )
    p.add_argument(
        "--pipeline", default="device", choices=inr.restorator.PIPELINES,
        help="batches drawn inside jit on the device, or on a host thread",
    )  # fmt: skip
    p.add_argument("--validation", nargs="*", default=None, help="held-out folders or files")
    p.add_argument("--validate-every", type=int, default=500, help="steps between validations")
    p.add_argument("--limit", type=int, default=None, help="train on the first N files only")
    p.add_argument("--seed", type=int, default=0, help="initialisation and draws")


def _architecture_args(p) -> None:
    """The encoder and decoder."""
    p.add_argument("--preset", choices=tuple(inr.restorator.PRESETS), help="encoder/decoder sizes")
    p.add_argument(
        "--encoder-activation", default="relu", choices=("relu", "sine", "sine-relu-sine"),
        help="the CNN encoder's",
    )  # fmt: skip
    p.add_argument(
        "--decoder-activation", default="relu", choices=("relu", "sine"), help="decoder MLP's"
    )
    p.add_argument("--features", default="32,64,128", help="encoder channels per scale")
    p.add_argument("--latent", type=int, default=64, help="global latent size")
    p.add_argument(
        "--residual-blocks",
        type=int,
        default=0,
        help="EDSR blocks at the encoder's finest scale; with --init, a body added to its "
        "encoder that starts as the identity (inr.restorator.deepen)",
    )
    p.add_argument("--hidden", type=int, default=192, help="decoder width")
    p.add_argument("--blocks", type=int, default=2, help="decoder residual blocks")
    p.add_argument(
        "--color-space", default="ycbcr", choices=("rgb", "ycbcr"), help="what the decoder predicts"
    )
    p.add_argument(
        "--local-ensemble", action="store_true", help="LIIF's four-cell ensemble (4x the decoder)"
    )
    p.add_argument(
        "--decoding", "--restorator", default="single", choices=inr.restorator.DECODINGS,
        help="one decoder pass per point, or a per-point diffusion",
    )  # fmt: skip
    p.add_argument(
        "--prediction", default="x0", choices=("epsilon", "x0", "v"), help="the diffusion target"
    )


def _reference_args(p) -> None:
    """TTSR's texture transfer and its loss terms."""
    p.add_argument("--reference", action="store_true", help="TTSR's texture transfer")
    p.add_argument("--texture", default="32,32,32", help="reference texture channels per scale")
    p.add_argument(
        "--search-radius",
        type=int,
        default=None,
        help="reference search window in input cells (0: everywhere); overrides --init's",
    )
    p.add_argument(
        "--reference-dropout", type=float, default=0.2, help="share of examples with no reference"
    )
    p.add_argument("--self-reference", type=float, default=0.0, help="share of own-crop references")
    p.add_argument(
        "--perceptual",
        type=float,
        default=None,
        help="weight of TTSR's perceptual term on the model's texture extractor "
        "(reference models; needs --query patch)",
    )
    p.add_argument(
        "--adversarial",
        type=float,
        default=None,
        help="weight of TTSR's adversarial term, WGAN-GP (needs --query patch)",
    )


def _run_args(p) -> None:
    """Fine-tuning, checkpoints, export, devices and hosts."""
    p.add_argument(
        "--init",
        default=None,
        help="fine-tune these weights (pretrained:NAME, a .msgpack file or a checkpoint "
        "folder); their architecture and task replace the flags above, except that "
        "--decoding diffusion turns a single pass into a diffusion model and "
        "--residual-blocks deepens its encoder (an upscaler's at --input-size)",
    )
    p.add_argument("--checkpoint-dir", help="save here, and resume from here")
    p.add_argument("--no-resume", action="store_true", help="start afresh in --checkpoint-dir")
    p.add_argument("--save-every", type=int, default=250, help="steps between checkpoints")
    p.add_argument(
        "--export", default="outputs/restorator.msgpack",
        help="the final weights; a figure of the model at work goes beside them (.png)",
    )  # fmt: skip
    p.add_argument("--devices", type=int, default=None, help="devices to use (default: all)")
    p.add_argument("--shard-params", action="store_true", help="FSDP-style parameter sharding")
    p.add_argument("--coordinator", default=None, help="HOST:PORT of process 0 (multi-host)")
    p.add_argument("--num-processes", type=int, help="hosts in all (multi-host)")
    p.add_argument("--process-id", type=int, help="this host's index (multi-host)")


def at_work(model) -> list:
    """``(image, title)``: input, bicubic, the model's output and the truth, on an unseen photo."""
    truth = inr.sample_image(_UNSEEN)[..., :3]
    n, task = model.config.input_size, model.config.task
    small = inr.resize(truth, (n, n))
    given = small if task == "upscale" else inr.rgb_to_gray(small)
    side = (4 * n, 4 * n)
    bicubic = inr.resize(given, side)
    return [
        (given, f"input {n}x{n}"),
        (bicubic, "bicubic"),
        (model.restore(given, size=side), f"{model.config.task}, {side[0]}x{side[1]}"),
        (inr.resize(truth, side), "truth"),
    ]


if __name__ == "__main__":
    main()

"""The codec's command line: ``python -m inr.codec encode | decode | info``.

    python -m inr.codec encode photo.png photo.inr --bpp 0.5
    python -m inr.codec encode photo.png photo.inr --quality 60 --preset slow
    python -m inr.codec decode photo.inr out.png --size 1024 1536
    python -m inr.codec decode photo.inr crop.png --size 512 512 --region 0.25 0.25 0.5 0.5
    python -m inr.codec info photo.inr

Images are PNG, JPEG or any format ``inr.load_image`` reads; audio is WAV
(the ``audio`` extra; its rate travels in the file); a volume is a ``.npy``
array ``(D, H, W[, C])``.  Encoding prints its progress.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from inr._atomic import atomic_write
from inr.codec.api import PRESETS, decode, encode, info

_AUDIO, _VOLUME = (".wav",), (".npy",)


def _read(path: Path):
    """``(signal, dims, metadata)`` of an input file, by its suffix."""
    suffix = path.suffix.lower()
    if suffix in _AUDIO:
        from inr.media import load_audio

        samples, rate = load_audio(path)
        return samples, 1, {"kind": "audio", "rate": rate}
    if suffix in _VOLUME:
        volume = np.load(path, allow_pickle=False)
        return volume, 3, {"kind": "volume", "dtype": str(volume.dtype)}
    from inr.io import load_image

    return load_image(path), 2, {"kind": "image"}


def _write(path: Path, signal: np.ndarray, metadata: dict) -> None:
    suffix = path.suffix.lower()
    if suffix in _AUDIO:
        from inr.media import save_audio

        save_audio(path, signal, int(metadata.get("rate", 44100)))
    elif suffix in _VOLUME:
        atomic_write(path, lambda tmp: np.save(tmp, signal))
    else:
        from inr.io import save_image

        save_image(path, signal)


def _encode(args) -> int:
    signal, dims, metadata = _read(Path(args.input))
    preset = PRESETS[args.preset]
    preset = preset if args.steps is None else preset.replace(steps=args.steps)
    start = time.perf_counter()
    data = encode(signal, quality=args.quality, bpp=args.bpp, preset=preset, dims=dims,
                  progress=not args.quiet, metadata=metadata)  # fmt: skip
    atomic_write(args.output, lambda tmp: Path(tmp).write_bytes(data))
    samples = int(np.prod(np.shape(signal)[:dims]))
    print(f"wrote {args.output}: {len(data)} bytes, {8 * len(data) / samples:.4f} bits per "
          f"sample, {time.perf_counter() - start:.0f} s")  # fmt: skip
    return 0


def _decode(args) -> int:
    data = Path(args.input).read_bytes()
    start = time.perf_counter()
    signal = decode(data, size=args.size, region=args.region)
    _write(Path(args.output), signal, info(data).get("metadata", {}))
    print(f"wrote {args.output}: {signal.shape}, {time.perf_counter() - start:.2f} s")
    return 0


def _info(args) -> int:
    print(json.dumps(info(Path(args.input).read_bytes()), indent=1))
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m inr.codec", description=__doc__.split("\n")[0])
    commands = p.add_subparsers(dest="command", required=True)
    e = commands.add_parser("encode", help="a signal file to a codec file")
    e.add_argument("input", help="an image, a .wav or a .npy volume")
    e.add_argument("output", help="the codec file to write")
    rate = e.add_mutually_exclusive_group()
    rate.add_argument("--quality", type=float, help="0 (smallest) to 100 (best); default 50")
    rate.add_argument("--bpp", type=float, help="bits per pixel (per sample) to aim at")
    e.add_argument("--preset", choices=sorted(PRESETS), default="default",
                   help="the model and recipe (slow: better, several times longer)")  # fmt: skip
    e.add_argument("--steps", type=int, help="optimisation steps (default: the preset's)")
    e.add_argument("--quiet", action="store_true", help="no progress lines")
    e.set_defaults(run=_encode)
    d = commands.add_parser("decode", help="a codec file to a signal file")
    d.add_argument("input", help="the codec file")
    d.add_argument("output", help="the file to write (.png, .wav, .npy, ...)")
    d.add_argument("--size", type=int, nargs="+", help="the size to render, one per axis")
    d.add_argument("--region", type=float, nargs="+",
                   help="a box of fractions, lower corner then upper (x0 y0 x1 y1)")  # fmt: skip
    d.set_defaults(run=_decode)
    i = commands.add_parser("info", help="print a codec file's header")
    i.add_argument("input", help="the codec file")
    i.set_defaults(run=_info)
    return p


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.run(args)
    except ValueError as exc:  # bad input or a bad file: one line, not a traceback
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

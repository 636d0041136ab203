"""The codec's configurations side by side on the tuning photos: ``D + lambda R`` of each.

How a preset's choices were made (``inr.codec.PRESETS``): every
``--configs`` entry (a JSON object of ``inr.codec.CodecConfig`` fields; ``{}``
is the config's defaults) encodes every photo at every quality and seed,
and the table gives the cost the fit minimises, measured on the file:

    J = D + lambda R,   D = the decoded 8-bit photo's mean squared error ([0, 1] values),
                        R = 8 * len(file) / pixels,  lambda = inr.codec.weight_of(quality),

with each config's ratio to the first's on the same photo, quality and seed
(below 1: better).  Tune on photos you do not report (``benchmarks/codec.py``
leaves these out with ``--skip``)::

    python benchmarks/codec_tuning.py \\
        --photos ../shared/data/sun_hays80/aqueduct_sun_ancegghzusmmvzjn.jpg \\
        --size 384 256 --qualities 10 25 40 55 --seeds 0 1 \\
        --configs '{}' '{"hidden": [16]}'
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from _timing import RESULTS, host, print_table, write_json
from codec import codec_point, load

from inr import codec


def config_of(text: str) -> codec.CodecConfig:
    """A :class:`~inr.codec.CodecConfig` from a JSON object of its fields (lists as tuples)."""
    fields = json.loads(text)
    if not isinstance(fields, dict):
        raise ValueError(f"--configs takes JSON objects of CodecConfig fields; got {text!r}")
    return codec.CodecConfig(**{k: tuple(v) if isinstance(v, list) else v
                                for k, v in fields.items()})  # fmt: skip


def cost(image: np.ndarray, quality: float, config: codec.CodecConfig, seed: int) -> dict:
    """One encode's rate, PSNR, ``J`` (in units of 1e-3) and encode seconds."""
    point = codec_point(image, quality, config=config, seed=seed)
    mse = 10.0 ** (-point["PSNR"] / 10.0)  # of the 8-bit decode on [0, 1]
    return {**{k: point[k] for k in ("bpp", "PSNR", "encode s")},
            "J 1e-3": float(1e3 * (mse + codec.weight_of(quality) * point["bpp"]))}  # fmt: skip


def main(argv=None):
    args = parser().parse_args(argv)
    configs = [(text, config_of(text)) for text in args.configs]
    machine, rows = host(), []
    for path in map(Path, args.photos):
        image = load(path, tuple(args.size))
        for quality in args.qualities:
            for seed in args.seeds:
                first = None
                for text, config in configs:
                    row = {"photo": path.name, "config": text, "quality": quality, "seed": seed,
                           **cost(image, quality, config, seed)}  # fmt: skip
                    first = row["J 1e-3"] if first is None else first
                    rows.append({**row, "J / first": row["J 1e-3"] / first})
                    print(rows[-1], flush=True)
    columns = ["photo", "config", "quality", "seed", "bpp", "PSNR", "J 1e-3", "J / first",
               "encode s"]  # fmt: skip
    table = print_table(rows, columns)
    path = Path(args.json)
    write_json(path, {"settings": {**vars(args), "json": path.name}, "host": machine,
                      "rows": rows, "table": table})  # fmt: skip


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--photos", nargs="+", required=True, help="the tuning photos (files)")
    p.add_argument("--size", type=int, nargs=2, default=[384, 256], help="width, height")
    p.add_argument("--qualities", type=float, nargs="+", default=[10, 25, 40, 55],
                   help="the codec's quality settings")  # fmt: skip
    p.add_argument("--seeds", type=int, nargs="+", default=[0], help="each encode's seed")
    p.add_argument("--configs", nargs="+", default=["{}", '{"hidden": [16]}'],
                   help="JSON objects of CodecConfig fields, the first the baseline")  # fmt: skip
    p.add_argument("--json", default=str(RESULTS / "codec_tuning.json"), help="the results")
    return p


if __name__ == "__main__":
    main()

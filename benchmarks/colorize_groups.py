"""The face colorizer's error and its skin-tone guesses, by the skin tone of the truth.

CelebA has no skin-tone labels, so each validation face is grouped by the
Individual Typology Angle (ITA, Chardon et al. 1991) of its true colours,
``ITA = atan((L* - 50) / b*)`` in degrees, from the median CIELAB ``L*``
and ``b*`` of a central box of the crop (rows 45-70%, columns 30-70%: the
cheeks and nose of an aligned face; hair, glasses or shadow there move a
face's group).  Bands are Del Bino et al.'s: very light > 55, light
41-55, intermediate 28-41, tan 10-28, brown -30-10, dark < -30.

Per band, under FranNet's protocol (:mod:`inr.restorator.frannet`): the
faces, the model's RGB MSE over the gray oracle's, and the ITA of the
model's output in the same box beside the truth's: the tone the model
guesses for a face it sees in gray.

    python benchmarks/colorize_groups.py --data ../shared/data/celeba/val
"""

from __future__ import annotations

import argparse

import numpy as np
from _timing import RESULTS, print_table, write_json
from skimage.color import rgb2lab

import inr
from inr.restorator.data import expand_sources, load_images
from inr.restorator.frannet import oracle, protocol_example

BANDS = (  # (name, lowest ITA) from the lightest down
    ("very light", 55.0),
    ("light", 41.0),
    ("intermediate", 28.0),
    ("tan", 10.0),
    ("brown", -30.0),
    ("dark", -np.inf),
)


def ita(image: np.ndarray) -> float:
    """The ITA in degrees of the central box of an aligned face crop."""
    h, w = image.shape[:2]
    box = image[int(0.45 * h) : int(0.70 * h), int(0.30 * w) : int(0.70 * w)]
    lab = rgb2lab(np.clip(box, 0.0, 1.0))
    lightness, yellow = np.median(lab[..., 0]), np.median(lab[..., 2])
    return float(np.degrees(np.arctan2(lightness - 50.0, yellow)))


def band(angle: float) -> str:
    return next(name for name, lowest in BANDS if angle > lowest)


def score(model, data, limit) -> list[dict]:
    """Per face: its band, the model's and the oracle's RGB MSE, the true and guessed ITA."""
    faces = []
    for photo in load_images(expand_sources(data)[:limit]):
        gray, target = protocol_example(photo)
        side = target.shape[0]
        out = np.clip(model.restore(gray, size=(side, side)), 0.0, 1.0)
        true_ita = ita(target)
        faces.append(
            {
                "band": band(true_ita),
                "mse": inr.mse(out, target),
                "oracle_mse": inr.mse(oracle(gray, side), target),
                "true_ita": true_ita,
                "output_ita": ita(out),
            }
        )
    return faces


def summary(faces: list[dict]) -> list[dict]:
    rows = []
    for name, _ in BANDS:
        group = [f for f in faces if f["band"] == name]
        if not group:
            continue
        mean = {k: float(np.mean([f[k] for f in group])) for k in group[0] if k != "band"}
        rows.append(
            {
                "band": name,
                "faces": len(group),
                "ratio": mean["mse"] / mean["oracle_mse"],
                "true ITA": mean["true_ita"],
                "output ITA": mean["output_ita"],
                "ITA shift": mean["output_ita"] - mean["true_ita"],
            }
        )
    return rows


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", required=True, help="aligned faces never trained on (celeba/val)")
    p.add_argument("--model", default="pretrained:celeba", help="the colorizer scored")
    p.add_argument("--limit", type=int, help="score the first N faces only")
    p.add_argument(
        "--json", default=str(RESULTS / "colorize_groups.json"), help="where the results go"
    )
    args = p.parse_args()
    faces = score(inr.load_restorator(args.model), args.data, args.limit)
    rows = summary(faces)
    columns = ["band", "faces", "ratio", "true ITA", "output ITA", "ITA shift"]
    table = print_table(rows, columns)
    write_json(args.json, {"model": args.model, "data": args.data, "rows": rows, "table": table})


if __name__ == "__main__":
    main()

"""The codec against JPEG, WebP, JPEG 2000 and AVIF on natural photos, in one process.

Each photo is centre-cropped to the target's aspect and resized (Lanczos)
to ``--size``, then coded:

* by ``inr.codec.encode`` at each ``--qualities`` (the ``--preset``),
  decoded by ``inr.codec.decode`` and rounded to 8 bits as a viewer would
  save it; the rate is the file, ``8 * len(bytes) / pixels``;
* by Pillow's JPEG (quality 5-95, 4:2:0), WebP (``method=6``), JPEG 2000
  (OpenJPEG, the 9/7 wavelet with its colour transform ``mct=1``, rates
  swept) and AVIF (``speed=4``), each over its quality range.

PSNR is RGB over the whole picture (8-bit values).  The Bjontegaard delta
rate of the codec against each peer (Bjontegaard 2001: log rate against
PSNR, interpolated and integrated over the PSNR interval both cover, within
``--range`` bits per pixel) is computed per photo and averaged, both with
the original cubic fits and with the piecewise cubic (PCHIP) interpolation
of the JCT-VC common test conditions (``bd_rate``); negative means fewer
bits for the same PSNR.  ``--volume`` adds the stent volume's
curve against per-slice JPEG 2000 at equal bytes, ``--audio`` a WAV's
against the Opus and MP3 that ``soundfile`` writes.  Encode and decode
seconds are wall times on this host, whose SIREN step is in the JSON.

Usage: python benchmarks/codec.py --photos ../shared/data/sun_hays80 ../shared/data/bsd68
           [--count 2] [--skip NAME ...] [--size 768 512] [--qualities 25 40 55 70]
           [--preset default] [--volume ../shared/data/signals/stent.npy]
           [--audio ../shared/data/signals/bach.wav] [--json PATH] [--reuse PATH ...]
"""

from __future__ import annotations

import argparse
import io
import json
import time
from pathlib import Path

import numpy as np
from _timing import RESULTS, host, print_table, write_json

import inr
from inr import codec

PEERS = ("JPEG", "WebP", "JPEG 2000", "AVIF")
METHODS = ("cubic", "pchip")  # the delta rate's interpolations (bd_rate)


def load(path: Path, size: tuple[int, int]) -> np.ndarray:
    """An RGB photo, centre-cropped to the aspect of ``size`` (width, height), uint8."""
    from PIL import Image

    image = Image.open(path).convert("RGB")
    w, h = image.size
    aspect = size[0] / size[1]
    if w / h > aspect:
        cut = round(h * aspect)
        image = image.crop(((w - cut) // 2, 0, (w - cut) // 2 + cut, h))
    else:
        cut = round(w / aspect)
        image = image.crop((0, (h - cut) // 2, w, (h - cut) // 2 + cut))
    return np.asarray(image.resize(size, Image.LANCZOS))


def psnr8(a: np.ndarray, b: np.ndarray) -> float:
    err = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float(10 * np.log10(255.0**2 / max(err, 1e-12)))


def _settings(name: str):
    """``(Pillow format, [save keywords, ...])`` over the peer's quality range."""
    if name == "JPEG":
        return "JPEG", [{"quality": q, "subsampling": 2} for q in range(5, 96, 3)]
    if name == "WebP":
        return "WEBP", [{"quality": q, "method": 6} for q in range(0, 101, 4)]
    if name == "AVIF":
        return "AVIF", [{"quality": q, "speed": 4} for q in range(0, 101, 5)]
    rates = np.geomspace(6.0, 240.0, 24)  # compression ratios: 4 to 0.1 bits per pixel
    return "JPEG2000", [{"quality_mode": "rates", "quality_layers": [float(r)],
                         "irreversible": True, "mct": 1} for r in rates]  # fmt: skip


def peer_curve(name: str, image: np.ndarray) -> list[tuple[float, float]]:
    """``[(bpp, PSNR)]`` of a Pillow codec over its quality range."""
    from PIL import Image

    fmt, options = _settings(name)
    pixels, out = image.shape[0] * image.shape[1], []
    for kw in options:
        buffer = io.BytesIO()
        Image.fromarray(image).save(buffer, fmt, **kw)
        decoded = np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"))
        out.append((8 * buffer.tell() / pixels, psnr8(decoded, image)))
    return sorted(set(out))


def codec_point(image: np.ndarray, quality: float, **options) -> dict:
    """One encode at ``quality`` (``options``: ``encode``'s ``preset``, ``config``, ``seed``)."""
    start = time.perf_counter()
    data = codec.encode(image, quality=quality, **options)
    encode_s = time.perf_counter() - start
    start = time.perf_counter()
    decoded = codec.decode(data)
    decode_s = time.perf_counter() - start
    out = np.round(np.clip(decoded, 0, 1) * 255).astype(np.uint8)
    pixels = image.shape[0] * image.shape[1]
    return {"quality": quality, "bpp": 8 * len(data) / pixels, "PSNR": psnr8(out, image),
            "encode s": encode_s, "decode s": decode_s}  # fmt: skip


def bd_rate(ours, theirs, lo: float, hi: float, method: str = "cubic") -> float | None:
    """Bjontegaard delta rate (%) of curve ``ours`` against ``theirs`` (``[(bpp, PSNR)]``).

    Each curve's log rate, a function of PSNR, is interpolated through its
    points within the rate range and the nearest point on either side of it
    (so four points spanning the range suffice), and integrated over the
    PSNR interval that both curves cover inside the range.  ``method``:
    ``"cubic"``, one cubic polynomial per curve (Bjontegaard 2001, VCEG-M33);
    ``"pchip"``, piecewise cubic Hermite interpolation, as the JCT-VC common
    test conditions' sheet computes it: local, so a point outside the range
    moves only the piece beside it, where one cubic through every point
    bends with it.
    """

    def fit(curve):
        curve = sorted(curve)
        inside = [i for i, (r, _) in enumerate(curve) if lo <= r <= hi]
        if len(inside) < 2:
            return None
        kept = np.array(curve[max(inside[0] - 1, 0) : inside[-1] + 2])
        if len(kept) < 4:
            return None
        quality = np.array([curve[i][1] for i in inside])
        return _integral(kept[:, 1], np.log(kept[:, 0]), method), quality.min(), quality.max()

    a, b = fit(ours), fit(theirs)
    if a is None or b is None or min(a[2], b[2]) <= max(a[1], b[1]):
        return None
    low, high = max(a[1], b[1]), min(a[2], b[2])
    area = [integral(low, high) for integral, _, _ in (a, b)]
    return float(100 * (np.exp((area[0] - area[1]) / (high - low)) - 1))


def _integral(psnr: np.ndarray, log_rate: np.ndarray, method: str):
    """``(a, b) -> the integral of log rate over PSNR in [a, b]`` of one curve's interpolant."""
    if method == "cubic":
        antiderivative = np.polyint(np.polyfit(psnr, log_rate, 3))
        return lambda a, b: np.polyval(antiderivative, b) - np.polyval(antiderivative, a)
    if method != "pchip":
        raise ValueError(f"method must be 'cubic' or 'pchip'; got {method!r}")
    from scipy.interpolate import PchipInterpolator

    # Piecewise in PSNR: the points in PSNR order, one per PSNR (a peer's repeated setting).
    psnr, first = np.unique(psnr, return_index=True)
    return PchipInterpolator(psnr, log_rate[first]).integrate


def photo_rows(paths, size, qualities, preset, limits, reuse) -> tuple[list, dict]:
    rows, deltas = [], {(p, m): [] for p in PEERS for m in METHODS}
    for path in paths:
        image = load(path, size)
        ours = sorted((r for r in reuse if r["photo"] == path.name and r["codec"] == "inr"),
                      key=lambda r: r["quality"])  # fmt: skip
        if not ours:
            ours = [codec_point(image, q, preset=preset) for q in qualities]
        for point in ours:
            rows.append({**point, "photo": path.name, "codec": "inr"})
            print(rows[-1], flush=True)
        curve = [(r["bpp"], r["PSNR"]) for r in ours]
        for name in PEERS:
            theirs = peer_curve(name, image)
            for method in METHODS:
                deltas[name, method].append(bd_rate(curve, theirs, *limits, method))
            rows += [{"photo": path.name, "codec": name, "bpp": r, "PSNR": p} for r, p in theirs]
    return rows, deltas


def _aligned(decoded: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """``decoded`` shifted by the lag (encoder delay) that best matches ``truth``, cut to it."""
    n, best = len(truth), (0, -np.inf)
    for lag in range(0, min(4096, len(decoded) - n + 1)):
        score = float(np.dot(decoded[lag : lag + 4096, 0], truth[:4096, 0]))
        best = max(best, (lag, score), key=lambda b: b[1])
    return decoded[best[0] : best[0] + n]


def audio_curve(samples: np.ndarray, rate: int, fmt: str) -> list[tuple[float, float]]:
    """``[(bits per sample, PSNR)]`` of MP3 or Opus as ``soundfile`` writes them."""
    import soundfile as sf
    from scipy.signal import resample_poly

    up, down = (160, 147) if fmt == "Opus" and rate == 44100 else (1, 1)
    source = resample_poly(samples, up, down, axis=0).astype(np.float32)
    out = []
    for level in np.linspace(0.0, 0.9, 10):  # libsndfile refuses 1.0 for MP3
        buffer = io.BytesIO()
        kind = ("OGG", "OPUS") if fmt == "Opus" else ("MP3", "MPEG_LAYER_III")
        sf.write(buffer, source, rate * up // down, format=kind[0], subtype=kind[1],
                 compression_level=float(level))  # fmt: skip
        size = buffer.tell()
        buffer.seek(0)
        decoded, _ = sf.read(buffer, dtype="float32", always_2d=True)
        decoded = resample_poly(decoded, down, up, axis=0)
        decoded = _aligned(decoded, samples)
        out.append((8 * size / len(samples), inr.psnr(decoded, samples, value_range=(-1, 1))))
    return sorted(out)


def audio_rows(path: Path, qualities, preset) -> list[dict]:
    samples, rate = inr.load_audio(path)
    rows = []
    for q in qualities:
        data = codec.encode(samples, quality=q, preset=preset, dims=1)
        psnr = inr.psnr(codec.decode(data), samples, value_range=(-1, 1))
        rows.append({"signal": path.name, "codec": "inr", "quality": q,
                     "bits/sample": 8 * len(data) / len(samples), "PSNR": psnr})  # fmt: skip
    for fmt in ("MP3", "Opus"):
        rows += [{"signal": path.name, "codec": fmt, "bits/sample": b, "PSNR": p}
                 for b, p in audio_curve(samples, rate, fmt)]  # fmt: skip
    return rows


def volume_rows(path: Path, slices: int, qualities, preset) -> list[dict]:
    """The stent's first ``slices`` slices: the codec, and per-slice 16-bit JPEG 2000."""
    from PIL import Image

    volume = np.load(path)[:slices].astype(np.int32)
    lo, hi = float(volume.min()), float(volume.max())
    score = lambda v: inr.psnr(v, volume.astype(np.float32), value_range=(lo, hi))  # noqa: E731
    rows = []
    for q in qualities:
        data = codec.encode(volume.astype(np.float32), quality=q, preset=preset, dims=3)
        rows.append({"signal": path.name, "codec": "inr", "quality": q,
                     "bytes": len(data), "PSNR": score(codec.decode(data))})  # fmt: skip
    for ratio in np.geomspace(8.0, 400.0, 12):
        total, decoded = 0, []
        for s in volume:
            buffer = io.BytesIO()
            Image.fromarray(s.astype(np.uint16)).save(
                buffer, "JPEG2000", quality_mode="rates", quality_layers=[float(ratio)],
                irreversible=True)  # fmt: skip
            total += buffer.tell()
            decoded.append(np.asarray(Image.open(io.BytesIO(buffer.getvalue())), np.float32))
        rows.append({"signal": path.name, "codec": "JPEG 2000 per slice", "bytes": total,
                     "PSNR": score(np.stack(decoded))})  # fmt: skip
    return rows


def at_equal_size(rows: list[dict], size: str) -> list[dict]:
    """For each codec point, each peer's PSNR interpolated at the same size."""
    ours = [r for r in rows if r["codec"].startswith("inr")]
    out = []
    for r in ours:
        row = {"size": r[size], "inr PSNR": r["PSNR"]}
        for name in sorted({x["codec"] for x in rows} - {r["codec"]}):
            curve = sorted((x[size], x["PSNR"]) for x in rows if x["codec"] == name)
            xs, ys = zip(*curve, strict=True)
            row[f"{name} PSNR"] = float(np.interp(r[size], xs, ys, left=np.nan, right=np.nan))
        out.append(row)
    return out


def _mean(values) -> float | None:
    kept = [v for v in values if v is not None]
    return float(np.mean(kept)) if kept else None


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--photos", nargs="*", default=[], help="folders of photos")
    p.add_argument("--count", type=int, default=2, help="photos from each folder (sorted names)")
    p.add_argument("--skip", nargs="*", default=[], help="file names left out (the tuning set)")
    p.add_argument("--size", type=int, nargs=2, default=[768, 512], help="width, height")
    p.add_argument("--qualities", type=float, nargs="+", default=[25, 40, 55, 70],
                   help="the codec's quality settings")  # fmt: skip
    p.add_argument("--preset", default="default", choices=sorted(codec.PRESETS),
                   help="the codec's preset")  # fmt: skip
    p.add_argument("--steps", type=int, help="the preset's steps replaced (toy runs)")
    p.add_argument("--range", type=float, nargs=2, default=[0.2, 1.0],
                   help="bits per pixel over which delta rates are taken")  # fmt: skip
    p.add_argument("--volume", help="stent.npy: a volume's curve against per-slice JPEG 2000")
    p.add_argument("--slices", type=int, default=32, help="the volume's first slices coded")
    p.add_argument("--audio", help="a WAV file: its curve against MP3 and Opus")
    p.add_argument("--json", default=str(RESULTS / "codec.json"), help="where the results go")
    p.add_argument("--plot", default=None, help="the figure (default: beside the JSON)")
    p.add_argument("--reuse", nargs="+", default=[],
                   help="JSONs of this script whose codec rows (all of them) are kept for the "
                   "same photos instead of encoding them again (the peers are rerun)")  # fmt: skip
    return p


def main(argv=None):
    args = parser().parse_args(argv)
    paths = []
    for folder in map(Path, args.photos):
        found = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".png", ".jpg", ".jpeg"))
        paths += [p for p in found if p.name not in args.skip][: args.count]
    machine = host()
    preset = codec.PRESETS[args.preset]
    preset = preset if args.steps is None else preset.replace(steps=args.steps)
    extra = photos(paths, args, preset) if paths else {}
    if args.volume:
        extra["volume"] = volume_rows(Path(args.volume), args.slices, args.qualities, preset)
        equal = at_equal_size(extra["volume"], "bytes")
        extra["volume table"] = print_table(equal, list(equal[0]))
    if args.audio:
        extra["audio"] = audio_rows(Path(args.audio), args.qualities, preset)
        equal = at_equal_size(extra["audio"], "bits/sample")
        extra["audio table"] = print_table(equal, list(equal[0]))
    path = Path(args.json)
    write_json(path, {"settings": {**vars(args), "json": path.name}, "host": machine,
                      "photos": [p.name for p in paths], **extra})  # fmt: skip
    if paths:
        plot(extra["rows"], Path(args.plot) if args.plot else path.with_suffix(".png"))


def photos(paths, args, preset) -> dict:
    """The photos' rows, the delta rates against each peer, the codec's times, their tables."""
    reuse = [row for path in args.reuse for row in json.loads(Path(path).read_text())["rows"]]
    rows, deltas = photo_rows(paths, tuple(args.size), args.qualities, preset, args.range, reuse)
    equal = [
        {"photo": path.name, **row}
        for path in paths
        for row in at_equal_size([r for r in rows if r["photo"] == path.name], "bpp")
    ]
    summary = [{"peer": name, "photos": len([d for d in deltas[name, "cubic"] if d is not None]),
                "BD-rate %": _mean(deltas[name, "cubic"]),
                "BD-rate % PCHIP": _mean(deltas[name, "pchip"])} for name in PEERS]  # fmt: skip
    ours = [r for r in rows if r["codec"].startswith("inr")]
    per_photo = {f"bd_rate per photo{'' if m == 'cubic' else ' PCHIP'}":
                 {name: deltas[name, m] for name in PEERS} for m in METHODS}  # fmt: skip
    return {"rows": rows, "bd_rate": summary, **per_photo,
            "encode s mean": float(np.mean([r["encode s"] for r in ours])),
            "decode s mean": float(np.mean([r["decode s"] for r in ours])),
            "equal rate": equal, "equal rate table": print_table(equal, list(equal[0])),
            "table": print_table(summary, ["peer", "photos", "BD-rate %", "BD-rate % PCHIP"]),
            "points": print_table(ours, ["photo", "quality", "bpp", "PSNR", "encode s",
                                         "decode s"])}  # fmt: skip


def plot(rows: list[dict], path: Path) -> None:
    """PSNR against bits per pixel, every photo's curves, one panel per photo."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    photos = sorted({r["photo"] for r in rows})
    fig, axes = plt.subplots(1, len(photos), figsize=(4 * len(photos), 3.2), squeeze=False)
    for ax, photo in zip(axes[0], photos, strict=True):
        for name in sorted({r["codec"] for r in rows}):
            curve = sorted((r["bpp"], r["PSNR"]) for r in rows
                           if r["photo"] == photo and r["codec"] == name)  # fmt: skip
            curve = [c for c in curve if c[0] <= 1.5]
            marker = "o" if name.startswith("inr") else None
            ax.plot(*zip(*curve, strict=True), marker=marker, label=name)
        ax.set(title=photo[:24], xlabel="bits per pixel", ylabel="PSNR (dB)")
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    print(f"wrote {path}", flush=True)


if __name__ == "__main__":
    main()

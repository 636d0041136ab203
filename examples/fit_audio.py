"""Fit a sound with SIREN, a ReLU network with positional encoding and a hash grid.

python examples/fit_audio.py [--audio PATH] [--seconds 1] [--steps 150] [--width 128]
                             [--full] [--out outputs/fit_audio.png]

Writes a figure (a stretch of each waveform and its spectrogram, truth
first) and the hash grid's fit as a WAV file beside it.  Without
``--audio`` it fits a built-in synthetic chord; SIREN's own clip is
``--audio ../shared/data/signals/bach.wav`` in a checkout with the shared
data.  The defaults take under 30 s on a 2-core CPU (the first second of
the clip, SIREN 128 wide); ``--full`` is SIREN's setting (the whole clip,
256 x 3 sine layers with omega_0 = 3000, Adam 1e-4, full batch: hours on a
CPU, minutes on a GPU).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import optax
from _figures import plt, save_figure

import inr

RATE = 22050


def synthetic_chord(seconds: float = 1.0) -> np.ndarray:
    """A decaying A-major chord with vibrato, ``(T, 1)`` in [-1, 1]."""
    t = np.arange(int(seconds * RATE)) / RATE
    tones = [220.0, 277.18, 329.63, 440.0]
    wave = sum(np.sin(2 * np.pi * f * t + 0.3 * np.sin(2 * np.pi * 5 * t)) for f in tones)
    return (0.22 * wave * np.exp(-1.5 * t))[:, None].astype(np.float32)


def models(width: int, steps: int):
    """The three fields side by side: ``{name: (model, optimizer)}``."""
    decay = optax.exponential_decay(3e-2, max(steps, 1), 0.01)
    grid = inr.HashGrid(levels=16, features=2, base_resolution=16, growth=2.0)
    return {
        "SIREN": (inr.Siren(width, 3, 1, first_w0=3000.0), optax.adam(1e-4)),
        "ReLU + PE": (inr.MLP(width, 3, 1, encoding=inr.PositionalEncoding(10)), optax.adam(1e-4)),
        "hash grid": (inr.MLP(64, 0, 1, encoding=grid), optax.adam(decay)),
    }


def parse(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--audio", help="a WAV file (default: a built-in synthetic chord)")
    p.add_argument("--seconds", type=float, help="fit this many seconds from the start (1)")
    p.add_argument("--steps", type=int, help="fitting steps per model (150; --full 1000)")
    p.add_argument("--width", type=int, help="SIREN and ReLU width (128; --full 256)")
    p.add_argument("--full", action="store_true", help="SIREN's setting (see above)")
    p.add_argument("--out", default="outputs/fit_audio.png", help="the figure; the .wav beside")
    args = p.parse_args(argv)
    args.seconds = args.seconds or (None if args.full else 1.0)
    args.steps = args.steps or (1000 if args.full else 150)
    args.width = args.width or (256 if args.full else 128)
    return args


def main(argv=None):
    args = parse(argv)
    audio, rate = inr.load_audio(args.audio) if args.audio else (synthetic_chord(), RATE)
    audio = audio[: int(args.seconds * rate)] if args.seconds else audio
    audio = audio.mean(axis=1, keepdims=True)  # mono
    fits = {}
    for name, (model, optimizer) in models(args.width, args.steps).items():
        print(f"{name}:")
        fit = inr.fit_signal(audio, model=model, optimizer=optimizer, steps=args.steps,
                             value_range=(-1, 1), progress=True)  # fmt: skip
        fits[name] = fit.render(len(audio))
    out = Path(args.out)
    inr.save_audio(out.with_suffix(".wav"), fits["hash grid"], rate)
    fig = figure(audio, fits, rate)
    fig.suptitle(f"{len(audio) / rate:.2f} s at {rate} Hz, {args.steps} steps each", y=1.01)
    save_figure(fig, out)


def figure(audio, fits: dict, rate: int):
    rows = {"truth": audio, **fits}
    fig, axes = plt.subplots(len(rows), 2, figsize=(13, 2.2 * len(rows)), squeeze=False)
    window = slice(len(audio) // 2, len(audio) // 2 + int(0.01 * rate))  # 10 ms
    t = np.arange(window.start, window.stop) / rate * 1000
    for (name, wave), (left, right) in zip(rows.items(), axes, strict=True):
        mse = float(np.mean((wave - audio) ** 2))
        label = name if name == "truth" else f"{name}: MSE {mse:.2e}"
        left.plot(t, audio[window, 0], color="0.7", lw=2)
        left.plot(t, wave[window, 0], lw=1)
        left.set(title=label, xlabel="ms", ylim=(-1, 1))
        right.specgram(wave[:, 0], NFFT=512, Fs=rate, noverlap=384, cmap="magma", vmin=-120)
        right.set(title=f"{name}: spectrogram", xlabel="s", ylabel="Hz")
    fig.tight_layout()
    return fig


if __name__ == "__main__":
    main()

"""SIREN vs ReLU + positional encoding vs plain ReLU on the same image.

Plots PSNR against steps for each, fitted with the same optimiser and
points (learning rates: the paper's 1e-4 for SIREN, 1e-3 for the ReLU nets,
which train poorly at 1e-4).

    python examples/compare_activations.py [--image PATH] [--size 64] [--steps 300]
                                           [--width 128] [--full]
                                           [--out outputs/compare_activations.png]

The defaults take about 20 s on a 2-core CPU; ``--full`` fits 128x128 with
width-256 networks for 500 steps (minutes).
"""

from __future__ import annotations

import optax
from _figures import input_image, parse, parser, plt, save_figure, show

import inr


def main(argv=None):
    quick = dict(size=64, steps=300, width=128)
    full = dict(size=128, steps=500, width=256)
    args = parse(parser(__doc__, "cameraman", quick, full, "outputs/compare_activations.png"), argv)

    img = input_image(args.image, "camera")
    img = inr.resize(img, (args.size, args.size), "bilinear")
    channels = 1 if img.ndim == 2 else img.shape[-1]
    models = {
        "SIREN": (inr.Siren(args.width, out_features=channels), 1e-4),
        "ReLU + positional encoding": (
            inr.MLP(args.width, out_features=channels, encoding=inr.PositionalEncoding(10)),
            1e-3,
        ),
        "ReLU": (inr.MLP(args.width, out_features=channels), 1e-3),
    }
    fig, axes = plt.subplots(1, 4, figsize=(18, 4))
    for ax, (name, (model, lr)) in zip(axes[1:], models.items(), strict=False):
        print(f"fitting {name}")
        tx = optax.adam(lr)
        fit = inr.fit_image(img, model=model, optimizer=tx, steps=args.steps, progress=True)
        axes[0].plot(fit.history["psnr"], label=name)
        out = fit.render(args.size, args.size)
        show(ax, out, f"{name}: {inr.psnr(out, img):.2f} dB")
    axes[0].set(xlabel="step", ylabel="PSNR (dB)", title="PSNR against steps")
    axes[0].legend()
    axes[0].grid(alpha=0.3)
    save_figure(fig, args.out)


if __name__ == "__main__":
    main()

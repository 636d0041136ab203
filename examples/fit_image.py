"""Fit a SIREN to an image and show the fit, its exact gradient and Laplacian.

python examples/fit_image.py [--image PATH] [--size 128] [--steps 300] [--width 128]
                             [--full] [--out outputs/fit_image.png]

The defaults take about 20 s on a 2-core CPU (32 dB on the cameraman);
``--full`` is the paper's setting (256 px, width 256, 500 steps: minutes).
"""

from __future__ import annotations

import numpy as np
from _figures import input_image, parse, parser, plt, save_figure, show

import inr


def main(argv=None):
    quick = dict(size=128, steps=300, width=128)
    full = dict(size=256, steps=500, width=256)
    args = parse(parser(__doc__, "cameraman", quick, full, "outputs/fit_image.png"), argv)

    img = input_image(args.image, "camera")
    if img.ndim == 3:
        img = img[..., :3].mean(-1)
    img = inr.resize(img, (args.size, args.size), "bilinear")
    fit = inr.fit_image(img, model=inr.Siren(args.width), steps=args.steps, progress=True)
    n = args.size
    rendered = fit.render(n, n)
    grad = fit.gradient(n, n)
    lap = fit.laplacian(n, n)

    fig, axes = plt.subplots(1, 5, figsize=(18, 3.6))
    show(axes[0], img, "ground truth")
    show(axes[1], rendered, f"SIREN fit, {inr.psnr(rendered, img):.2f} dB")
    show(axes[2], np.linalg.norm(grad, axis=-1), "|gradient| (autodiff)")
    lim = np.percentile(np.abs(lap), 99)
    show(axes[3], lap, "Laplacian (autodiff)", vmin=-lim, vmax=lim)
    axes[4].plot(fit.history["psnr"])
    axes[4].set(xlabel="step", ylabel="PSNR (dB)", title="training")
    axes[4].grid(alpha=0.3)
    save_figure(fig, args.out)


if __name__ == "__main__":
    main()

"""Fit a SIREN to an image and show the fit, its exact gradient and Laplacian.

python examples/fit_image.py [--image PATH] [--size 256] [--steps 500]
                             [--out outputs/fit_image.png]
"""

from __future__ import annotations

import numpy as np
from _common import input_image, parser, plt, save_figure, show

import inr


def main(argv=None):
    p = parser(__doc__, "cameraman", 256, 500, "outputs/fit_image.png")
    args = p.parse_args(argv)

    img = input_image(args.image, "camera")
    if img.ndim == 3:
        img = img[..., :3].mean(-1)
    img = inr.resize(img, (args.size, args.size), "bilinear")
    fit = inr.fit_image(img, steps=args.steps, progress=True)
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

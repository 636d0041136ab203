"""Fit a face in a few steps from a learned initialisation, and faces as functa latents.

python examples/meta_fit.py [--data ../shared/data/celeba/val] [--faces 4]
                            [--init pretrained:celeba-init] [--functa pretrained:celeba-functa]
                            [--out outputs/meta_fit.png]

Top row: one held-out face fitted by the same SIREN 256 x 3 from the
standard initialisation (the paper's Adam 1e-4) and from the learned one
(SGD at its learned rates), with PSNR against steps.  Bottom row: faces
reconstructed from their functa latents (3 inner steps each, all faces in
one call), and a morph that renders the average of two latents.  Without
``--data`` the face is the astronaut's of scikit-image (with its mirror
image as the second face).  The weights were trained on CelebA at 64x64
(non-commercial research use only).  Takes under 30 s on a 2-core CPU.
"""

from __future__ import annotations

import argparse

import numpy as np
import optax
from _figures import plt, save_figure, show

import inr
from inr import meta

STEPS = 10


def faces(folder: str | None, n: int) -> np.ndarray:
    """``n`` faces as uint8 ``(n, 64, 64, 3)``: from a folder, or the astronaut and its mirror."""
    if folder:
        return meta.image_folder(folder, 64, limit=n)
    crop = inr.sample_image("astronaut")[20:220, 140:340]
    face = np.round(inr.resize(crop, (64, 64), "bilinear", antialias=True) * 255).astype(np.uint8)
    return np.stack([face, face[:, ::-1]])


def psnr_curves(face: np.ndarray, init: meta.Init) -> dict:
    """``{name: (picture, PSNR after each of 0..STEPS steps)}`` from each initialisation."""
    fits = {"standard": inr.fit_image(face, model=init.model, optimizer=optax.adam(1e-4),
                                      steps=STEPS),
            "learned": inr.fit_image(face, init=init, steps=STEPS)}  # fmt: skip
    out = {}
    for name, fit in fits.items():
        picture = fit.render(*face.shape[:2])  # the history holds the PSNR before each step
        last = inr.psnr(picture, face / 255.0)
        out[name] = (picture, np.append(fit.history["psnr"], last))
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", help="a folder of faces not trained on (default: built-in)")
    p.add_argument("--faces", type=int, default=4, help="faces from --data for the functa row")
    p.add_argument("--init", default="pretrained:celeba-init", help="a learned initialisation")
    p.add_argument("--functa", default="pretrained:celeba-functa", help="a functa")
    p.add_argument("--out", default="outputs/meta_fit.png", help="the figure")
    args = p.parse_args(argv)
    images = faces(args.data, args.faces)
    init, functa = meta.load_init(args.init), meta.load_functa(args.functa)
    curves = psnr_curves(images[0], init)
    latents = meta.fit_latents(images, functa)
    recon = functa.render(latents, 64, 64)
    fig, axes = plt.subplots(2, 4, figsize=(13, 6.8), gridspec_kw={"hspace": 0.3})
    show(axes[0, 0], images[0], "held-out face")
    for ax, name in zip(axes[0, 1:3], ("standard", "learned"), strict=True):
        picture, history = curves[name]
        show(ax, picture, f"{name} init, {STEPS} steps: {history[-1]:.1f} dB")
    ax = axes[0, 3]
    for name, (_, history) in curves.items():
        ax.plot(history, marker="o", label=f"{name} init")
    ax.set_xlabel("steps")
    ax.set_ylabel("PSNR (dB)")
    ax.legend()
    for i, ax in enumerate(axes[1, :2]):
        show(ax, recon[i], f"functa, face {i + 1}: {inr.psnr(recon[i], images[i] / 255.0):.1f} dB")
    show(axes[1, 2], images[1], "face 2")
    morph = functa.render(0.5 * (latents[0] + latents[1]), 64, 64)
    show(axes[1, 3], morph, "latent average of 1 and 2")
    names = f"{init.card.get('name', 'learned init')} and {functa.card.get('name', 'functa')}"
    m = functa.model
    fig.suptitle(f"{names} (latent {m.latent_features}, {functa.inner_steps} steps)")
    save_figure(fig, args.out)


if __name__ == "__main__":
    main()

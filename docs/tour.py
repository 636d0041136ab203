# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # A tour of `inr`
#
# Fit an image with a SIREN, render a crop at 4x and its exact gradient,
# clone one photo into another without a seam, and colorize and upscale
# with the shipped weights. Each cell says how long it takes on a 2-core
# laptop-class CPU, most of it compiling; a second run of a cell with the
# same shapes reuses the compiled program. Install with
# `pip install -e ".[notebook]"` (a Jupyter kernel, matplotlib and scikit-image).
#
# This notebook is paired with `docs/tour.py` by jupytext; the test suite
# runs it.

# %%
import matplotlib.pyplot as plt
import numpy as np

import inr


def show(*panels, size=3.0):
    """Images side by side, each with its title."""
    fig, axes = plt.subplots(1, len(panels), figsize=(size * len(panels), size))
    for ax, (title, image) in zip(np.atleast_1d(axes), panels, strict=True):
        ax.imshow(image, cmap="gray" if image.ndim == 2 else None)
        ax.set_title(title, fontsize=9)
        ax.axis("off")
    plt.show()


# %% [markdown]
# ## Fit an image (about 6 s on a CPU)
#
# `fit_image` trains a coordinate network on every pixel at once. A SIREN
# 128 wide reaches about 39 dB on a 64x64 photo in 200 steps. The paper's
# default (`inr.Siren()`, 256 wide, 500 steps at 256x256) takes minutes on
# a CPU; on an H100 a step of it takes about 3 ms (`benchmarks/README.md`).

# %%
img = inr.resize(inr.sample_image("camera"), (64, 64), "bilinear")
fit = inr.fit_image(img, model=inr.Siren(128, 3), steps=200)
print(f"PSNR after 200 steps: {fit.history['psnr'][-1]:.1f} dB")

# %% [markdown]
# ## Render a crop at 4x, and its exact gradient (about 2 s)
#
# The fit is a function: render any rectangle at any resolution. The
# gradient comes from autodiff through the network, not from finite
# differences of a render.

# %%
region = (0.25, 0.25, 0.5, 0.5)
crop = fit.render(128, 128, region=region)  # a 16x16 patch of the input, 8x denser
gradient = fit.gradient(64, 64)
show(
    ("input 64x64", img),
    ("fit, rendered at 256x256", fit.render(256, 256)),
    (f"region {region} at 128x128", crop),
    ("|gradient| (autodiff)", np.linalg.norm(gradient, axis=-1)),
)

# %% [markdown]
# ## Seamless cloning (about 5 s, most of it compiling)
#
# Paste a region of one photo into another by solving Pérez et al.'s Poisson
# equations on the mask's exact pixels.

# %%
a = inr.resize(inr.sample_image("astronaut"), (128, 128), "bilinear")
b = inr.resize(inr.sample_image("coffee"), (128, 128), "bilinear")
mask = np.zeros((128, 128), bool)
mask[32:96, 40:100] = True
naive = np.where(mask[..., None], b, a)
clone = inr.seamless_clone(b, a, mask, offset=(0, 0), mode="mixed")
show(("destination", a), ("source", b), ("naive paste", naive), ("seamless clone", clone))

# %% [markdown]
# ## Colorize with the shipped weights (about 3 s)
#
# `pretrained:restore` turns a 64x64 gray photo into colour at any size.
# It was trained on 548 general photos and 334 CelebA faces (non-commercial use).

# %%
truth = inr.sample_image("astronaut")
gray = inr.rgb_to_gray(inr.resize(truth, (64, 64)))
colour = inr.load_restorator("pretrained:restore").restore(gray, size=(256, 256))
show(("input 64x64 gray", gray), ("restored 256x256", colour), ("truth", truth))

# %% [markdown]
# ## Upscale x4 with the shipped weights (about 2 s)
#
# `pretrained:upscale` takes a colour image of any size and renders it at
# any scale; here 64 to 256 pixels, beside bicubic upscaling.

# %%
small = inr.resize(truth, (64, 64))
up = inr.load_restorator("pretrained:upscale").restore(small, size=(256, 256))
bicubic = inr.resize(small, (256, 256), "bicubic")
reference = inr.resize(truth, (256, 256))
show(
    ("input 64x64", small),
    (f"bicubic, {inr.psnr(bicubic, reference):.2f} dB", bicubic),
    (f"restorator, {inr.psnr(up, reference):.2f} dB", up),
)

# %% [markdown]
# ## A face in three steps from a learned initialisation (about 3 s)
#
# `pretrained:celeba-init` is a SIREN initialisation meta-learned on CelebA
# faces at 64x64 (non-commercial use): three SGD steps at its learned rates
# fit a face that the standard initialisation needs about a hundred Adam
# steps for (`docs/meta.md`).

# %%
face = inr.resize(truth[20:220, 140:340], (64, 64), "bilinear")
init = inr.meta.load_init("pretrained:celeba-init")
learned = inr.fit_image(face, init=init, steps=3).render(64, 64)
standard = inr.fit_image(face, model=init.model, steps=3).render(64, 64)
show(
    ("face 64x64", face),
    (f"standard init, 3 steps: {inr.psnr(standard, face):.1f} dB", standard),
    (f"learned init, 3 steps: {inr.psnr(learned, face):.1f} dB", learned),
)

# %% [markdown]
# ## A CT slice from 20 views (about 15 s)
#
# A field seen through a scanner: `inr.tomography` projects the phantom
# along 20 parallel views (the same ray sampler as a camera's), and
# `fit_sinogram` fits a field whose line integrals match them, under a
# total-variation prior, beside filtered back-projection from the same views.

# %%
from skimage.data import shepp_logan_phantom  # noqa: E402

from inr import tomography  # noqa: E402

phantom = np.clip(inr.resize(shepp_logan_phantom(), (96, 96)), 0, 1)
scanner = tomography.ParallelBeam.create(np.linspace(0, 180, 20, endpoint=False), 96)
sinogram = tomography.project(phantom, scanner)
slice_ = tomography.fit_sinogram(sinogram, scanner, value_range=(0, 1), steps=400).render(96, 96)
fbp = np.clip(tomography.fbp(sinogram, scanner), 0, 1)
show(
    (f"FBP, 20 views: {inr.psnr(fbp, phantom):.1f} dB", fbp),
    (f"fitted field: {inr.psnr(slice_, phantom):.1f} dB", slice_),
    ("phantom", phantom),
)

# %% [markdown]
# ## Where next
#
# The guides in `docs/` cover fitting and objectives, gradient-domain editing,
# restorators, diffusion, signals, shapes, radiance fields, tomography, PDEs,
# meta-learning and many devices; `examples/` has a script per capability.

"""inr: implicit neural representations in JAX/Flax.

Conventions (checked at every public boundary):

* images are float arrays in [0, 1] shaped (H, W) or (H, W, C); uint8 input
  is accepted and converted;
* network coordinates are pixel centres in [-1, 1], ``(x, y)`` in the last
  axis; a region is ``(x0, y0, x1, y1)`` in fractions of the image.
"""

from inr import distributed, restorator
from inr.color import luma_bt601, rgb_to_gray, rgb_to_ycbcr, ycbcr_to_rgb
from inr.coords import grid, pixel_centres
from inr.datasets import SAMPLE_IMAGES, sample_image
from inr.fields import directional_derivative, gradient, laplacian, second_derivative
from inr.fit import TARGETS, fit_gradients, fit_image, fit_images
from inr.io import load_image, save_image
from inr.metrics import mse, psnr, ssim
from inr.nn import (
    MLP,
    FourierFeatures,
    PositionalEncoding,
    SineLayer,
    Siren,
    fast_cos,
    fast_sin,
    siren_bias_init,
    siren_first_init,
    siren_hidden_init,
)
from inr.poisson import (
    color_change,
    divergence,
    illumination_change,
    image_gradient,
    laplacian_5pt,
    merge,
    poisson_solve,
    reconstruct,
    seamless_clone,
    texture_flatten,
)
from inr.render import evaluate_chunked
from inr.resize import resize
from inr.restorator import (
    Restorator,
    RestoratorConfig,
    load_restorator,
    save_restorator,
    train_restorator,
)
from inr.result import FitResult

__version__ = "0.1.0"

__all__ = [
    "Restorator",
    "RestoratorConfig",
    "load_restorator",
    "luma_bt601",
    "restorator",
    "distributed",
    "rgb_to_gray",
    "rgb_to_ycbcr",
    "save_restorator",
    "train_restorator",
    "ycbcr_to_rgb",
    "texture_flatten",
    "seamless_clone",
    "reconstruct",
    "poisson_solve",
    "merge",
    "illumination_change",
    "color_change",
    "FitResult",
    "FourierFeatures",
    "MLP",
    "PositionalEncoding",
    "SAMPLE_IMAGES",
    "SineLayer",
    "Siren",
    "TARGETS",
    "directional_derivative",
    "divergence",
    "evaluate_chunked",
    "fast_cos",
    "fast_sin",
    "fit_gradients",
    "fit_image",
    "fit_images",
    "gradient",
    "grid",
    "image_gradient",
    "laplacian",
    "laplacian_5pt",
    "load_image",
    "mse",
    "pixel_centres",
    "psnr",
    "resize",
    "sample_image",
    "save_image",
    "second_derivative",
    "siren_bias_init",
    "siren_first_init",
    "siren_hidden_init",
    "ssim",
]

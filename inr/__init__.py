"""inr: implicit neural representations in JAX/Flax.

Conventions (checked at every public boundary):

* signals are gridded samples of 1 to 3 axes, channels last (audio
  ``(T, C)``, video ``(T, H, W, C)``, volumes ``(D, H, W[, C])``;
  :mod:`inr.signal`); images are their two-axis case, float arrays in
  [0, 1] shaped (H, W) or (H, W, C), uint8 accepted and converted;
* network coordinates are cell centres in [-1, 1], in coordinate order
  (``x`` along the last array axis: ``(x, y)`` for an image); a region is a
  box of fractions, ``(x0, y0, x1, y1)`` for an image (:mod:`inr.coords`).

Subpackages: :mod:`inr.nn` (modules), :mod:`inr.poisson` (gradient-domain
editing), :mod:`inr.restorator` (coordinate decoders), :mod:`inr.diffusion`
(schedules and the sampler), :mod:`inr.distributed` (meshes), :mod:`inr.meta`
(learned initialisations and functa); :mod:`inr.shapes` (signed distance
fields) is imported on its own, with the ``shapes`` extra.
"""

from inr import diffusion, distributed, meta, restorator
from inr.cameras import Camera, load_transforms, pixel_rays, rays
from inr.checkpoint import FitDiverged
from inr.color import luma_bt601, rgb_to_gray, rgb_to_ycbcr, ycbcr_to_rgb
from inr.coords import cell_axes, grid, pixel_centres
from inr.datasets import SAMPLE_IMAGES, sample_image
from inr.fields import directional_derivative, gradient, laplacian, second_derivative
from inr.fitting import DEFAULT_OPTIMIZER, Stack, decayed_adam, fit, ngp_adam, stack
from inr.gridded import TARGETS, fit_gradients, fit_image, fit_images, fit_signal, fit_signals
from inr.init import Init, learned_sgd
from inr.interpolation import resize
from inr.io import load_image, save_image
from inr.media import load_audio, load_video, save_audio, save_video
from inr.metrics import mse, psnr, ssim
from inr.nn import (
    MLP,
    FourierFeatures,
    HashGrid,
    PositionalEncoding,
    SineLayer,
    Siren,
    fast_cos,
    fast_sin,
    siren_bias_init,
    siren_first_init,
    siren_hidden_init,
)
from inr.objective import Objective, option, step_key, streams
from inr.objectives import ANNEAL, ImageGradients, ImageLaplacian, SignalValues
from inr.poisson import (
    color_change,
    divergence,
    illumination_change,
    image_gradient,
    laplacian_5pt,
    merge,
    merge_gradients,
    poisson_solve,
    reconstruct,
    seamless_clone,
    texture_flatten,
)
from inr.progress import TextProgress
from inr.render import evaluate_chunked
from inr.restorator import (
    Checkpoints,
    Restorator,
    RestoratorConfig,
    TrainConfig,
    load_restorator,
    save_restorator,
    train_restorator,
)
from inr.result import FitResult
from inr.signal import Layout

__version__ = "0.3.0"

__all__ = [
    "ANNEAL",
    "DEFAULT_OPTIMIZER",
    "MLP",
    "SAMPLE_IMAGES",
    "TARGETS",
    "Camera",
    "Checkpoints",
    "FitDiverged",
    "FitResult",
    "FourierFeatures",
    "HashGrid",
    "ImageGradients",
    "ImageLaplacian",
    "Init",
    "Layout",
    "Objective",
    "PositionalEncoding",
    "Restorator",
    "RestoratorConfig",
    "SignalValues",
    "SineLayer",
    "Siren",
    "Stack",
    "TextProgress",
    "TrainConfig",
    "cell_axes",
    "color_change",
    "decayed_adam",
    "diffusion",
    "directional_derivative",
    "distributed",
    "divergence",
    "evaluate_chunked",
    "fast_cos",
    "fast_sin",
    "fit",
    "fit_gradients",
    "fit_image",
    "fit_images",
    "fit_signal",
    "fit_signals",
    "gradient",
    "grid",
    "illumination_change",
    "image_gradient",
    "laplacian",
    "laplacian_5pt",
    "learned_sgd",
    "load_audio",
    "load_image",
    "load_restorator",
    "load_transforms",
    "load_video",
    "luma_bt601",
    "merge",
    "merge_gradients",
    "meta",
    "mse",
    "ngp_adam",
    "option",
    "pixel_centres",
    "pixel_rays",
    "poisson_solve",
    "psnr",
    "rays",
    "reconstruct",
    "resize",
    "restorator",
    "rgb_to_gray",
    "rgb_to_ycbcr",
    "sample_image",
    "save_audio",
    "save_image",
    "save_restorator",
    "save_video",
    "seamless_clone",
    "second_derivative",
    "siren_bias_init",
    "siren_first_init",
    "siren_hidden_init",
    "ssim",
    "stack",
    "step_key",
    "streams",
    "texture_flatten",
    "train_restorator",
    "ycbcr_to_rgb",
]

"""Diffusion: noise schedules, the pure reverse-process sampler, training targets.

``schedule`` (cosine and linear ``alpha_bar`` tables, float64-built),
``sampler`` (``sample``: DDPM/DDIM in one ``lax.scan``), ``noise`` (its
Gaussian noise: JAX's Threefry stream with a fusible lowering) and ``loss``
(forward noising and epsilon / x0 / v targets).
"""

from inr.diffusion.loss import add_noise, prediction_target, random_steps
from inr.diffusion.sampler import NOISE_MODES, PREDICTIONS, from_prediction, sample, visited_steps
from inr.diffusion.schedule import Schedule, cosine_schedule, linear_schedule

__all__ = [
    "NOISE_MODES",
    "PREDICTIONS",
    "Schedule",
    "add_noise",
    "cosine_schedule",
    "from_prediction",
    "linear_schedule",
    "prediction_target",
    "random_steps",
    "sample",
    "visited_steps",
]

"""Diffusion: noise schedules, the pure reverse-process sampler, training targets.

``schedule`` (cosine and linear ``alpha_bar`` tables, float64-built),
``sampler`` (``sample``: DDPM/DDIM in one ``lax.scan``, and
``SamplerConfig``, its settings as one object) and ``loss`` (forward
noising and epsilon / x0 / v targets).
"""

from inr.diffusion.loss import add_noise, prediction_target, random_steps
from inr.diffusion.sampler import (
    NOISE_MODES,
    PREDICTIONS,
    SamplerConfig,
    from_prediction,
    sample,
    visited_steps,
)
from inr.diffusion.schedule import Schedule, cosine_schedule, linear_schedule, timestep_embedding

__all__ = [
    "NOISE_MODES",
    "PREDICTIONS",
    "SamplerConfig",
    "Schedule",
    "add_noise",
    "cosine_schedule",
    "from_prediction",
    "linear_schedule",
    "prediction_target",
    "random_steps",
    "sample",
    "timestep_embedding",
    "visited_steps",
]

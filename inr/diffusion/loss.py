"""Training targets for a denoiser, consistent with :func:`inr.diffusion.sample`.

* :func:`random_steps`: step indices uniform over *all* ``num_steps``
  indices, 0 and ``num_steps - 1`` included (a known bug elsewhere never
  drew the last one, so the sampler's first step was never trained).
* :func:`add_noise`: ``x_t = sqrt(ab_t) x0 + sqrt(1 - ab_t) eps``.
* :func:`prediction_target`: what the network should output for
  ``prediction`` = ``"epsilon"`` (``eps``), ``"x0"`` or ``"v"``
  (``sqrt(ab) eps - sqrt(1 - ab) x0``, Salimans & Ho 2022).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from inr.diffusion.sampler import PREDICTIONS
from inr.diffusion.schedule import Schedule

__all__ = ["add_noise", "prediction_target", "random_steps"]


def random_steps(key: jax.Array, shape: tuple[int, ...], schedule: Schedule) -> jax.Array:
    """int32 step indices, uniform over ``0 .. num_steps - 1`` inclusive."""
    return jax.random.randint(key, shape, 0, schedule.alpha_bar.shape[0], jnp.int32)


def add_noise(x0: jax.Array, eps: jax.Array, t: jax.Array, schedule: Schedule) -> jax.Array:
    """``x_t`` for clean ``x0 (..., c)``, noise ``eps`` and steps ``t (...)``."""
    ab = schedule.alpha_bar[t][..., None]
    return jnp.sqrt(ab) * x0 + jnp.sqrt(1.0 - ab) * eps


def prediction_target(
    prediction: str, x0: jax.Array, eps: jax.Array, t: jax.Array, schedule: Schedule
) -> jax.Array:
    """The regression target for ``prediction`` (inverse of ``from_prediction``)."""
    if prediction == "epsilon":
        return eps
    if prediction == "x0":
        return x0
    if prediction == "v":
        ab = schedule.alpha_bar[t][..., None]
        return jnp.sqrt(ab) * eps - jnp.sqrt(1.0 - ab) * x0
    raise ValueError(f"prediction must be one of {PREDICTIONS}; got {prediction!r}")

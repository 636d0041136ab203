"""Noise schedules: the signal level ``alpha_bar[t]`` of every diffusion step.

A :class:`Schedule` is a pytree whose one array field ``alpha_bar`` (shape
``(num_steps,)``, decreasing) gives ``x_t = sqrt(alpha_bar[t]) x_0 +
sqrt(1 - alpha_bar[t]) eps`` at step index ``t``; index 0 is the least noisy
step, and the reverse process's last step goes from index 0 to clean data
(``alpha_bar = 1``).  Tables are computed in float64 with NumPy, with every
``beta_t = 1 - alpha_bar[t] / alpha_bar[t - 1]`` clipped to [1e-4, 0.9999],
then stored as float32.

* :func:`cosine_schedule`: Nichol & Dhariwal 2021, ``alpha_bar(t) =
  f(t) / f(0)``, ``f(t) = cos^2((t / N + s) / (1 + s) * pi / 2)``.
* :func:`linear_schedule`: Ho et al. 2020, betas linear from 1e-4 to 0.02
  for 1000 steps, rescaled by ``1000 / N`` for ``N`` steps.
"""

from __future__ import annotations

from typing import Annotated

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

__all__ = ["BETA_RANGE", "Schedule", "cosine_schedule", "linear_schedule", "timestep_embedding"]

BETA_RANGE = (1e-4, 0.9999)


@struct.dataclass
class Schedule:
    """``alpha_bar (num_steps,)``: the signal level at each step index."""

    alpha_bar: Annotated[jax.Array, "num_steps"]

    @property
    def num_steps(self) -> int:
        return self.alpha_bar.shape[0]


def _from_betas(betas: np.ndarray) -> Schedule:
    betas = np.clip(betas, *BETA_RANGE)
    return Schedule(alpha_bar=jnp.asarray(np.cumprod(1.0 - betas), jnp.float32))


def _check_steps(num_steps) -> int:
    if int(num_steps) != num_steps or num_steps < 2:
        raise ValueError(f"num_steps must be an integer >= 2; got {num_steps!r}")
    return int(num_steps)


def cosine_schedule(num_steps: int = 100, s: float = 0.008) -> Schedule:
    """The cosine schedule with offset ``s`` (Nichol & Dhariwal 2021, eq. 17)."""
    n = _check_steps(num_steps)
    f = np.cos((np.arange(n + 1, dtype=np.float64) / n + s) / (1.0 + s) * np.pi / 2) ** 2
    return _from_betas(1.0 - f[1:] / f[:-1])


def linear_schedule(
    num_steps: int = 100, beta_start: float = 1e-4, beta_end: float = 0.02
) -> Schedule:
    """Linear betas (Ho et al. 2020), given for 1000 steps and rescaled to ``num_steps``."""
    n = _check_steps(num_steps)
    scale = 1000.0 / n
    return _from_betas(np.linspace(scale * beta_start, scale * beta_end, n, dtype=np.float64))


def timestep_embedding(t: jax.Array, num_steps: int, frequencies: int = 6) -> jax.Array:
    """``(...,) -> (..., 2 frequencies + 1)``: ``t / N`` and its sines and cosines.

    The sinusoidal embedding of Vaswani et al. 2017 / Ho et al. 2020 on the
    normalised step ``t / N``, octaves ``2^k pi``.
    """
    u = t.astype(jnp.float32)[..., None] / num_steps
    angles = u * jnp.asarray(np.pi * 2.0 ** np.arange(frequencies), jnp.float32)
    return jnp.concatenate([u, jnp.sin(angles), jnp.cos(angles)], axis=-1)

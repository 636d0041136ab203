"""The reverse process as one pure function: DDPM, DDIM and everything between.

``sample(denoise, x_T, key, schedule, ...)`` runs the visited steps of a
:class:`~inr.diffusion.schedule.Schedule` in one ``lax.scan``.  The step
table (which indices, their signal levels) is fixed by the schedule's length
and ``stride`` at trace time; the modes are Python values resolved at trace
time, so the compiled loop has no branches and no host syncs.  ``jit`` it,
``vmap`` it over points or images, ``grad`` through it.

One update from step ``t`` to the next visited ``t'`` (``ab`` = alpha_bar,
``ab' = 1`` after index 0), DDIM (Song et al. 2021, eq. 12) in FranNet's
vocabulary::

    x0, eps = the denoiser's prediction at (x_t, t), as (x0, eps)
    sigma   = stochasticity * sqrt((1 - ab') / (1 - ab) * (1 - ab / ab'))
    mean    = sqrt(ab') x0 + sqrt(1 - ab' - sigma^2) eps
    x_t'    = mean + noise,   noise = sigma z | sigma^2 z | 0   ("normal" | "squared" | "zero")

``stochasticity = 1`` with every step and normal noise is DDPM's ancestral
sampler (Ho et al. 2020); ``stochasticity = 0`` is deterministic DDIM.
``project_noise`` keeps the new point's distance from ``x0`` at
``|mean - x0|`` and randomises only its direction (per point, over the last
axis): ``x0 + |mean - x0| * normalize(mean + noise - x0)``.  ``clip``
clips ``x`` after every step.

The noise is ``jax.random.normal`` of the per-step keys, drawn in float32
(other dtypes get that draw, cast).  :class:`SamplerConfig` holds the
settings as one hashable object, the form :meth:`inr.Restorator.restore`
takes.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Annotated

import chex
import jax
import jax.numpy as jnp
import numpy as np

from inr.diffusion.schedule import Schedule

__all__ = [
    "NOISE_MODES",
    "PREDICTIONS",
    "SamplerConfig",
    "from_prediction",
    "sample",
    "visited_steps",
]

PREDICTIONS = ("epsilon", "x0", "v")
NOISE_MODES = ("normal", "squared", "zero")


def visited_steps(num_steps: int, stride: int | str = 1) -> np.ndarray:
    """Step indices the reverse process visits, from ``num_steps - 1`` down to 0.

    ``stride=K``: ``[N-1] + reversed(range(1, N-1, K)) + [0]`` (``K=1`` visits
    every step; ``K=8`` with ``N=100`` makes 15 denoiser calls).
    ``stride="quadratic"``: ``[N-1]`` and the squares ``i^2 < N-1``,
    descending (DDIM's quadratic skipping; 11 calls for ``N=100``).
    """
    n = num_steps
    if stride == "quadratic":
        middle = [i * i for i in range(1, int(np.sqrt(n - 1)) + 1) if 0 < i * i < n - 1]
    elif isinstance(stride, (int, np.integer)) and not isinstance(stride, bool) and stride >= 1:
        middle = list(range(1, n - 1, int(stride)))
    else:
        raise ValueError(f"stride must be a positive integer or 'quadratic'; got {stride!r}")
    return np.array([n - 1, *reversed(middle), 0], np.int32)


def _split(prediction: str, a, s):
    """``(c1, c2, c3, c4)`` with ``x0 = c1 x_t + c2 out`` and ``eps = c3 x_t + c4 out``.

    ``a = sqrt(ab)``, ``s = sqrt(1 - ab)``; every parameterisation is linear
    in ``(x_t, out)``.
    """
    if prediction == "epsilon":
        return 1.0 / a, -s / a, 0.0 * a, 1.0 + 0.0 * a
    if prediction == "x0":
        return 0.0 * a, 1.0 + 0.0 * a, 1.0 / s, -a / s
    if prediction == "v":
        return a, -s, s, a
    raise ValueError(f"prediction must be one of {PREDICTIONS}; got {prediction!r}")


def from_prediction(prediction: str, out, x_t, ab):
    """``(x0, eps)`` from a network output under ``prediction``.

    With ``x_t = sqrt(ab) x0 + sqrt(1 - ab) eps`` and ``v = sqrt(ab) eps -
    sqrt(1 - ab) x0`` (Salimans & Ho 2022):

    * ``"epsilon"``: ``x0 = (x_t - sqrt(1 - ab) eps) / sqrt(ab)``;
    * ``"x0"``: ``eps = (x_t - sqrt(ab) x0) / sqrt(1 - ab)``;
    * ``"v"``: ``x0 = sqrt(ab) x_t - sqrt(1 - ab) v``, ``eps = sqrt(1 - ab) x_t + sqrt(ab) v``.
    """
    c1, c2, c3, c4 = _split(prediction, jnp.sqrt(ab), jnp.sqrt(1.0 - ab))
    return c1 * x_t + c2 * out, c3 * x_t + c4 * out


def _table(alpha_bar, steps: np.ndarray, stochasticity: float, prediction: str):
    """Per visited step, the update's coefficients (float64 when the schedule is concrete).

    The update is linear in ``(x_t, out)``: ``x0 = c1 x_t + c2 out`` and
    ``mean = sqrt(ab') x0 + d eps = m1 x_t + m2 out`` with
    ``d = sqrt(1 - ab' - sigma^2)``, computed as
    ``sqrt((1 - ab') (1 - stochasticity^2 (1 - ab / ab') / (1 - ab)))`` so
    that it does not cancel in float32.  Returns ``(c1, c2, m1, m2, sigma)``.
    """
    xp = np if isinstance(alpha_bar, np.ndarray) else jnp
    ab = alpha_bar[steps]
    ab_next = xp.concatenate([alpha_bar[steps[1:]], xp.ones((1,), ab.dtype)])
    ratio = (1.0 - ab / ab_next) / (1.0 - ab)  # sigma^2 = eta^2 (1 - ab') ratio
    sigma = stochasticity * xp.sqrt(xp.maximum((1.0 - ab_next) * ratio, 0.0))
    d = xp.sqrt(xp.maximum((1.0 - ab_next) * (1.0 - stochasticity**2 * ratio), 0.0))
    c1, c2, c3, c4 = _split(prediction, xp.sqrt(ab), xp.sqrt(1.0 - ab))
    a_next = xp.sqrt(ab_next)
    return c1, c2, a_next * c1 + d * c3, a_next * c2 + d * c4, sigma


def _normalize(v, eps=1e-12):
    norm = jnp.sqrt(jnp.sum(v * v, axis=-1, keepdims=True))
    return v / jnp.maximum(norm, eps)


@dataclasses.dataclass(frozen=True)
class SamplerConfig:
    """The reverse process's settings, checked when built (see :func:`sample`).

    ``SamplerConfig()`` is DDPM (every step, full variance, normal noise);
    ``SamplerConfig(stride=8, stochasticity=0.0)`` is deterministic DDIM with
    15 of 100 steps.  ``sample(..., **config.kwargs())`` runs it.
    """

    stride: int | str = 1
    stochasticity: float = 1.0
    noise: str = "normal"
    project_noise: bool = False
    clip: tuple[float, float] | None = None

    def __post_init__(self):
        visited_steps(2, self.stride)  # raises for a bad stride
        eta = self.stochasticity
        if isinstance(eta, bool) or not isinstance(eta, (int, float)) or not 0 <= eta <= 1:
            raise ValueError(f"stochasticity must be a number in [0, 1]; got {eta!r}")
        if self.noise not in NOISE_MODES:
            raise ValueError(f"noise must be one of {NOISE_MODES}; got {self.noise!r}")
        if not isinstance(self.project_noise, bool):
            raise ValueError(f"project_noise must be True or False; got {self.project_noise!r}")
        if self.clip is not None:
            try:
                lo, hi = (float(v) for v in self.clip)
            except (TypeError, ValueError):
                raise ValueError(f"clip must be None or (lo, hi); got {self.clip!r}") from None
            if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
                raise ValueError(f"clip must be finite with lo < hi; got {self.clip!r}")
            object.__setattr__(self, "clip", (lo, hi))
        object.__setattr__(self, "stochasticity", float(eta))

    def kwargs(self) -> dict:
        """The settings as :func:`sample`'s keyword arguments."""
        return dataclasses.asdict(self)


def sample(
    denoise: Callable[[jax.Array, jax.Array], jax.Array],
    x_T: Annotated[jax.Array, "... c"],
    key: jax.Array,
    schedule: Schedule,
    *,
    stride: int | str = 1,
    stochasticity: float = 1.0,
    noise: str = "normal",
    project_noise: bool = False,
    clip: tuple[float, float] | None = None,
    prediction: str = "epsilon",
) -> Annotated[jax.Array, "... c"]:
    """Run the reverse process from ``x_T`` to ``x_0`` (see the module docstring).

    Args:
      denoise: ``denoise(x_t, t) -> prediction``, same shape as ``x_t``; ``t``
        is the int32 step index (a scalar array).
      x_T: the starting noise, ``(..., c)``; projection acts on the last axis.
      key: PRNG key for the added noise.
      schedule: a :class:`Schedule` (its ``alpha_bar`` may be traced).
      stride: an integer or ``"quadratic"`` (see :func:`visited_steps`).
      stochasticity: ``eta``; 1 is DDPM's variance, 0 deterministic DDIM.
      noise: ``"normal"``, ``"squared"`` or ``"zero"``.
      project_noise: keep ``|x - x0|`` and randomise the direction only.
      clip: ``(lo, hi)`` applied after every step, or ``None``.
      prediction: what ``denoise`` returns: ``"epsilon"``, ``"x0"`` or ``"v"``.

    Returns ``x_0`` with the shape and dtype of ``x_T``.

    Checked here: the static settings, ``x_T``'s rank, and that ``denoise``
    returns ``x_t``'s shape.  Not checked: the values of a traced ``x_T``
    (NaN or infinite noise gives NaN samples; inside ``jit`` no value can be
    inspected).
    """
    if noise not in NOISE_MODES:
        raise ValueError(f"noise must be one of {NOISE_MODES}; got {noise!r}")
    if jnp.ndim(x_T) < 1:
        raise ValueError(
            f"x_T must have a channel axis, shaped (..., c); got shape {jnp.shape(x_T)}"
        )
    if prediction not in PREDICTIONS:
        raise ValueError(f"prediction must be one of {PREDICTIONS}; got {prediction!r}")
    steps = visited_steps(schedule.alpha_bar.shape[0], stride)
    alpha_bar = schedule.alpha_bar
    try:  # a concrete schedule: build the table in float64
        alpha_bar = np.asarray(alpha_bar, np.float64)
    except jax.errors.TracerArrayConversionError:
        pass
    table = _table(alpha_bar, steps, stochasticity, prediction)
    dtype = x_T.dtype
    xs = tuple(jnp.asarray(c, dtype) for c in table)
    scale_of = {"normal": lambda s: s, "squared": lambda s: s**2, "zero": None}[noise]
    # Deterministic settings draw no random numbers at all.
    silent = scale_of is None or (isinstance(stochasticity, (int, float)) and stochasticity == 0)

    def update(x, t, coefficients, z):
        c1, c2, m1, m2, sigma = coefficients
        out = denoise(x, t)
        chex.assert_equal_shape([out, x])  # a broadcast here would be silent
        mean = m1 * x + m2 * out
        kick = 0.0 if silent else scale_of(sigma) * z
        if project_noise:
            x0 = c1 * x + c2 * out
            radius = jnp.sqrt(jnp.sum((mean - x0) ** 2, axis=-1, keepdims=True))
            x = x0 + radius * _normalize(mean + kick - x0)
        else:
            x = mean + kick
        return x if clip is None else jnp.clip(x, *clip)

    t = jnp.asarray(steps)
    if silent:
        x, _ = jax.lax.scan(lambda x, s: (update(x, *s, None), None), x_T, (t, xs))
        return x

    def step(x, inputs):
        t, coefficients, k = inputs
        z = jax.random.normal(k, x.shape, jnp.float32).astype(dtype)
        return update(x, t, coefficients, z), None

    keys = jax.random.split(key, len(steps))
    return jax.lax.scan(step, x_T, (t, xs, keys))[0]

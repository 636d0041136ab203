"""Compression as an objective: distortion plus a rate weight times the latents' bits.

A fit of a :class:`CodecObjective` minimises, over a :class:`~inr.codec.field.LatentField`,

    D + lambda R,    D = mean (f(x) - u(x))^2 (the value range's width is 1),
                     R = bits of the quantized latents per sample,

the rate under the entropy model of :mod:`inr.codec.entropy`, trained in
the same fit.  Quantisation is learned (quantisation-aware training): the
synthesis and the entropy model see every latent ``z`` through soft
rounding (Agustsson and Theis 2020),

    s_T(z) = floor(z) + 1/2 + tanh((z - floor(z) - 1/2) / T) / (2 tanh(1 / (2T))),

applied as ``s_T(s_T(z) + n)`` with ``n`` Gaussian noise of a fixed
standard deviation (the noise keeps the networks from undoing the soft
rounding).  ``T`` falls linearly over the fit, from a gentle rounding to
nearly ``round`` itself, so the fit ends close to the integers it codes; the
noise is plain and constant, never a schedule that changes its shape.  The
rate of the relaxed latents is a smooth proxy of the rate of ``round(z)``
(Balle et al. 2017).

After these steps, a ``polish`` of more steps sees the integers the file will hold,
``round(z)``, with no noise and no gradient to the latents: the synthesis
and the entropy model are fitted to the very values they will decode and
code (the relaxed latents' noise widens the distributions the entropy
model learned; fitted to the integers, it codes them in fewer bits).

``lambda`` is data (a new value compiles nothing).  With a ``goal`` (bits
per sample) it is the objective's state instead: every :data:`EVERY` steps
``log lambda`` moves by ``GAIN * log2(R / goal)`` (dual ascent on the rate
constraint), so one fit lands near the goal without a search.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import optax

from inr._validate import as_number, as_positive_int
from inr.codec import entropy
from inr.codec.field import LatentField, latent_shapes
from inr.fitting import decayed_adam
from inr.objective import Objective, streams
from inr.objectives import psnr_from_mse
from inr.signal import Layout, OnLayout

__all__ = ["EVERY", "GAIN", "CodecConfig", "CodecObjective"]

EVERY = 10
GAIN = 0.1


@dataclasses.dataclass(frozen=True)
class CodecConfig:
    """The codec's model and recipe: a pytree whose widths are its structure and whose numbers
    are its leaves.

    Only ``latents``, ``hidden``, ``context`` and ``refine`` shape the compiled fit; the
    step count, rates, decay, noise and temperatures are data to it (the
    optimiser keeps its rates in its state, :func:`~inr.fitting.decayed_adam`),
    so encodes that differ in those alone run one program.

    Attributes:
      latents: each latent grid's channels, finest first (the finest at the signal's
        resolution, each next one half as fine).
      hidden: the synthesis MLP's hidden widths.
      context: the entropy model's hidden width.  Its weights are paid in every file,
        and at the rates of a photo a narrow model costs fewer bits than the
        better predictions of a wide one save (on the tuning photo at 384x256,
        width 8 against 32: -28% in ``D + lambda R`` at quality 10, -8% at 40, -4%
        at 55; one seed each, with LeCun-normal synthesis weights, and seeds alone
        moved that figure by up to 16%).
      refine: the synthesis's residual ``3^d`` filter (:mod:`inr.codec.field`): on the tuning
        photos at 384x256 it lowered ``D + lambda R`` of the file by 4.5% and 4.4% at quality
        55 and moved it by +1.7% and -0.6% at 25, for about a tenth more time a step; a filter
        that mixes the channels (``9 C^2`` weights) did worse at 25 (+4.3%, +3.9%).
      steps: optimisation steps.
      rate: Adam's learning rate for the networks (decaying by ``decay`` over the steps).
      latent_rate: the latents' learning rate (decaying alike).
      decay: the rate's decay over the fit.
      noise: the standard deviation of the Gaussian noise on soft-rounded latents.
      temperature: soft rounding's temperature at the first and the last step.
      polish: the steps after ``steps`` that see the rounded latents and leave them as they
        are (the module docstring), as a fraction of ``steps`` (1/12: 100 after 1200; on the
        tuning photos at qualities 25 and 55 it lowered ``D + lambda R`` of the file by 0-5.4%,
        by 1.7% on average).
    """

    latents: tuple[int, ...] = (1, 1, 1, 1, 1, 1, 1)
    hidden: tuple[int, ...] = (24, 24)
    context: int = 8
    refine: bool = True
    steps: int = 1200
    rate: float = 2e-2
    latent_rate: float = 0.3
    decay: float = 0.05
    noise: float = 0.2
    temperature: tuple[float, float] = (0.5, 0.05)
    polish: float = 1 / 12

    def __post_init__(self):
        if not self.latents:
            raise ValueError("CodecConfig.latents must give each grid's channels")
        for c in self.latents:
            as_positive_int(c, "CodecConfig.latents")
        for w in self.hidden:
            as_positive_int(w, "CodecConfig.hidden")
        as_positive_int(self.context, "CodecConfig.context")
        if not isinstance(self.refine, (bool, np.bool_)):
            raise ValueError(f"CodecConfig.refine must be True or False; got {self.refine!r}")
        as_positive_int(self.steps, "CodecConfig.steps")
        as_number(self.rate, "CodecConfig.rate", 0.0, low_open=True)
        as_number(self.latent_rate, "CodecConfig.latent_rate", 0.0, low_open=True)
        as_number(self.decay, "CodecConfig.decay", 0.0, 1.0, low_open=True)
        as_number(self.noise, "CodecConfig.noise", 0.0)
        if len(self.temperature) != 2:
            raise ValueError("CodecConfig.temperature must be (first, last)")
        for t in self.temperature:
            as_number(t, "CodecConfig.temperature", 0.0, low_open=True)
        as_number(self.polish, "CodecConfig.polish", 0.0, 1.0)

    def model(self, layout: Layout) -> LatentField:
        """The field for a signal of ``layout``."""
        return LatentField(tuple(layout.grid), layout.channels, tuple(self.latents),
                           tuple(self.hidden), self.context, self.refine)  # fmt: skip


_STRUCTURE = ("latents", "hidden", "context", "refine")
_NUMBERS = ("steps", "rate", "latent_rate", "decay", "noise", "temperature", "polish")


def _flatten(config: CodecConfig):
    return [getattr(config, n) for n in _NUMBERS], tuple(getattr(config, n) for n in _STRUCTURE)


def _unflatten(structure: tuple, numbers: list) -> CodecConfig:
    # Not through __init__: inside a compiled fit the numbers are tracers, which
    # __post_init__'s checks (made once, where the config was written) cannot read.
    config = object.__new__(CodecConfig)
    for name, value in zip(_STRUCTURE + _NUMBERS, (*structure, *numbers), strict=True):
        object.__setattr__(config, name, value)
    return config


jax.tree_util.register_pytree_node(CodecConfig, _flatten, _unflatten)


def _groups(params):
    """``"latents"`` or ``"networks"`` for each parameter of a field."""
    return {"params": {k: "latents" if k.startswith("latent_") else "networks"
                       for k in params["params"]}}  # fmt: skip


def soft_round(z, temperature):
    """``s_T(z)``: ``floor(z) + 1/2 + tanh((z - floor(z) - 1/2) / T) / (2 tanh(1 / (2T)))``."""
    whole = jnp.floor(z)
    rise = jnp.tanh((z - whole - 0.5) / temperature) / jnp.tanh(0.5 / temperature)
    return whole + 0.5 + 0.5 * rise


def latent_bits(model: LatentField, params, latents) -> jax.Array:
    """The bits of (relaxed) ``latents`` under the entropy model of ``params``: a scalar."""
    context = {k: params["params"][f"context_{k}"] for k in entropy.NAMES}
    total = 0.0
    for plane, q, parent, previous in entropy.planes(latents):
        mu, log_b = entropy.predict(context, entropy.contexts(q, parent, previous), plane)
        total += jnp.sum(entropy.bits(q, mu, log_b))
    return total


class CodecObjective(OnLayout, Objective):
    """A signal to compress (the module docstring); build it with :meth:`create`.

    Attributes:
      target: ``(N_1, .., N_d, C)`` the signal in network units ([-1, 1]).
      weight: ``lambda``, the rate's weight (the state when aiming at a goal).
      goal: bits per sample to aim at, or 0 for a fixed ``lambda``.
      config: the :class:`CodecConfig` (its widths static, its numbers data; its ``steps``
        are the span of the temperature's fall, and with its polish the fit's default
        length, :attr:`default_steps`).
      layout: the signal's :class:`~inr.signal.Layout`.
    """

    target: jax.Array
    weight: jax.Array
    goal: jax.Array
    config: CodecConfig = CodecConfig()
    layout: Layout = None

    state = ("weight",)

    @classmethod
    def create(cls, samples: np.ndarray, layout: Layout, *, weight: float = 1e-3,
               goal: float | None = None, config: CodecConfig | None = None):  # fmt: skip
        """From :func:`inr.signal.as_signal`'s samples ``(n, C)`` and layout.

        ``weight`` is ``lambda`` (the start when a ``goal`` in bits per sample
        is given).
        """
        config = CodecConfig() if config is None else config
        lo, hi = layout.value_range
        values = np.asarray(samples, np.float64)
        if samples.dtype == np.uint8:
            values = values / 255.0
        elif samples.dtype == np.uint16:
            values = values / 65535.0
        target = (2.0 * values - (hi + lo)) / (hi - lo)
        target = target.reshape(*layout.grid, layout.channels).astype(np.float32)
        weight = as_number(weight, "weight", 0.0, low_open=True)
        goal = 0.0 if goal is None else as_number(goal, "bpp", 0.0, low_open=True)
        return cls(jnp.asarray(target), jnp.float32(weight), jnp.float32(goal), config, layout)

    @property
    def points(self) -> int:
        return int(np.prod(self.layout.grid))

    @property
    def default_steps(self) -> int:
        """``config.steps``, then ``round(config.polish * config.steps)`` polishing."""
        return self.config.steps + round(self.config.polish * self.config.steps)

    def default_model(self):
        return self.config.model(self.layout)

    def default_optimizer(self, steps: int):
        """Adam at ``config.latent_rate`` for the latents and ``config.rate`` for the networks,
        each decaying by ``config.decay`` over ``steps``.

        The networks' Adam averages over about 20 steps (``b1 = b2 = 0.95``, Cool-chic's):
        their gradients drift as the latents and the rounding's temperature move, and a
        short memory follows them (better fits at qualities 10 and 30 on the tuning picture).
        """
        c = self.config
        networks = decayed_adam(steps, c.rate, decay=c.decay, b1=0.95, b2=0.95)
        groups = {"latents": decayed_adam(steps, c.latent_rate, decay=c.decay),
                  "networks": networks}  # fmt: skip
        return optax.multi_transform(groups, _groups)

    def check_model(self, model) -> None:
        if not isinstance(model, LatentField) or model.grid != tuple(self.layout.grid):
            raise ValueError(f"model must be the codec's LatentField of grid {self.layout.grid}")

    def init(self, model, key):
        return model.init(key, jnp.zeros((1, self.dims), jnp.float32))

    def draw(self, key, step):
        """The latents' noise, this step's soft-rounding temperature and whether it polishes."""
        (noise,) = streams(key, step, "noise")
        shapes = latent_shapes(self.layout.grid, self.config.latents)
        keys = jax.random.split(noise, len(shapes))
        draws = [self.config.noise * jax.random.normal(k, s)
                 for k, s in zip(keys, shapes, strict=True)]  # fmt: skip
        first, last = self.config.temperature
        done = jnp.clip(step / jnp.maximum(self.config.steps - 1, 1), 0.0, 1.0)
        return draws, first + (last - first) * done, step >= self.config.steps

    def quantized(self, params, batch) -> list:
        """The latents as this step sees them: ``s_T(s_T(z) + n)``, or ``round(z)`` (held) in
        the polish."""
        draws, temperature, polish = batch
        latents = [params["params"][f"latent_{i}"] for i in range(len(draws))]
        return [jnp.where(polish, jax.lax.stop_gradient(jnp.round(z)),
                          soft_round(soft_round(z, temperature) + n, temperature))
                for z, n in zip(latents, draws, strict=True)]  # fmt: skip

    def loss(self, model, params, batch):
        latents = self.quantized(params, batch)
        seen = {**params["params"], **{f"latent_{i}": z for i, z in enumerate(latents)}}
        values = model.apply({"params": seen}, method="native")
        mse = jnp.mean((values - self.target) ** 2)  # network units: 4x the value range's
        rate = latent_bits(model, params, latents) / self.points
        loss = mse / 4.0 + self.weight * rate
        return loss, {"loss": loss, "psnr": psnr_from_mse(mse), "bpp": rate,
                      "weight": self.weight}  # fmt: skip

    def update(self, model, params, key, step):
        """Every :data:`EVERY` steps with a goal, ``log lambda += GAIN log2(R / goal)``."""
        del key

        def adjust(weight):
            rounded = [jnp.round(params["params"][f"latent_{i}"])
                       for i in range(len(self.config.latents))]  # fmt: skip
            rate = latent_bits(model, params, rounded) / self.points
            return weight * jnp.exp2(GAIN * jnp.log2(jnp.maximum(rate, 1e-6) / self.goal))

        due = (self.goal > 0) & (step % EVERY == 0) & (step > 0)
        return self.replace(weight=jax.lax.cond(due, adjust, lambda w: w, self.weight))

    def result(self, fitted):
        return fitted

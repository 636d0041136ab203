"""Image-level training terms: TTSR's perceptual and adversarial losses, optional.

What a step minimises is a :class:`Loss`: the reconstruction error at
the query points (L1 or L2) and, off by default, two terms of TTSR (Yang
et al., CVPR 2020, Eq. 7-10) that judge whole images:

* perceptual: ``||phi(I_SR) - phi(I_HR)||^2``, the mean squared difference
  of features ``phi`` of the output and of the target (TTSR: VGG19's
  relu5_1, and its "transferal" term with its own texture extractor);
* adversarial: WGAN-GP (Gulrajani et al., NeurIPS 2017).  A critic ``D``
  learns to tell targets from outputs by minimising

      E[D(I_SR)] - E[D(I_HR)] + lambda E[(||grad D(x_hat)||_2 - 1)^2],

  with ``x_hat`` a random blend of a target and an output; the restorator
  minimises ``-E[D(I_SR)]``.

Both need images, so they need ``Examples(query="patch")``: each row's query points
are a square block of target pixels, and the outputs at them, reshaped,
form the block (:func:`as_patches`).  This library ships no VGG weights
(nothing downloads at run time): ``phi`` is any function of images
(``(b, h, w, 3) -> pytree``) or, by default, the restorator's own texture
extractor (reference models only) with its weights held fixed in the term,
TTSR's transferal idea.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Annotated

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax

from inr._validate import as_number

__all__ = [
    "ERRORS",
    "Adversarial",
    "Critic",
    "Loss",
    "Perceptual",
    "as_loss",
    "as_patches",
    "critic_loss",
    "critic_optimizer",
    "critic_step",
    "feature_distance",
    "generator_loss",
]

ERRORS = ("l1", "l2")

Images = Annotated[jax.Array, "b h w 3"]


@dataclasses.dataclass(frozen=True)
class Perceptual:
    """The perceptual term and its weight (TTSR: 1e-2).

    Attributes:
      weight: the term's factor in the restorator's loss.
      features: ``phi``, a function of images ``(b, h, w, 3)`` in [0, 1]
        returning an array or a pytree of arrays (for example a pretrained
        VGG's activations); ``None``: the restorator's value texture
        extractor at fixed weights (needs ``RestoratorConfig(reference=True)``).
    """

    weight: float = 1e-2
    features: Callable | None = None

    def __post_init__(self):
        as_number(self.weight, "Perceptual.weight", 0.0, low_open=True)
        if self.features is not None and not callable(self.features):
            raise ValueError(f"Perceptual.features must be callable; got {self.features!r}")

    def record(self) -> dict:
        name = None if self.features is None else getattr(self.features, "__qualname__", "?")
        return {"weight": self.weight, "features": name}


@dataclasses.dataclass(frozen=True)
class Adversarial:
    """The WGAN-GP term, its weight (TTSR: 1e-3) and its critic.

    Attributes:
      weight: the term's factor in the restorator's loss.
      features: the critic's channels per stride-2 convolution.
      lr: the critic's Adam rate (WGAN-GP's 1e-4, with ``b1 = 0``, ``b2 = 0.9``).
      penalty: ``lambda``, the gradient penalty's factor (WGAN-GP's 10).
    """

    weight: float = 1e-3
    features: tuple[int, ...] = (32, 64, 128)
    lr: float = 1e-4
    penalty: float = 10.0

    def __post_init__(self):
        for name in ("weight", "lr", "penalty"):
            as_number(getattr(self, name), f"Adversarial.{name}", 0.0, low_open=True)
        widths = tuple(self.features) if isinstance(self.features, (tuple, list)) else ()
        if not widths or not all(isinstance(w, int) and w > 0 for w in widths):
            raise ValueError(
                f"Adversarial.features must be positive channel counts; got {self.features!r}"
            )
        object.__setattr__(self, "features", widths)

    def record(self) -> dict:
        return {**dataclasses.asdict(self), "features": list(self.features)}


class Critic(nn.Module):
    """WGAN's critic: stride-2 convolutions with leaky ReLU, then one score per image.

    No normalisation layer: the gradient penalty is per example, which
    batch normalisation would couple (Gulrajani et al., Sec. 4).
    """

    features: tuple[int, ...] = (32, 64, 128)

    @nn.compact
    def __call__(self, x: Images) -> Annotated[jax.Array, "b"]:
        x = 2.0 * x - 1.0
        for width in self.features:
            x = nn.leaky_relu(nn.Conv(width, (4, 4), strides=(2, 2))(x), 0.2)
        return nn.Dense(1)(jnp.mean(x, axis=(1, 2)))[:, 0]


def critic_optimizer(adversarial: Adversarial) -> optax.GradientTransformation:
    """Adam at WGAN-GP's settings (``b1 = 0``, ``b2 = 0.9``)."""
    return optax.adam(adversarial.lr, b1=0.0, b2=0.9)


def as_patches(values: Annotated[jax.Array, "b p c"]) -> Annotated[jax.Array, "b s s c"]:
    """Per-point values of a ``query="patch"`` batch as images: ``p = s^2`` points, row-major."""
    b, p, c = values.shape
    side = math.isqrt(p)
    if side * side != p:
        raise ValueError(f"a patch needs a square number of points; got {p}")
    return values.reshape(b, side, side, c)


def feature_distance(features: Callable, output: Images, target: Images) -> jax.Array:
    """Mean squared difference of ``features`` of the output and of the target, over every leaf."""
    a, b = features(output), jax.lax.stop_gradient(features(target))
    terms = jax.tree.map(lambda x, y: jnp.mean(jnp.square(x - y)), a, b)
    return sum(jax.tree.leaves(terms))


def critic_loss(
    critic: Critic, params, real: Images, fake: Images, key, penalty: float
) -> jax.Array:
    """WGAN-GP's critic objective (the module docstring); ``fake`` carries no gradient."""
    fake = jax.lax.stop_gradient(fake)
    eps = jax.random.uniform(key, (real.shape[0], 1, 1, 1))
    blend = eps * real + (1.0 - eps) * fake

    def score(x):  # one image's score, for its own input gradient
        return critic.apply(params, x[None])[0]

    grads = jax.vmap(jax.grad(score))(blend)
    norms = jnp.sqrt(jnp.sum(jnp.square(grads), axis=(1, 2, 3)) + 1e-12)
    wasserstein = jnp.mean(critic.apply(params, fake)) - jnp.mean(critic.apply(params, real))
    return wasserstein + penalty * jnp.mean(jnp.square(norms - 1.0))


def generator_loss(critic: Critic, params, fake: Images) -> jax.Array:
    """The restorator's adversarial term, ``-E[D(I_SR)]``, at fixed critic weights."""
    return -jnp.mean(critic.apply(jax.lax.stop_gradient(params), fake))


def critic_step(adversarial: Adversarial, state: dict, real: Images, fake: Images, key) -> dict:
    """One Adam step of the critic on :func:`critic_loss`.

    Returns the new ``{"critic", "critic_opt_state"}``.
    """
    critic, tx = Critic(adversarial.features), critic_optimizer(adversarial)
    args = (real, fake, key, adversarial.penalty)
    grads = jax.grad(critic_loss, argnums=1)(critic, state["critic"], *args)
    updates, opt_state = tx.update(grads, state["critic_opt_state"])
    return {"critic": optax.apply_updates(state["critic"], updates), "critic_opt_state": opt_state}


@dataclasses.dataclass(frozen=True)
class Loss:
    """What a training step minimises: a pointwise error and optional image terms.

    Every term of the loss lives here: its option, its check against the
    restorator, its value, and any state it trains beside the restorator
    (the adversarial critic), so a new term changes this module alone.

    Attributes:
      error: ``"l1"`` or ``"l2"``: the mean absolute or squared colour (or
        denoising) error at the query points.
      perceptual: TTSR's perceptual term, a :class:`Perceptual`, or ``None``.
      adversarial: TTSR's adversarial term (WGAN-GP), an
        :class:`Adversarial`, or ``None``.  Both image terms judge whole
        images, so they need ``Examples(query="patch")``; a validation loss
        is the pointwise error alone.
    """

    error: str = "l1"
    perceptual: Perceptual | None = None
    adversarial: Adversarial | None = None

    def __post_init__(self):
        if self.error not in ERRORS:
            raise ValueError(f"loss error must be one of {ERRORS}; got {self.error!r}")
        for name, kind in (("perceptual", Perceptual), ("adversarial", Adversarial)):
            term = getattr(self, name)
            if term is not None and not isinstance(term, kind):
                raise ValueError(f"{name} must be None or a {kind.__name__}; got {term!r}")

    @property
    def judges_images(self) -> bool:
        """Whether an image term is on (the batch's points must form patches)."""
        return self.perceptual is not None or self.adversarial is not None

    @property
    def trains_state(self) -> bool:
        """Whether a term trains weights of its own beside the restorator (the critic)."""
        return self.adversarial is not None

    def pointwise(self, residual: jax.Array) -> jax.Array:
        """The mean ``error`` of a residual (output minus target)."""
        return jnp.mean(jnp.abs(residual) if self.error == "l1" else jnp.square(residual))

    def image(self, output: Images, target: Images, state: dict, textures=None) -> jax.Array:
        """The weighted sum of the image terms that are on (0 when none is).

        ``state`` is the train state (the critic's weights); ``textures`` the
        ``phi`` of ``Perceptual(features=None)``: the restorator's texture
        extractor at fixed weights.
        """
        loss = jnp.zeros(())
        if self.perceptual is not None:
            phi = self.perceptual.features or textures
            loss = loss + self.perceptual.weight * feature_distance(phi, output, target)
        if self.adversarial is not None:
            critic = Critic(self.adversarial.features)
            loss = loss + self.adversarial.weight * generator_loss(critic, state["critic"], output)
        return loss

    def init_state(self, key) -> dict:
        """What the terms train beside the restorator: the critic's part of a train state."""
        if not self.trains_state:
            return {}
        params = Critic(self.adversarial.features).init(key, jnp.zeros((1, 16, 16, 3)))
        opt_state = critic_optimizer(self.adversarial).init(params)
        return {"critic": params, "critic_opt_state": opt_state}

    def state_step(self, state: dict, real: Images, fake: Images, key) -> dict:
        """One step of what the terms train (the critic), on this step's outputs."""
        if not self.trains_state:
            return {}
        return critic_step(self.adversarial, state, real, fake, key)

    def check(self, config, examples) -> None:
        """Raise if these terms cannot train a restorator of ``config`` on ``examples``."""
        if not self.judges_images:
            return
        if examples.query != "patch":
            raise ValueError(
                "perceptual and adversarial terms judge whole images: they need "
                f"Examples(query='patch'); got {examples.query!r}"
            )
        if config.decoding != "single":
            raise ValueError("perceptual and adversarial terms train single-pass restorators only")
        if (
            self.perceptual is not None
            and self.perceptual.features is None
            and not config.reference
        ):
            raise ValueError(
                "Perceptual(features=None) uses a reference model's texture extractor; "
                "pass features=... for a model without one"
            )

    def record(self) -> dict:
        """JSON-ready values, under the names runs have always recorded."""
        terms = {n: getattr(self, n) for n in ("perceptual", "adversarial")}
        return {"loss": self.error, **{n: t and t.record() for n, t in terms.items()}}


def as_loss(loss) -> Loss:
    """A :class:`Loss`, or ``"l1"`` / ``"l2"`` for that error alone."""
    if isinstance(loss, Loss):
        return loss
    if isinstance(loss, str):
        return Loss(loss)
    raise ValueError(f"loss must be a Loss, 'l1' or 'l2'; got {loss!r}")

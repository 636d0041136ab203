"""Image-level training terms: TTSR's perceptual and adversarial losses, optional.

A restorator is trained point by point on the reconstruction error (L1 or
L2, :class:`~inr.restorator.options.TrainConfig`'s ``loss``).  TTSR (Yang et
al., CVPR 2020, Eq. 7-10) adds two terms that judge whole images, both off
by default:

* perceptual: ``||phi(I_SR) - phi(I_HR)||^2``, the mean squared difference
  of features ``phi`` of the output and of the target (TTSR: VGG19's
  relu5_1, and its "transferal" term with its own texture extractor);
* adversarial: WGAN-GP (Gulrajani et al., NeurIPS 2017).  A critic ``D``
  learns to tell targets from outputs by minimising

      E[D(I_SR)] - E[D(I_HR)] + lambda E[(||grad D(x_hat)||_2 - 1)^2],

  with ``x_hat`` a random blend of a target and an output; the restorator
  minimises ``-E[D(I_SR)]``.

Both need images, so they need ``query="patch"``: each row's query points
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
    "Adversarial",
    "Critic",
    "Perceptual",
    "as_patches",
    "check_terms",
    "critic_loss",
    "critic_optimizer",
    "critic_step",
    "feature_distance",
    "generator_loss",
    "image_terms",
    "init_critic",
]

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


def image_terms(
    output: Images,
    target: Images,
    perceptual: Perceptual | None,
    adversarial: Adversarial | None,
    critic_params=None,
    textures: Callable | None = None,
) -> jax.Array:
    """The weighted sum of the terms that are on (0 when both are off).

    ``textures`` is the ``phi`` of ``Perceptual(features=None)``: the
    restorator's texture extractor at fixed weights.
    """
    loss = jnp.zeros(())
    if perceptual is not None:
        features = perceptual.features if perceptual.features is not None else textures
        loss = loss + perceptual.weight * feature_distance(features, output, target)
    if adversarial is not None:
        critic = Critic(adversarial.features)
        loss = loss + adversarial.weight * generator_loss(critic, critic_params, output)
    return loss


def init_critic(adversarial: Adversarial, key) -> dict:
    """``{"critic", "critic_opt_state"}``: the critic's part of a train state."""
    params = Critic(adversarial.features).init(key, jnp.zeros((1, 16, 16, 3)))
    return {"critic": params, "critic_opt_state": critic_optimizer(adversarial).init(params)}


def critic_step(adversarial: Adversarial, state: dict, real: Images, fake: Images, key) -> dict:
    """One Adam step of the critic on :func:`critic_loss`.

    Returns the new ``{"critic", "critic_opt_state"}``.
    """
    critic, tx = Critic(adversarial.features), critic_optimizer(adversarial)
    args = (real, fake, key, adversarial.penalty)
    grads = jax.grad(critic_loss, argnums=1)(critic, state["critic"], *args)
    updates, opt_state = tx.update(grads, state["critic_opt_state"])
    return {"critic": optax.apply_updates(state["critic"], updates), "critic_opt_state": opt_state}


def check_terms(config, train) -> None:
    """Raise if ``train``'s image terms cannot train a restorator of ``config``."""
    if train.perceptual is None and train.adversarial is None:
        return
    if config.restorator != "single":
        raise ValueError("perceptual and adversarial terms train single-pass restorators only")
    if train.perceptual is not None and train.perceptual.features is None and not config.reference:
        raise ValueError(
            "Perceptual(features=None) uses a reference model's texture extractor; "
            "pass features=... for a model without one"
        )

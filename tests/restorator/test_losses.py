import chex
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import inr
from inr.checkpoint import open_manager
from inr.restorator.losses import (
    Adversarial,
    Critic,
    Loss,
    Perceptual,
    as_patches,
    critic_loss,
    feature_distance,
    generator_loss,
)
from inr.restorator.step import _with_image_terms

from .conftest import TINY, train_tiny, untrained


class _Linear(nn.Module):
    """A critic whose input gradient is known: ``D(x) = <w, x> + b``."""

    @nn.compact
    def __call__(self, x):
        return nn.Dense(1)(x.reshape(x.shape[0], -1))[:, 0]


def _images(seed, shape=(3, 4, 4, 3)):
    return jax.random.uniform(jax.random.PRNGKey(seed), shape)


def test_wgan_gp_matches_its_formula_for_a_linear_critic():
    """For ``D(x) = <w, x> + b`` the penalty is ``lambda (|w| - 1)^2`` at every blend."""
    critic = _Linear()
    real, fake = _images(0), _images(1)
    params = critic.init(jax.random.PRNGKey(2), real)
    w = np.asarray(params["params"]["Dense_0"]["kernel"])[:, 0]
    b = float(params["params"]["Dense_0"]["bias"][0])
    score = lambda x: np.asarray(x).reshape(len(x), -1) @ w + b  # noqa: E731
    expected = score(fake).mean() - score(real).mean() + 10.0 * (np.linalg.norm(w) - 1.0) ** 2
    got = critic_loss(critic, params, real, fake, jax.random.PRNGKey(3), 10.0)
    np.testing.assert_allclose(got, expected, rtol=1e-5)
    np.testing.assert_allclose(generator_loss(critic, params, fake), -score(fake).mean(), rtol=1e-5)


def test_the_critic_loss_reaches_the_critic_only_and_the_generator_loss_the_output_only():
    critic = Critic((4, 8))
    real, fake = _images(0, (2, 16, 16, 3)), _images(1, (2, 16, 16, 3))
    params = critic.init(jax.random.PRNGKey(0), real)
    # Jitted: eagerly, every operation of the critic compiles alone.
    fake_grad = jax.jit(
        jax.grad(lambda f: critic_loss(critic, params, real, f, jax.random.PRNGKey(1), 10))
    )
    chex.assert_trees_all_equal(fake_grad(fake), jnp.zeros_like(fake))
    params_grad = jax.jit(jax.grad(lambda p: generator_loss(critic, p, fake)))(params)
    assert all(np.all(g == 0) for g in jax.tree.leaves(params_grad))
    output_grad = jax.jit(jax.grad(lambda f: generator_loss(critic, params, f)))(fake)
    assert np.abs(output_grad).sum() > 0
    assert critic.apply(params, fake).shape == (2,)


def test_feature_distance_is_the_mean_squared_feature_difference():
    def features(x):  # a pytree of two maps
        return {"colour": x, "mean": x.mean(axis=-1)}

    a, b = _images(0), _images(1)
    expected = np.mean((a - b) ** 2) + np.mean((a.mean(-1) - b.mean(-1)) ** 2)
    np.testing.assert_allclose(feature_distance(features, a, b), expected, rtol=1e-6)
    assert float(feature_distance(features, a, a)) == 0.0
    target_grad = jax.grad(lambda t: feature_distance(features, a, t))(b)
    chex.assert_trees_all_equal(target_grad, jnp.zeros_like(b))


def test_patches_are_the_points_in_row_major_order():
    values = jnp.arange(2 * 9 * 3, dtype=jnp.float32).reshape(2, 9, 3)
    patches = as_patches(values)
    assert patches.shape == (2, 3, 3, 3)
    np.testing.assert_array_equal(patches[1, 2, 0], values[1, 6])
    with pytest.raises(ValueError, match="square"):
        as_patches(values[:, :8])


def test_the_default_perceptual_features_leave_the_extractor_to_the_other_terms():
    """``Perceptual(features=None)``: the texture extractor is ``phi``, held fixed in the term.

    With every reference switched off the output does not depend on the
    extractor, so a term that differentiated through ``phi`` would be the
    only way for a gradient to reach it.
    """
    config = inr.RestoratorConfig(**dict(TINY, task="upscale", reference=True, texture=(4, 4)))
    model = untrained(config, scale=0.1)
    rng = np.random.default_rng(0)
    side = 6
    batch = {
        "inputs": jnp.asarray(rng.uniform(size=(2, 16, 16, 3)), jnp.float32),
        "points": jnp.asarray(rng.uniform(-1, 1, (2, side * side, 2)), jnp.float32),
        "targets": jnp.asarray(rng.uniform(size=(2, side * side, 3)), jnp.float32),
        "cell": jnp.full((2, 2), 0.5),
        "reference": jnp.asarray(rng.uniform(size=(2, 32, 32, 3)), jnp.float32),
        "present": jnp.zeros(2),
    }
    net = inr.restorator.RestoratorNet(config)

    def grads(perceptual):
        def total(p):
            return _with_image_terms(p, net, batch, Loss(perceptual=perceptual), {})[0]

        # Jitted: eagerly, every operation of the reference model compiles alone.
        return jax.jit(jax.grad(total))(model.params)

    with_term, without = grads(Perceptual(weight=1.0)), grads(None)
    extractor = lambda g: g["params"]["value_texture"]  # noqa: E731
    chex.assert_trees_all_equal(extractor(with_term), extractor(without))
    # ... while the decoder's gradient does change.
    decoders = (jax.tree.leaves(g["params"]["decoder"]) for g in (with_term, without))
    pairs = zip(*decoders, strict=True)
    assert any(not np.allclose(x, y) for x, y in pairs)


@pytest.mark.slow
def test_image_terms_train_and_resume_exactly(colour_images, tmp_path):
    terms = dict(
        query="patch",
        points_per_image=64,
        perceptual=Perceptual(features=lambda x: x[:, 1:] - x[:, :-1]),
        adversarial=Adversarial(features=(4, 8)),
    )
    whole = train_tiny(colour_images, steps=6, **terms)
    train_tiny(colour_images, steps=6, directory=tmp_path, save_every=3, **terms)
    manager = open_manager(tmp_path)  # back to step 3: the critic resumes too
    manager.delete(6)
    manager.close()
    resumed = train_tiny(colour_images, steps=6, directory=tmp_path, save_every=3, **terms)
    chex.assert_trees_all_equal(whole.params, resumed.params)
    plain = train_tiny(colour_images, steps=6, query="patch", points_per_image=64)
    leaves = zip(jax.tree.leaves(whole.params), jax.tree.leaves(plain.params), strict=True)
    assert any(not np.array_equal(a, b) for a, b in leaves)


def test_bad_image_terms_are_named(colour_images):
    with pytest.raises(ValueError, match="query='patch'"):
        train_tiny(colour_images, steps=1, perceptual=Perceptual(features=jnp.abs))
    with pytest.raises(ValueError, match="square"):
        inr.restorator.Examples(query="patch", points_per_image=1000)
    with pytest.raises(ValueError, match="Perceptual.weight"):
        Perceptual(weight=-1.0)
    with pytest.raises(ValueError, match="Adversarial.features"):
        Adversarial(features=(8, 0))
    with pytest.raises(ValueError, match="adversarial must be"):
        Loss(adversarial=1e-3)
    with pytest.raises(ValueError, match="loss must be a Loss"):
        inr.TrainConfig(loss=None)
    with pytest.raises(ValueError, match="loss error must be one of"):
        inr.TrainConfig(loss="huber")
    with pytest.raises(ValueError, match="texture extractor"):
        train_tiny(colour_images, steps=1, query="patch", perceptual=Perceptual())
    with pytest.raises(ValueError, match="single-pass"):
        train_tiny(
            colour_images, steps=1, decoding="diffusion", query="patch", adversarial=Adversarial()
        )

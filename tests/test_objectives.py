"""What a fit minimises (inr.objectives): targets, multi-scale terms, annealing."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import inr
from inr.objectives import _differences, _multiscale, loss, problem, problems


def test_multiscale_targets_are_differences_of_a_conservative_field(rng):
    """For the gradient of an image, D_k is exactly the k-pixel difference."""
    u = rng.uniform(size=(13, 20, 2)).astype(np.float32)
    dx, dy = _differences(np.asarray(inr.image_gradient(u)))
    assert [u.shape[1] - d.shape[1] for d in dx] == [2, 4, 8, 16]
    assert [u.shape[0] - d.shape[0] for d in dy] == [2, 4, 8]
    for d in dx:
        k = u.shape[1] - d.shape[1]
        np.testing.assert_allclose(d, u[:, k:] - u[:, :-k], atol=1e-5)
    for d in dy:
        k = u.shape[0] - d.shape[0]
        np.testing.assert_allclose(d, u[k:] - u[:-k], atol=1e-5)
    assert float(_multiscale(jnp.asarray(u), dx, dy)) < 1e-10
    assert float(_multiscale(jnp.asarray(u) + u[::-1], dx, dy)) > 1e-3


def test_multiscale_terms_fade_out(camera64):
    """Full weight at step 0, none from ANNEAL * steps on; never in the reported loss."""
    batch = jax.tree.map(jnp.asarray, problem(camera64[..., None], None, "gradients", 10))
    model = inr.Siren(hidden_features=16, hidden_layers=1)
    params = model.init(jax.random.PRNGKey(0), jnp.zeros((1, 2)))
    # Jitted: eagerly, every operation of every scale compiles alone.
    at = jax.jit(lambda step: loss(model, "gradients", params, batch, step))
    first, (loss0, _) = at(0)
    last, (loss7, _) = at(7)
    assert float(first) > float(loss0) * 1.01
    assert float(last) == float(loss7) == float(loss0)


@pytest.mark.parametrize("target", ["gradients", "laplacian"])
@pytest.mark.parametrize("channels", [1, 3])
def test_stacked_problems_equal_the_per_imageproblems(rng, target, channels):
    """Folding a stack into the channel axis changes no entry of any image's problem."""
    images = rng.uniform(size=(4, 9, 12, channels)).astype(np.float32)
    stacked = problems(images, target, 10)
    singles = [problem(im, None, target, 10) for im in images]
    assert stacked.keys() == singles[0].keys()
    flat = jax.tree_util.tree_leaves
    for i, single in enumerate(singles):
        for got, want in zip(flat({k: stacked[k] for k in single}), flat(single), strict=True):
            np.testing.assert_array_equal(got[i], want)


def test_anneal_sets_how_long_the_multiscale_terms_last(camera64):
    image = camera64[..., None]
    assert problem(image, None, "gradients", 100)["anneal"] == 70
    assert problem(image, None, "gradients", 100, anneal=0.5)["anneal"] == 50
    assert "dx" not in problem(image, None, "gradients", 100, anneal=0)
    stack = problems(np.stack([image, image]), "gradients", 100, anneal=None)
    assert stack["anneal"].shape == (2,) and np.isinf(stack["anneal"]).all()
    kept = jax.tree.map(jnp.asarray, problem(image, None, "gradients", 10, anneal=None))
    model = inr.Siren(hidden_features=16, hidden_layers=1)
    params = model.init(jax.random.PRNGKey(0), jnp.zeros((1, 2)))
    first, (loss0, _) = loss(model, "gradients", params, kept, 0)
    late, (loss9, _) = loss(model, "gradients", params, kept, 10**6)
    assert float(late) == float(first) > float(loss0) * 1.01 and float(loss9) == float(loss0)

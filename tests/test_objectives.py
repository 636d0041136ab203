"""The objectives of gridded signals (inr.objectives): targets, multi-scale terms, annealing."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import inr
from inr.loop import unshared
from inr.objectives import _differences, _multiscale


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


def _at(objective, model, params):
    """The objective's value and reported loss at a step, jitted (eagerly every op compiles)."""
    key = jax.random.PRNGKey(0)
    return jax.jit(lambda s: objective.loss(model, params, objective.draw(key, s)))


def test_multiscale_terms_fade_out(camera64):
    """Full weight at step 0, none from ``anneal_until`` on; never in the reported loss."""
    objective = inr.ImageGradients.create(camera64, anneal_until=7)
    model = inr.Siren(hidden_features=16, hidden_layers=1)
    params = model.init(jax.random.PRNGKey(0), jnp.zeros((1, 2)))
    at = _at(objective, model, params)
    first, m0 = at(0)
    last, m7 = at(7)
    assert float(first) > float(m0["loss"]) * 1.01
    assert float(last) == float(m7["loss"]) == float(m0["loss"])
    kept = _at(inr.ImageGradients.create(camera64), model, params)  # anneal_until=inf
    assert float(kept(10**6)[0]) == float(first)
    none = inr.ImageGradients.create(camera64, anneal_until=0)
    assert none.dx == () and float(_at(none, model, params)(0)[0]) == float(m0["loss"])


@pytest.mark.parametrize("kind", [inr.ImageGradients, inr.ImageLaplacian])
@pytest.mark.parametrize("channels", [1, 3])
def test_a_stack_holds_each_images_own_objective(rng, kind, channels):
    """``inr.stack`` keeps every image's own entries and the shared grid once."""
    images = rng.uniform(size=(4, 9, 12, channels)).astype(np.float32)
    stacked = inr.stack([kind.create(image) for image in images]).objectives
    for name in kind.shared:  # one grid for all: no leading fit axis
        np.testing.assert_array_equal(getattr(stacked, name), getattr(kind.create(images[0]), name))
    mapped, _ = unshared(stacked)
    for i, image in enumerate(images):
        single, _ = unshared(kind.create(image))
        assert jax.tree.structure(single) == jax.tree.structure(mapped)
        for got, want in zip(jax.tree.leaves(mapped), jax.tree.leaves(single), strict=True):
            np.testing.assert_allclose(got[i], want, rtol=1e-6, atol=1e-6)


def test_fit_image_anneals_a_share_of_its_steps(camera64):
    """``anneal`` is a share of the fit's steps; the objective holds the step it ends at."""
    seen = []

    def spy(step, total, metrics):
        seen.append(metrics)

    fit = inr.fit_image(camera64[::4, ::4], target="gradients", steps=10, anneal=0.5,
                        model=inr.Siren(16, 1), progress=spy)  # fmt: skip
    assert set(fit.history) == {"loss", "psnr"} and seen[-1].keys() == {"loss", "psnr"}
    assert float(inr.ImageGradients.create(camera64, anneal_until=0.5 * 10).anneal_until) == 5


def test_bad_objective_input_is_named():
    with pytest.raises(ValueError, match="anneal_until"):
        inr.ImageGradients.create(np.zeros((8, 8)), anneal_until=-1)
    with pytest.raises(ValueError, match="grad"):
        inr.ImageGradients.from_gradient(np.zeros((4, 4, 3)))
    with pytest.raises(ValueError, match="points"):
        inr.SignalValues.create(np.zeros((8, 8)), points=0)
    with pytest.raises(ValueError, match="image"):
        inr.ImageLaplacian.create(np.zeros((8, 8, 7)))


def test_adding_a_stream_leaves_every_other_streams_draws_as_they_were():
    """Streams are named, not numbered: a step that draws one more thing (here ``"extra"``)
    draws the others from the same keys, so their draws are unchanged."""
    key = jax.random.PRNGKey(3)
    before = inr.streams(key, 7, "pixels", "jitter")
    after = inr.streams(key, 7, "pixels", "extra", "jitter")
    for old, new in zip(before, (after[0], after[2]), strict=True):
        np.testing.assert_array_equal(old, new)
    pixels = lambda k: jax.random.randint(k, (16,), 0, 1000)  # noqa: E731
    np.testing.assert_array_equal(pixels(before[0]), pixels(after[0]))
    assert not np.array_equal(after[1], after[2]) and not np.array_equal(before[0], before[1])
    with pytest.raises(ValueError, match="named"):
        inr.streams(key, 7, 2)

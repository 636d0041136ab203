"""One compile per shape: a second call with new data, steps or an equal optimiser compiles nothing.

Each check makes a first call, then counts the programs its second call
lowers (:mod:`tests._compiles`): new data of the same shapes, another step
count, the optimiser written anew with the same values, renders of other
sizes and point counts.  The other entries (shapes, radiance fields,
sinograms, equations, latents, meta-training, restorators) are checked
beside their own first fits, in their modules.
"""

import jax
import numpy as np
import optax
import pytest

import inr

from ._compiles import compilations

MODEL = inr.Siren(16, 1, 3)


@pytest.fixture(scope="module")
def images(astronaut64):
    return np.stack([astronaut64[:16, :16], astronaut64[16:32, :16], astronaut64[:16, 16:32]])


def test_fit_image_again_compiles_nothing(images):
    inr.fit_image(images[0], model=MODEL, steps=30, optimizer=optax.adam(1e-3))
    with compilations() as n:
        fit = inr.fit_image(images[1], model=MODEL, steps=130, optimizer=optax.adam(1e-3))
    assert n[0] == 0 and fit.history["loss"].shape == (130,)


def test_random_points_and_the_default_optimizer_again_compile_nothing(images):
    inr.fit_image(images[0], model=MODEL, steps=5, points=64)
    with compilations() as n:
        inr.fit_image(images[2], model=MODEL, steps=7, points=64, seed=4)
    assert n[0] == 0


def test_a_float_signal_of_another_range_compiles_nothing(rng):
    """A signal's own value range is data: a new range is a new value, not a new program."""
    audio = rng.normal(size=(256, 2)).astype(np.float32)
    inr.fit_signal(audio, model=inr.Siren(16, 1, 2), steps=3)
    with compilations() as n:
        fit = inr.fit_signal(3.0 * audio + 7.0, model=inr.Siren(16, 1, 2), steps=4)
    assert n[0] == 0 and fit.value_range[1] > 10


def test_batched_and_derivative_fits_again_compile_nothing(images):
    kw = dict(model=MODEL, steps=4)
    inr.fit_images(images, **kw)
    inr.fit_image(images[0], target="gradients", **kw)
    inr.fit_signals(images[:2], **kw)
    with compilations() as n:
        inr.fit_images(images[::-1], **{**kw, "steps": 9})
        inr.fit_image(images[1], target="gradients", **{**kw, "steps": 6})
        inr.fit_signals(images[1:], **kw)
    assert n[0] == 0


def test_instant_ngps_adam_of_any_length_is_one_program(images):
    """ngp_adam keeps its rate and horizon as state: other steps and rates, one program."""
    grid = inr.MLP(16, 1, 3, encoding=inr.HashGrid(levels=4, log2_table_size=10))
    inr.fit_image(images[0], model=grid, steps=5, optimizer=inr.ngp_adam(5))
    with compilations() as n:
        inr.fit_image(images[1], model=grid, steps=8, optimizer=inr.ngp_adam(8, rate=3e-3))
    assert n[0] == 0


def test_ngp_adam_is_optaxs_exponential_decay():
    """The same updates as optax.adam over optax.exponential_decay, to the bit."""
    import jax.numpy as jnp

    ours, theirs = (
        inr.ngp_adam(50, 2e-2),
        optax.adam(optax.exponential_decay(2e-2, 50, 0.1), b1=0.9, b2=0.99, eps=1e-15),
    )
    p = jnp.array([0.5, -1.0, 2.0])
    a, b = ours.init(p), theirs.init(p)
    for k in range(20):
        g = jnp.array([1.0, -2.0, 3.0]) * np.cos(k + 1.0)
        (ua, a), (ub, b) = ours.update(g, a, p), theirs.update(g, b, p)
        np.testing.assert_array_equal(np.asarray(ua), np.asarray(ub))


def test_renders_of_any_size_and_points_of_any_count_compile_nothing_new(images):
    fit = inr.fit_image(images[0], model=MODEL, steps=3)
    fit.render(20, 30)
    fit.at(np.zeros((10, 2), np.float32))
    fit.gradient(8, 8)
    with compilations() as n:
        fit.render(33, 17)
        fit.render(5, 70, region=(0.1, 0.2, 0.9, 0.4))
        fit.at(np.zeros((777, 2), np.float32))
        fit.gradient(12, 9)
    assert n[0] == 0


def test_an_optimiser_of_parts_of_any_length_is_one_program(images):
    """multi_transform holds whole transformations; their lengths are state, not program."""

    def optimiser(steps, b1=0.9):
        parts = {"a": inr.decayed_adam(steps, 1e-3, b1=b1), "b": inr.decayed_adam(steps, 1e-2)}
        return optax.multi_transform(parts, lambda p: jax.tree.map(lambda _: "a", p))

    inr.fit_image(images[0], model=MODEL, steps=3, optimizer=optimiser(3))
    with compilations() as n:
        inr.fit_image(images[1], model=MODEL, steps=5, optimizer=optimiser(5))
    assert n[0] == 0
    with compilations() as n:  # Adam's own constants are the program's
        inr.fit_image(images[1], model=MODEL, steps=5, optimizer=optimiser(5, b1=0.8))
    assert n[0] > 0


def test_a_different_optimiser_or_shape_does_compile(images):
    """The counter is not blind: another constant or another size is a new program."""
    inr.fit_image(images[0], model=MODEL, steps=3, optimizer=optax.adam(1e-3))
    with compilations() as n:
        inr.fit_image(images[0], model=MODEL, steps=3, optimizer=optax.adam(2e-3))
    assert n[0] > 0
    with compilations() as n:
        inr.fit_image(images[0][:8], model=MODEL, steps=3, optimizer=optax.adam(1e-3))
    assert n[0] > 0

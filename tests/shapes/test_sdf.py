"""Signed distance fields fitted to oriented points, against an exact sphere."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import inr
from inr import shapes
from inr.render import evaluate
from inr.shapes.sdf import as_field, field_gradient

from .._compiles import compilations


def sphere_points(n, radius=1.0, centre=(0.0, 0.0, 0.0), seed=0):
    p = np.random.default_rng(seed).normal(size=(n, 3))
    p /= np.linalg.norm(p, axis=1, keepdims=True)
    return radius * p + np.asarray(centre), p


@pytest.fixture(scope="module")
def sphere_fit():
    """A unit sphere's field: SIREN 64 x 1, low first frequency, points near the surface."""
    p, n = sphere_points(20000)
    loss, near = shapes.SDFLoss(eikonal=200.0), shapes.SDFSampling(near=0.5, spread=0.1)
    adam = optax.adam(optax.cosine_decay_schedule(1e-3, 1500))
    model = inr.Siren(64, 1, 1, first_w0=5.0)
    return shapes.fit_sdf(p, n, model=model, optimizer=adam, steps=1500, points=2000, loss=loss,
                          sampling=near)  # fmt: skip


@pytest.mark.slow  # a fit of 1500 steps
def test_a_fitted_sphere_is_its_distance_near_the_surface(sphere_fit):
    q = np.random.default_rng(1).uniform(-1.2, 1.2, size=(30000, 3))
    true = np.linalg.norm(q, axis=1) - 1.0
    band = np.abs(true) < 0.1
    assert np.abs(sphere_fit.at(q[band]) - true[band]).max() < 0.01
    fn, _ = as_field(sphere_fit)
    _, grad = evaluate(field_gradient, fn, q[band], chunk=4096)
    deviation = np.abs(np.linalg.norm(np.asarray(grad), axis=1) - 1.0)
    assert np.percentile(deviation, 99) < 0.02 and deviation.mean() < 0.01
    assert sphere_fit.history["loss"][-1] < sphere_fit.history["loss"][0] / 10


def test_distances_come_back_in_the_input_units():
    p, n = sphere_points(4000, radius=3.0, centre=(10.0, -2.0, 5.0))
    sdf = shapes.fit_sdf(p, n, model=inr.Siren(32, 1, 1, first_w0=5.0), steps=2, points=128)
    np.testing.assert_allclose(sdf.transform.centre, [10, -2, 5], atol=0.05)
    np.testing.assert_allclose(sdf.transform.scale, 3.0, atol=0.05)
    # The field at a point is the network at its field coordinates, times the scale.
    q = np.array([[10.0, -2.0, 8.0], [13.0, -2.0, 5.0]], np.float32)
    net = np.asarray(sdf.model.apply(sdf.params, sdf.transform.to_field(q)))[:, 0]
    np.testing.assert_allclose(sdf.at(q), net * sdf.transform.scale, rtol=1e-5)


def test_a_fit_is_a_function_of_its_seed_and_takes_any_model():
    p, n = sphere_points(2000)
    grid = inr.MLP(16, 1, 1, encoding=inr.HashGrid(levels=4, log2_table_size=10))
    fit = lambda seed: shapes.fit_sdf(p, n, model=grid, steps=3, points=256, seed=seed)  # noqa: E731
    a, b, c = fit(0), fit(0), fit(1)
    np.testing.assert_array_equal(a.history["loss"], b.history["loss"])
    assert not np.array_equal(a.history["loss"], c.history["loss"])
    assert np.isfinite(a.history["loss"]).all()


def test_the_loss_is_sirens_terms_on_a_known_field():
    """At the sphere's exact distance every term is exact: only the off-surface term remains."""
    p, n = sphere_points(500)
    p, n = p.astype(np.float32), n.astype(np.float32)
    siren = {"loss": shapes.SDFLoss(), "sampling": shapes.SDFSampling()}
    objective = shapes.SDFObjective.create(p, n, points=512, **siren)
    centre, scale = (np.asarray(v) for v in (objective.transform.centre, objective.transform.scale))

    class Exact(inr.nn.mlp.nn.Module):  # the unit sphere's distance, in field units
        @inr.nn.mlp.nn.compact
        def __call__(self, x):
            self.param("unused", lambda *_: jnp.zeros(()))
            r = jnp.linalg.norm(x * scale + centre, axis=-1, keepdims=True)
            return (r - 1.0) / scale

    key = jax.random.PRNGKey(0)
    params = Exact().init(key, objective.surface)
    batch = objective.draw(key, 0)
    value, metrics = objective.loss(Exact(), params, batch)
    x, _, _, uniform, _ = batch
    f = (np.linalg.norm(np.asarray(x) * scale + centre, axis=1) - 1.0) / scale
    expected = 1e2 * np.mean(np.where(np.asarray(uniform), np.exp(-1e2 * np.abs(f)), 0.0))
    np.testing.assert_allclose(float(value), expected, rtol=1e-4, atol=1e-6)
    assert float(metrics["surface"]) < 1e-5 and float(metrics["eikonal"]) < 1e-5
    assert float(metrics["normal"]) < 1e-6 and float(metrics["loss"]) == float(value)


def test_bad_options_are_named():
    p, n = sphere_points(100)
    with pytest.raises(ValueError, match="loss must be an SDFLoss"):
        shapes.fit_sdf(p, n, loss={"surface": 1.0})
    with pytest.raises(ValueError, match="SDFSampling.near"):
        shapes.SDFSampling(near=2.0)
    with pytest.raises(ValueError, match="SDFLoss.alpha"):
        shapes.SDFLoss(alpha=-1.0)
    with pytest.raises(ValueError, match="sampling must be an SDFSampling"):
        shapes.fit_sdf(p, n, sampling=shapes.SDFLoss())
    for points in (0, 3):
        with pytest.raises(ValueError, match="points"):
            shapes.fit_sdf(p, n, points=points)


def test_the_distance_pool_is_the_signed_distance_to_the_samples():
    p, n = sphere_points(20000)
    loss = shapes.SDFLoss(distance=1.0)
    sampling = shapes.SDFSampling(near=0.5, spread=0.1, pool=4000)
    x, d = sampling.distance_pool(p.astype(np.float32), n.astype(np.float32), seed=0)
    assert x.shape == (4000, 3) and np.abs(x).max() <= 1.1 + 0.5
    np.testing.assert_array_equal(np.sign(d), np.sign(np.linalg.norm(x, axis=1) - 1.0))
    # The nearest sample is within the gaps between samples (about 0.025 apart here).
    np.testing.assert_allclose(d, np.linalg.norm(x, axis=1) - 1.0, atol=0.05)
    grid = inr.MLP(16, 1, 1, encoding=inr.HashGrid(levels=4, log2_table_size=10))
    fit = shapes.fit_sdf(p, n, model=grid, steps=20, points=512, loss=loss, sampling=sampling)
    assert fit.history["loss"][-1] < fit.history["loss"][0]
    assert set(fit.history) == {"loss", "surface", "normal", "eikonal", "off_surface", "distance"}


def test_a_second_fit_and_any_point_count_compile_nothing():
    """New points of the same count, another length, distances at any count, any lattice."""
    p, n = sphere_points(1000)
    kw = dict(model=inr.Siren(16, 1, 1, first_w0=5.0), points=128)
    first = shapes.fit_sdf(p, n, steps=100, **kw)  # enough for a surface to mesh
    first.at(p[:10])
    shapes.extract_mesh(first, 12)
    q, m = sphere_points(1000, radius=2.0, seed=4)
    with compilations() as count:
        shapes.fit_sdf(q, m, steps=5, **kw).at(q[:333])
        mesh = shapes.extract_mesh(first, 17)
    assert count[0] == 0 and len(mesh.faces) > 0


def test_the_convenience_is_a_fit_of_its_objective():
    p, n = sphere_points(500)
    kw = dict(model=inr.Siren(16, 1, 1), steps=3)
    a = shapes.fit_sdf(p, n, points=64, **kw)
    b = inr.fit(shapes.SDFObjective.create(p, n, points=64), **kw)
    assert type(b) is shapes.SDF
    np.testing.assert_array_equal(a.history["loss"], b.history["loss"])
    np.testing.assert_array_equal(a.at(p[:5]), b.at(p[:5]))

"""Radiance fields fitted to an analytically rendered sphere, and their bad input."""

import numpy as np
import optax
import pytest

import inr
from inr import nerf

from .._compiles import compilations
from .scene import sphere_views

SAMPLING = nerf.Sampling(near=1.0, far=5.0, samples=64, budget=24, box=1.0)
# A field for checks of arguments, programs and plumbing, where quality is not the point.
SMALL = nerf.NGPField(grid=inr.HashGrid(levels=2, log2_table_size=8), hidden=8)


def _options():
    grid = inr.HashGrid(levels=6, features=2, log2_table_size=12, base_resolution=4, growth=1.6)
    return dict(model=nerf.NGPField(grid=grid, hidden=32), rays=512, sampling=SAMPLING,
                occupancy=nerf.Occupancy(resolution=32), background=None)  # fmt: skip


@pytest.fixture(scope="module")
def sphere():
    images, cameras, depths = sphere_views(24, 24)
    field = nerf.fit_radiance_field(images[:20], cameras[:20], steps=300, **_options())
    return field, images, cameras, depths


@pytest.mark.slow  # a fit of 300 steps (the lego: benchmarks/nerf.py)
def test_a_fitted_sphere_renders_its_held_out_views(sphere):
    field, images, cameras, depths = sphere
    scores = field.score(images[20:], cameras[20:])
    assert scores["psnr"] > 26.0 and scores["ssim"] > 0.85
    view = field.render(cameras[21])
    assert view.rgb.shape == (24, 24, 3) and view.depth.shape == view.opacity.shape == (24, 24)
    alpha = images[21, ..., 3] / 255.0
    assert np.abs(view.opacity - alpha).mean() < 0.08  # the silhouette is the sphere's
    hit = alpha == 1
    assert np.median(np.abs(view.depth[hit] - depths[21][hit])) < 0.1  # the surface's distance


@pytest.mark.slow
def test_the_occupancy_grid_cuts_the_samples_a_ray_evaluates(sphere):
    field = sphere[0]
    samples = field.history["samples"]
    # The grid starts full: the first step evaluates (nearly) every candidate.
    assert samples[0] > 0.95 * SAMPLING.samples and samples[-50:].mean() < SAMPLING.samples / 4
    assert field.history["rays"][-1] == 1.0  # every ray fits the budget by then
    assert 0.02 < float(field.grid.occupied.mean()) < 0.5


def test_bad_views_are_named():
    images, cameras, _ = sphere_views(3, 8)
    with pytest.raises(ValueError, match="cameras .* must match the images"):
        nerf.fit_radiance_field(images[:2], cameras, steps=1)
    with pytest.raises(ValueError, match="images must be shaped"):
        nerf.fit_radiance_field(images[..., :2], cameras, steps=1)
    with pytest.raises(ValueError, match="near must be below far"):
        nerf.Sampling(near=6.0, far=2.0)
    with pytest.raises(ValueError, match="background"):
        nerf.fit_radiance_field(images, cameras, background=(2, 0, 0), steps=1)
    with pytest.raises(ValueError, match="model must"):
        nerf.fit_radiance_field(images, cameras, model=inr.Siren(8, 1, 3), steps=1)
    with pytest.raises(FloatingPointError, match="diverged"):
        nerf.fit_radiance_field(images, cameras, model=SMALL, steps=2, rays=16, sampling=SAMPLING,
                                optimizer=optax.sgd(float("nan")))  # fmt: skip


def test_a_second_fit_and_renders_of_any_size_compile_nothing():
    """New images of the same shapes, another step count, another view size: no program."""
    images, cameras, _ = sphere_views(24, 24)
    kw = {**_options(), "model": SMALL, "rays": 64}
    field = nerf.fit_radiance_field(images[:20], cameras[:20], steps=2, **kw)
    field.render(cameras[21])
    field.at(np.zeros((5, 3)), np.ones((5, 3)))
    other = cameras[20].resized((17, 31))
    with compilations() as n:
        again = nerf.fit_radiance_field(images[4:], cameras[4:], steps=3, **kw)
        view = again.render(other)
        sigma, rgb = field.at(np.zeros((300, 3)), np.ones((300, 3)))
    assert n[0] == 0
    assert view.rgb.shape == (17, 31, 3) and sigma.shape == (300,) and rgb.shape == (300, 3)


def test_the_convenience_is_a_fit_of_its_objective():
    """fit_radiance_field only builds the objective: inr.fit of it is the same fit."""
    images, cameras, _ = sphere_views(4, 8)
    model = SMALL
    kw = dict(rays=32, sampling=SAMPLING)
    a = nerf.fit_radiance_field(images, cameras, model=model, steps=3, **kw)
    b = inr.fit(nerf.RadianceObjective.create(images, cameras, **kw), model=model, steps=3)
    assert type(b) is nerf.RadianceField and isinstance(b, inr.FitResult)
    np.testing.assert_array_equal(a.history["loss"], b.history["loss"])
    np.testing.assert_array_equal(a.render(cameras[0]).rgb, b.render(cameras[0]).rgb)

"""Meshes out of fields, sphere-traced pictures, and the metrics, against exact shapes."""

import jax.numpy as jnp
import numpy as np
import pytest
from scipy.spatial import cKDTree

import inr
from inr import shapes
from inr.shapes import extract

pytest.importorskip("skimage")


def sphere(p):
    return jnp.linalg.norm(p, axis=-1) - 0.5


def torus(p):  # radii 0.6 and 0.2 around z
    ring = jnp.sqrt(p[:, 0] ** 2 + p[:, 1] ** 2) - 0.6
    return jnp.sqrt(ring**2 + p[:, 2] ** 2) - 0.2


def test_a_sphere_meshes_onto_its_surface_with_exact_normals():
    mesh = shapes.extract_mesh(sphere, 48, box=(-1, -1, -1, 1, 1, 1))
    radius = np.linalg.norm(mesh.vertices, axis=1)
    np.testing.assert_allclose(radius, 0.5, atol=2e-3)
    np.testing.assert_allclose(mesh.normals, mesh.vertices / radius[:, None], atol=1e-5)
    v, f = mesh.vertices, mesh.faces
    winding = np.cross(v[f[:, 1]] - v[f[:, 0]], v[f[:, 2]] - v[f[:, 0]])
    assert (np.sum(winding * v[f].mean(axis=1), axis=1) > 0).all()  # outwards


def test_slabs_weld_into_the_same_closed_mesh(monkeypatch):
    whole = shapes.extract_mesh(torus, 40, box=(-1, -1, -1, 1, 1, 1))
    monkeypatch.setattr(extract, "_SLAB_POINTS", 40 * 40 * 4)  # 13 slabs
    slabs = shapes.extract_mesh(torus, 40, box=(-1, -1, -1, 1, 1, 1))
    assert len(slabs.vertices) == len(whole.vertices) and len(slabs.faces) == len(whole.faces)
    gap, _ = cKDTree(whole.vertices).query(slabs.vertices)
    assert gap.max() < 1e-6
    edges = np.sort(slabs.faces[:, [0, 1, 1, 2, 2, 0]].reshape(-1, 2), axis=1)
    _, count = np.unique(edges, axis=0, return_counts=True)
    assert (count == 2).all()  # every edge between two triangles: closed


def test_a_box_is_in_the_fields_units_and_level_offsets_the_surface():
    half = shapes.extract_mesh(sphere, 32, box=(0, -1, -1, 1, 1, 1))
    assert half.vertices[:, 0].min() >= 0
    grown = shapes.extract_mesh(sphere, 48, box=(-1, -1, -1, 1, 1, 1), level=0.1)
    np.testing.assert_allclose(np.linalg.norm(grown.vertices, axis=1), 0.6, atol=2e-3)
    with pytest.raises(ValueError, match="no level set"):
        shapes.extract_mesh(sphere, 16, box=(-1, -1, -1, 1, 1, 1), level=5.0)
    with pytest.raises(ValueError, match="resolution"):
        shapes.extract_mesh(sphere, (16, 16))
    with pytest.raises(ValueError, match="box must have"):
        shapes.extract_mesh(sphere, 16, box=(1, -1, -1, -1, 1, 1))


def rays(eye, fov, size, target=(0.0, 0.0, 0.0), up=(0.0, 1.0, 0.0)):
    """Unit ray directions of a look-at camera, by hand: the image plane one unit ahead."""
    forward = np.subtract(target, eye) / np.linalg.norm(np.subtract(target, eye))
    right = np.cross(forward, up) / np.linalg.norm(np.cross(forward, up))
    frame = (right, np.cross(right, forward), forward)
    h, w = size
    tan = np.tan(np.radians(fov) / 2)
    v = (1 - 2 * (np.arange(h) + 0.5) / h) * tan
    u = (2 * (np.arange(w) + 0.5) / w - 1) * tan * w / h
    uu, vv = np.meshgrid(u, v)
    d = uu[..., None] * frame[0] + vv[..., None] * frame[1] + frame[2]
    return d / np.linalg.norm(d, axis=-1, keepdims=True)


def test_sphere_tracing_finds_the_exact_depth_and_normals():
    camera = inr.Camera.look_at(eye=(0.3, 0.4, 2.5), fov=35.0, size=(48, 64))
    pic = shapes.render_sdf(sphere, camera, epsilon=1e-6, footprint=0.0)
    eye, d = np.array([0.3, 0.4, 2.5]), rays((0.3, 0.4, 2.5), 35.0, (48, 64))
    np.testing.assert_allclose(inr.rays(camera)[1], d, atol=1e-6)  # the camera's own rays
    b = d @ eye
    disc = b**2 - (eye @ eye - 0.25)
    exact = -b - np.sqrt(np.maximum(disc, 0))
    inside = disc > 1e-2  # rays that are not grazing the silhouette
    assert pic.hit[inside].all() and not pic.hit[disc < 0].any()
    np.testing.assert_allclose(pic.depth[inside], exact[inside], atol=2e-4)  # 1e-4 of the scene
    point = eye + pic.depth[inside][:, None] * d[inside]
    np.testing.assert_allclose(pic.normals[inside], point / 0.5, atol=1e-3)
    assert np.isinf(pic.depth[~pic.hit]).all() and (pic.image[~pic.hit] == 1).all()
    assert pic.image.shape == (48, 64, 3) and 0 <= pic.image.min() < pic.image.max() <= 1
    assert shapes.render_sdf(sphere, camera, (12, 16)).image.shape == (12, 16, 3)


def test_bad_cameras_are_named():
    with pytest.raises(ValueError, match="eye and target"):
        inr.Camera.look_at(eye=(0, 0, 0))
    with pytest.raises(ValueError, match="fov"):
        inr.Camera.look_at(eye=(0, 0, 3), fov=0)
    with pytest.raises(ValueError, match="up"):
        inr.Camera.look_at(eye=(0, 3, 0))
    with pytest.raises(ValueError, match="pose must be a rotation"):
        inr.Camera.create(np.diag([2.0, 1, 1, 1]), 50.0, (8, 8))
    with pytest.raises(ValueError, match="pose must be finite"):
        inr.Camera.create(np.full((3, 4), np.nan), 50.0, (8, 8))
    with pytest.raises(ValueError, match="camera must be"):
        shapes.render_sdf(sphere, (0, 0, 3))


def test_metrics_equal_brute_force_nearest_neighbours():
    rng = np.random.default_rng(0)
    p, q = rng.normal(size=(300, 3)), rng.normal(size=(200, 3))
    pn, qn = rng.normal(size=(300, 3)), rng.normal(size=(200, 3))
    m = shapes.point_metrics(p, pn, q, qn, threshold=0.3)
    dist = np.linalg.norm(p[:, None] - q[None], axis=-1)  # (300, 200)
    to_q, to_p = dist.min(axis=1), dist.min(axis=0)
    unit = lambda x: x / np.linalg.norm(x, axis=1, keepdims=True)  # noqa: E731
    pn, qn = unit(pn), unit(qn)
    nc = np.concatenate([np.abs(np.sum(pn * qn[dist.argmin(1)], 1)),
                         np.abs(np.sum(qn * pn[dist.argmin(0)], 1))]).mean()  # fmt: skip
    precision, recall = np.mean(to_q < 0.3), np.mean(to_p < 0.3)
    np.testing.assert_allclose(m.chamfer, (to_q.mean() + to_p.mean()) / 2, rtol=1e-6)
    np.testing.assert_allclose(m.hausdorff, max(to_q.max(), to_p.max()), rtol=1e-6)
    np.testing.assert_allclose(m.normal_consistency, nc, rtol=1e-6)
    np.testing.assert_allclose(m.f_score, 2 * precision * recall / (precision + recall))


def test_two_concentric_spheres_are_their_gap_apart():
    pytest.importorskip("trimesh")
    a = shapes.extract_mesh(sphere, 64, box=(-1, -1, -1, 1, 1, 1))
    b = shapes.extract_mesh(sphere, 64, box=(-1, -1, -1, 1, 1, 1), level=0.05)
    m = shapes.surface_metrics(a, b, samples=50_000, threshold=0.01)
    np.testing.assert_allclose(m.chamfer, 0.05, atol=2e-3)
    np.testing.assert_allclose(m.hausdorff, 0.05, atol=5e-3)
    assert m.normal_consistency > 0.99 and m.f_score == 0.0
    same = shapes.surface_metrics(a, a, samples=50_000, threshold=0.01)
    assert same.f_score > 0.99 and same.chamfer < 0.005  # the sampling floor at 50,000

"""Mesh and point-cloud input, the field coordinates, surface sampling."""

import numpy as np
import pytest

from inr import shapes

pytest.importorskip("trimesh")


def cube() -> shapes.Mesh:
    """The cube [0, 2] x [0, 1] x [0, 1] (a box), faces wound outwards."""
    v = np.array([[x, y, z] for x in (0, 2) for y in (0, 1) for z in (0, 1)], np.float32)
    quads = [(0, 1, 3, 2), (4, 6, 7, 5), (0, 4, 5, 1), (2, 3, 7, 6), (0, 2, 6, 4), (1, 5, 7, 3)]
    faces = [t for a, b, c, d in quads for t in ((a, b, c), (a, c, d))]
    return shapes.Mesh(v, np.array(faces, np.int32))


def test_the_unit_transform_puts_the_longest_side_on_minus_one_to_one():
    t = shapes.unit_transform(cube().vertices)
    field = np.asarray(t.to_field(cube().vertices))
    np.testing.assert_allclose(field.min(axis=0), [-1, -0.5, -0.5], atol=1e-6)
    np.testing.assert_allclose(field.max(axis=0), [1, 0.5, 0.5], atol=1e-6)
    np.testing.assert_allclose(t.to_input(field), cube().vertices, atol=1e-6)


def test_samples_lie_on_the_faces_with_their_outward_normals():
    p, n = shapes.sample_surface(cube(), 4000, seed=3)
    centre = np.array([1.0, 0.5, 0.5])
    on_a_face = np.isclose(p, 0) | np.isclose(p, [2, 1, 1])
    assert on_a_face.any(axis=1).all()
    axis = np.abs(n).argmax(axis=1)
    np.testing.assert_allclose(np.abs(n).max(axis=1), 1, atol=1e-6)
    rows = np.arange(len(n))
    assert (np.sign(n[rows, axis]) == np.sign((p - centre)[rows, axis])).all()
    # Area-weighted: the x faces are 1 x 1, the four others 2 x 1 (10 in all).
    np.testing.assert_allclose(np.mean(axis == 0), 2 / 10, atol=0.025)


def test_sampling_is_a_pure_function_of_the_seed():
    a = shapes.sample_surface(cube(), 100, seed=1)
    b = shapes.sample_surface(cube(), 100, seed=1)
    c = shapes.sample_surface(cube(), 100, seed=2)
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.array_equal(a[0], c[0])


@pytest.mark.parametrize("suffix", [".obj", ".ply"])
def test_meshes_round_trip_through_files(tmp_path, suffix):
    mesh = cube()
    path = shapes.save_mesh(tmp_path / f"box{suffix}", mesh)
    back = shapes.load_mesh(path)
    assert len(back.faces) == len(mesh.faces)
    # Same triangles as point sets, whatever order the writer kept.
    key = lambda m: np.sort(np.round(m.vertices[m.faces].reshape(-1, 9), 5), axis=0)  # noqa: E731
    np.testing.assert_allclose(key(back), key(mesh), atol=1e-5)


def test_oriented_point_clouds_load_from_text_and_numpy(tmp_path):
    rows = np.hstack([np.eye(4, 3) + 1, np.tile([0.0, 0.0, 2.0], (4, 1))])
    np.savetxt(tmp_path / "cloud.xyz", rows)
    np.save(tmp_path / "cloud.npy", rows)
    for name in ("cloud.xyz", "cloud.npy"):
        p, n = shapes.load_points(tmp_path / name)
        np.testing.assert_allclose(p, rows[:, :3])
        np.testing.assert_allclose(n, np.tile([0, 0, 1.0], (4, 1)))  # made unit


def test_bad_input_is_named(tmp_path):
    p, n = shapes.sample_surface(cube(), 10)
    with pytest.raises(ValueError, match="surface must be shaped"):
        shapes.fit_sdf(p[:3], n[:3])
    with pytest.raises(ValueError, match="surface contains NaN"):
        shapes.fit_sdf(np.where(np.arange(10)[:, None] == 0, np.nan, p), n)
    with pytest.raises(ValueError, match="normals has 1 zero-length"):
        shapes.fit_sdf(p, np.where(np.arange(10)[:, None] == 0, 0.0, n))
    with pytest.raises(ValueError, match="normals must match"):
        shapes.fit_sdf(p, n[:5])
    (tmp_path / "dots.obj").write_text("v 0 0 0\nv 1 0 0\nv 0 1 0\n")
    with pytest.raises(ValueError, match="holds no faces"):
        shapes.load_mesh(tmp_path / "dots.obj")
    with pytest.raises(ValueError, match="path must end in"):
        shapes.load_mesh(tmp_path / "dots.stl")
    with pytest.raises(ValueError, match="is not a file"):
        shapes.load_mesh(tmp_path / "missing.obj")
    with pytest.raises(ValueError, match="faces index vertices"):
        shapes.save_mesh(tmp_path / "bad.obj", shapes.Mesh(cube().vertices, cube().faces + 5))

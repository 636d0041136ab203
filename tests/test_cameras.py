"""Pinhole cameras (inr.cameras) against hand-computed rays and the NeRF synthetic files."""

import json

import numpy as np
import pytest

import inr

LEGO = "../shared/data/nerf/lego"


def test_rays_of_a_hand_computed_camera():
    """A camera at (1, 2, 3) turned 90 degrees about y: its axes and every pixel's ray."""
    pose = np.array([[0.0, 0, 1, 1], [0, 1, 0, 2], [-1, 0, 0, 3]])  # x -> -z, z -> x
    camera = inr.Camera.create(pose, (4.0, 2.0), (3, 5), centre=(2.0, 1.0))
    origins, directions = map(np.asarray, inr.rays(camera))
    assert origins.shape == directions.shape == (3, 5, 3)
    np.testing.assert_allclose(origins, np.broadcast_to([1.0, 2.0, 3.0], (3, 5, 3)))
    for i in range(3):
        for j in range(5):
            local = np.array([(j + 0.5 - 2.0) / 4.0, -(i + 0.5 - 1.0) / 2.0, -1.0])
            world = pose[:, :3] @ local
            np.testing.assert_allclose(directions[i, j], world / np.linalg.norm(world), atol=1e-6)
    # The camera looks down its -z axis: the world's -x here.
    mean = np.asarray(inr.rays(inr.Camera.create(pose, 4.0, (2, 2)))[1]).mean((0, 1))
    np.testing.assert_allclose(mean / np.linalg.norm(mean), [-1, 0, 0], atol=1e-6)


def test_look_at_points_the_middle_ray_at_the_target():
    camera = inr.Camera.look_at((0.0, 3.0, 4.0), target=(0.0, 0.0, 0.0), fov=60.0, size=(5, 7))
    d = np.asarray(inr.rays(camera)[1])
    np.testing.assert_allclose(d[2, 3], [0, -0.6, -0.8], atol=1e-6)  # the middle pixel
    # The image's height spans the field of view: its edge is fov / 2 off the axis.
    assert np.isclose(np.degrees(2 * np.arctan(2.5 / float(camera.focal[1]))), 60.0)
    # Columns to the right: the plane of the middle row holds the camera's right, (1, 0, 0).
    normal = np.cross(d[2, 4], d[2, 3])  # along the camera's up, (0, 0.8, -0.6)
    np.testing.assert_allclose(normal / np.linalg.norm(normal), [0, 0.8, -0.6], atol=1e-6)


def test_pixel_rays_are_the_rays_of_those_pixels_of_those_views():
    poses = [inr.Camera.look_at((np.sin(a), 0.5, np.cos(a)), size=(6, 7)) for a in (0.0, 1.0, 2.0)]
    cameras = inr.Camera.stack(poses)
    assert len(cameras) == 3
    origins, directions = map(np.asarray, inr.rays(cameras))
    view, rows, cols = np.array([2, 0, 1]), np.array([5, 0, 3]), np.array([1, 6, 2])
    o, d = map(np.asarray, inr.pixel_rays(cameras, view, rows, cols))
    np.testing.assert_allclose(o, origins[view, rows, cols], atol=1e-6)
    np.testing.assert_allclose(d, directions[view, rows, cols], atol=1e-6)
    half = cameras.resized((3, 7))  # rows of twice the height: the same frustum
    np.testing.assert_allclose(np.asarray(half.focal)[:, 1], np.asarray(cameras.focal)[:, 1] / 2)


def test_transforms_files_give_blender_cameras(tmp_path):
    pose = np.eye(4)
    pose[:3, 3] = [0, 0, 4]
    meta = {"camera_angle_x": 2 * np.arctan(0.5), "frames": [
        {"file_path": "./train/r_0", "transform_matrix": pose.tolist()}]}  # fmt: skip
    (tmp_path / "transforms_train.json").write_text(json.dumps(meta))
    cameras, files = inr.load_transforms(tmp_path / "transforms_train.json", size=(10, 20))
    assert files == [tmp_path / "train" / "r_0.png"] and cameras.size == (10, 20)
    np.testing.assert_allclose(cameras.focal, [[20.0, 20.0]])  # W / (2 tan(angle / 2))
    with pytest.raises(ValueError, match="not a transforms file"):
        inr.load_transforms(tmp_path / "missing.json")


def test_the_lego_cameras_have_the_documented_focal():
    path = pytest.importorskip("pathlib").Path(LEGO) / "transforms_train.json"
    if not path.exists():
        pytest.skip(f"needs {LEGO} (the shared NeRF data)")
    cameras, files = inr.load_transforms(path)
    assert len(cameras) == len(files) == 100 and cameras.size == (200, 200)
    np.testing.assert_allclose(np.asarray(cameras.focal)[0], 277.78, atol=0.01)
    radius = np.linalg.norm(np.asarray(cameras.eye), axis=1)
    assert np.all((radius > 2.0) & (radius < 6.0))  # inside the usual near 2, far 6


def test_bad_cameras_are_named():
    with pytest.raises(ValueError, match="pose must be finite"):
        inr.Camera.create(np.full((3, 4), np.nan), 10.0, (4, 4))
    with pytest.raises(ValueError, match="focal must be positive"):
        inr.Camera.create(np.eye(4), -1.0, (4, 4))
    with pytest.raises(ValueError, match="size"):
        inr.Camera.create(np.eye(4), 1.0, (4, 0))
    with pytest.raises(ValueError, match="one size"):
        inr.Camera.stack([inr.Camera.look_at((0, 0, 1), size=(2, 2)),
                          inr.Camera.look_at((0, 0, 1), size=(3, 2))])  # fmt: skip

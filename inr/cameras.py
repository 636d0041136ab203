"""Pinhole cameras and their rays: one convention for every renderer of the library.

Convention (OpenGL's, as Blender, the NeRF synthetic data and instant-ngp
write it), stated once:

* a camera's *pose* is its camera-to-world matrix ``(3, 4)``: the rotation's
  columns are the camera's x (right), y (up) and z (back) axes in world
  coordinates, the last column its centre of projection; the camera looks
  down its -z axis;
* pixel ``(i, j)`` (row ``i`` from the top, column ``j`` from the left) has
  its centre at ``(j + 0.5, i + 0.5)`` in pixel units, and its ray leaves
  the centre of projection along the camera-frame direction
  ``((j + 0.5 - cx) / fx, -(i + 0.5 - cy) / fy, -1)``, normalised;
* the intrinsics are the focal lengths ``(fx, fy)`` and the principal point
  ``(cx, cy)`` in pixels, and the size ``(H, W)`` in array order.

A :class:`Camera` is a pytree, so ``jit`` and ``vmap`` take it, and a set
of cameras of one size is one ``Camera`` whose leaves carry a leading
axis (:meth:`Camera.stack`; what :func:`load_transforms` returns).  Rays
are built on the device from the intrinsics and poses, for every pixel
(:func:`rays`) or for drawn ones (:func:`pixel_rays`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import flax.struct
import jax
import jax.numpy as jnp
import numpy as np

from inr._validate import as_number, as_shape

__all__ = ["Camera", "load_transforms", "pixel_rays", "rays"]


def _finite(x, name: str, shape: tuple[int, ...]) -> np.ndarray:
    v = np.asarray(x, np.float64)
    if v.shape[-len(shape) :] != shape or not np.isfinite(v).all():
        raise ValueError(f"{name} must be finite and shaped (..., {shape}); got {v.shape}")
    return v


@flax.struct.dataclass
class Camera:
    """A pinhole camera (or a stack of them, every leaf with a leading axis).

    Attributes:
      pose: ``(3, 4)`` camera-to-world (the module's convention).
      focal: ``(2,)`` ``(fx, fy)`` in pixels.
      centre: ``(2,)`` the principal point ``(cx, cy)`` in pixels.
      size: ``(H, W)`` in pixels (static).
    """

    pose: Annotated[jax.Array, "3 4"]
    focal: Annotated[jax.Array, "2"]
    centre: Annotated[jax.Array, "2"]
    size: tuple[int, int] = flax.struct.field(pytree_node=False)

    @classmethod
    def create(cls, pose, focal, size, centre=None) -> Camera:
        """A checked camera: ``pose`` (3, 4) or (4, 4), ``focal`` one or two numbers.

        ``centre`` defaults to the image centre ``(W / 2, H / 2)``.  Leading
        axes of ``pose`` make a stack.  A pose that is not a rotation and a
        translation (NaN, a scale, a shear) is a ``ValueError``.
        """
        h, w = as_shape(size, "size")
        p = _finite(np.asarray(pose, np.float64)[..., :3, :], "pose", (3, 4))
        r = p[..., :3]
        if not np.allclose(r @ np.swapaxes(r, -1, -2), np.eye(3), atol=1e-4):
            raise ValueError("pose must be a rotation and a translation (camera-to-world)")
        lead = p.shape[:-2]
        f = np.broadcast_to(_finite(np.atleast_1d(focal), "focal", (np.size(focal),)), (2,))
        if not (f > 0).all():
            raise ValueError(f"focal must be positive; got {focal!r}")
        c = np.array([w / 2, h / 2]) if centre is None else _finite(centre, "centre", (2,))
        put = lambda a: jnp.asarray(np.broadcast_to(a, (*lead, *a.shape[-1:])), jnp.float32)  # noqa: E731
        return cls(jnp.asarray(p, jnp.float32), put(f), put(c), (h, w))

    @classmethod
    def look_at(cls, eye, target=(0.0, 0.0, 0.0), up=(0.0, 1.0, 0.0), fov: float = 40.0,
                size=(256, 256)) -> Camera:  # fmt: skip
        """A camera at ``eye`` looking at ``target``, ``up`` up, ``fov`` degrees tall."""
        eye, target = _finite(eye, "eye", (3,)), _finite(target, "target", (3,))
        back = eye - target
        if np.linalg.norm(back) == 0:
            raise ValueError("eye and target must differ")
        back /= np.linalg.norm(back)
        right = np.cross(_finite(up, "up", (3,)), back)
        if np.linalg.norm(right) < 1e-9:
            raise ValueError("up must not be parallel to the viewing direction")
        right /= np.linalg.norm(right)
        pose = np.stack([right, np.cross(back, right), back, eye], axis=1)
        fov = as_number(fov, "fov", 0.0, 180.0, low_open=True)
        if fov >= 180.0:
            raise ValueError(f"fov must be below 180 degrees; got {fov!r}")
        h = as_shape(size, "size")[0]
        return cls.create(pose, 0.5 * h / np.tan(np.radians(fov) / 2), size)

    @staticmethod
    def stack(cameras) -> Camera:
        """One camera of leading axis ``N`` from ``N`` cameras of one size."""
        cameras = list(cameras)
        if not cameras or len({c.size for c in cameras}) != 1:
            raise ValueError("cameras must be a non-empty sequence of cameras of one size")
        return jax.tree.map(lambda *x: jnp.stack(x), *cameras)

    def __len__(self) -> int:
        if self.pose.ndim == 2:
            raise TypeError("a single camera has no length")
        return self.pose.shape[0]

    def __getitem__(self, i) -> Camera:
        return jax.tree.map(lambda x: x[i], self)

    def resized(self, size) -> Camera:
        """The same view at another size: intrinsics scaled by the size's ratio."""
        h, w = as_shape(size, "size")
        scale = jnp.array([w / self.size[1], h / self.size[0]], jnp.float32)
        return Camera(self.pose, self.focal * scale, self.centre * scale, (h, w))

    @property
    def eye(self) -> jax.Array:
        """The centre of projection, ``(3,)`` (or ``(N, 3)``)."""
        return self.pose[..., :, 3]


def _directions(camera: Camera, rows, cols) -> jax.Array:
    """World directions (unit) of pixel centres ``(rows, cols)``, broadcast with the pose."""
    x = (cols + 0.5 - camera.centre[..., 0, None]) / camera.focal[..., 0, None]
    y = -(rows + 0.5 - camera.centre[..., 1, None]) / camera.focal[..., 1, None]
    local = jnp.stack([x, y, -jnp.ones_like(x)], axis=-1)
    world = jnp.einsum("...ij,...nj->...ni", camera.pose[..., :3], local)
    return world / jnp.linalg.norm(world, axis=-1, keepdims=True)


def rays(camera: Camera) -> tuple[jax.Array, jax.Array]:
    """``(origins, directions)`` of every pixel, ``(H, W, 3)`` each (``(N, H, W, 3)`` stacked)."""
    h, w = camera.size
    rows, cols = jnp.meshgrid(jnp.arange(h, dtype=jnp.float32), jnp.arange(w, dtype=jnp.float32),
                              indexing="ij")  # fmt: skip
    d = _directions(camera, rows.reshape(-1), cols.reshape(-1))
    d = d.reshape(*d.shape[:-2], h, w, 3)
    return jnp.broadcast_to(camera.eye[..., None, None, :], d.shape), d


def pixel_rays(camera: Camera, view, rows, cols) -> tuple[jax.Array, jax.Array]:
    """``(origins, directions)``, ``(n, 3)`` each: pixels ``(rows, cols)`` of views ``view``.

    ``view`` indexes a stack of cameras; ``None`` takes ``camera`` itself, one camera.
    """
    if view is None:
        d = _directions(camera, rows, cols)
        return jnp.broadcast_to(camera.eye, d.shape), d
    one = jax.tree.map(lambda x: x[view], camera)
    d = jax.vmap(lambda c, r, k: _directions(c, r[None], k[None])[0])(one, rows, cols)
    return one.eye, d


def load_transforms(path, size=None) -> tuple[Camera, list[Path]]:
    """The cameras and image files of a NeRF synthetic / instant-ngp ``transforms_*.json``.

    ``camera_angle_x`` is the horizontal field of view, so ``fx = fy = W /
    (2 tan(angle / 2))`` at the images' width ``W``; ``size`` ``(H, W)`` is
    the images' size (square images: read from the first file when
    ``None``).  Returns a stack of cameras in the file's order and the image
    paths (``file_path`` plus ``.png`` where it has no suffix).
    """
    path = Path(path)
    try:
        meta = json.loads(path.read_text())
        angle, frames = float(meta["camera_angle_x"]), meta["frames"]
        poses = np.array([f["transform_matrix"] for f in frames], np.float64)
        files = [path.parent / f["file_path"] for f in frames]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"path {str(path)!r} is not a transforms file: {exc}") from exc
    files = [f if f.suffix else f.with_suffix(".png") for f in files]
    if size is None:
        import imageio.v3 as iio

        size = iio.improps(files[0]).shape[:2]
    h, w = as_shape(size, "size")
    return Camera.create(poses, 0.5 * w / np.tan(0.5 * angle), (h, w)), files

"""Surfaces in and out: meshes, oriented point clouds, and the cube they are fitted in.

A shape is fitted in *field coordinates*: centred on its bounding box and
scaled by one factor so that its longest side spans [-1, 1] (SIREN centres
on the mean and scales by the extent; the box centre makes the longest side
span the cube exactly, so every shape of a benchmark is measured in the
same units).  :class:`Transform` keeps the map, so meshes and distances
come back in the input's units.

Mesh files are read and written with ``trimesh`` (the ``shapes`` extra);
oriented point clouds are ``(N, 6)`` rows ``x y z nx ny nz``, as text
(``.xyz``, ``.txt``: SIREN's format) or NumPy (``.npy``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, NamedTuple

import flax.struct
import jax
import numpy as np

from inr._atomic import atomic_write
from inr._extras import require
from inr._validate import as_positive_int

__all__ = [
    "MESH_FORMATS",
    "Mesh",
    "Transform",
    "TriangleMesh",
    "as_oriented_points",
    "load_mesh",
    "load_points",
    "sample_surface",
    "save_mesh",
    "unit_transform",
]

MESH_FORMATS = (".obj", ".ply")
"""Mesh files :func:`load_mesh` reads and :func:`save_mesh` writes."""

MIN_POINTS = 4
"""The fewest points that span a volume: fewer say nothing about a surface."""


class TriangleMesh(NamedTuple):
    """A triangle mesh: ``vertices (V, 3)`` float32, ``faces (F, 3)`` int32, normals or None.

    (``mesh=`` elsewhere in the library is a device mesh; this is triangles.)
    """

    vertices: Annotated[np.ndarray, "V 3"]
    faces: Annotated[np.ndarray, "F 3"]
    normals: Annotated[np.ndarray, "V 3"] | None = None


Mesh = TriangleMesh
"""Deprecated alias of :class:`TriangleMesh` (``mesh`` names device meshes)."""


@flax.struct.dataclass
class Transform:
    """``field = (input - centre) / scale``: the map into field coordinates.

    Attributes:
      centre: ``(3,)`` the input's bounding-box centre, in its units.
      scale: ``()`` input units per field unit (half the longest side).
    """

    centre: jax.Array
    scale: jax.Array

    def to_field(self, points):
        """Input units -> field coordinates, ``(..., 3)``."""
        return (points - self.centre) / self.scale

    def to_input(self, points):
        """Field coordinates -> input units, ``(..., 3)``."""
        return points * self.scale + self.centre


def unit_transform(points) -> Transform:
    """The :class:`Transform` that puts ``points (N, 3)`` in field coordinates."""
    p = _as_points(points, "points")
    lo, hi = p.min(axis=0), p.max(axis=0)
    half = float((hi - lo).max()) / 2.0
    if half <= 0.0:
        raise ValueError("points must not all coincide: they span no extent")
    return Transform(centre=((lo + hi) / 2.0).astype(np.float32), scale=np.float32(half))


def _as_points(x, name: str, count: int = MIN_POINTS) -> np.ndarray:
    try:
        arr = np.asarray(x)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a numeric array shaped (N, 3)") from None
    if arr.dtype == np.bool_ or arr.dtype.kind not in "fiu":
        raise ValueError(f"{name} must be a numeric array shaped (N, 3); got dtype {arr.dtype}")
    if arr.ndim != 2 or arr.shape[1] != 3 or arr.shape[0] < count:
        raise ValueError(f"{name} must be shaped (N, 3) with N >= {count}; got {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return arr.astype(np.float32)


def as_oriented_points(points, normals, names=("points", "normals")):
    """Checked ``(points, unit normals)``, each ``(N, 3)`` float32; bad input is named
    (as ``names`` say the caller calls them)."""
    p = _as_points(points, names[0])
    n = _as_points(normals, names[1], count=1)
    if n.shape != p.shape:
        raise ValueError(f"{names[1]} must match {names[0]}' shape {p.shape}; got {n.shape}")
    length = np.linalg.norm(n, axis=1, keepdims=True)
    if not (length > 1e-12).all():
        raise ValueError(f"{names[1]} has {int((length <= 1e-12).sum())} zero-length rows")
    return p, n / length


def _mesh(vertices, faces, name: str) -> TriangleMesh:
    v = _as_points(vertices, f"{name} vertices", count=3)
    f = np.asarray(faces)
    if f.ndim != 2 or f.shape[1] != 3 or f.shape[0] == 0 or f.dtype.kind not in "iu":
        raise ValueError(f"{name} must have triangle faces, (F, 3) integers with F >= 1")
    if f.min() < 0 or f.max() >= len(v):
        raise ValueError(f"{name} faces index vertices outside 0..{len(v) - 1}")
    return TriangleMesh(v, f.astype(np.int32))


def load_mesh(path) -> TriangleMesh:
    """A triangle mesh from an OBJ or PLY file (several objects are joined)."""
    trimesh = require("trimesh", "shapes")
    path = _suffixed(path, MESH_FORMATS)
    if not path.is_file():
        raise ValueError(f"path {str(path)!r} is not a file")
    try:
        loaded = trimesh.load(path, force="mesh", process=False)
    except Exception as exc:  # trimesh's parsers raise many kinds
        raise ValueError(f"path {str(path)!r} is not a readable mesh: {exc}") from exc
    faces = getattr(loaded, "faces", None)
    if faces is None or len(faces) == 0:
        raise ValueError(
            f"path {str(path)!r} holds no faces (an oriented point cloud? see load_points)"
        )
    return _mesh(loaded.vertices, faces, f"mesh {path.name!r}")


def load_points(path) -> tuple[np.ndarray, np.ndarray]:
    """An oriented point cloud ``(points, normals)`` from ``(N, 6)`` rows (.xyz, .txt, .npy)."""
    path = _suffixed(path, (".xyz", ".txt", ".npy"))
    if not path.is_file():
        raise ValueError(f"path {str(path)!r} is not a file")
    try:
        rows = np.load(path) if path.suffix == ".npy" else np.loadtxt(path, ndmin=2)
    except (ValueError, OSError) as exc:
        raise ValueError(f"path {str(path)!r} is not a table of numbers: {exc}") from exc
    if rows.ndim != 2 or rows.shape[1] != 6:
        raise ValueError(
            f"path {str(path)!r} must hold (N, 6) rows x y z nx ny nz; got {rows.shape}"
        )
    return as_oriented_points(rows[:, :3], rows[:, 3:])


def save_mesh(path, mesh: TriangleMesh) -> Path:
    """Write ``mesh`` (with its vertex normals, if any) as OBJ or PLY, atomically."""
    trimesh = require("trimesh", "shapes")
    path = _suffixed(path, MESH_FORMATS)
    m = _mesh(mesh.vertices, mesh.faces, "mesh")
    normals = None if mesh.normals is None else _as_points(mesh.normals, "mesh normals", 3)
    tm = trimesh.Trimesh(m.vertices, m.faces, vertex_normals=normals, process=False)
    kind = path.suffix[1:].lower()
    return atomic_write(path, lambda tmp: tm.export(tmp, file_type=kind))


def sample_surface(mesh: TriangleMesh, n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points on ``mesh``, area-weighted, with their faces' unit normals.

    A pure function of ``seed`` (trimesh's sampler).  Normals follow the
    faces' winding (counter-clockwise seen from outside points outwards).
    """
    trimesh = require("trimesh", "shapes")
    m = _mesh(mesh.vertices, mesh.faces, "mesh")
    n = as_positive_int(n, "n")
    tm = trimesh.Trimesh(m.vertices, m.faces, process=False)
    points, face = trimesh.sample.sample_surface(tm, n, seed=seed)
    a, b, c = (m.vertices[m.faces[face, i]].astype(np.float64) for i in range(3))
    normals = np.cross(b - a, c - a)
    normals /= np.linalg.norm(normals, axis=1, keepdims=True)
    return points.astype(np.float32), normals.astype(np.float32)


def _suffixed(path, allowed) -> Path:
    path = Path(path)
    if path.suffix.lower() not in allowed:
        raise ValueError(f"path must end in one of {allowed}; got {str(path)!r}")
    return path

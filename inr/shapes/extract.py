"""Meshes from fields: marching cubes over a lattice evaluated slab by slab.

The field is evaluated on ``resolution`` lattice points per axis of a box,
one slab of z-planes at a time (each slab built and evaluated on the device
in fixed-size blocks, :func:`inr.render.evaluate_grid`, so every slab and
every resolution runs one program), and scikit-image's ``marching_cubes``
(Lewiner et al. 2003) meshes each slab.  Neighbouring slabs share a plane, so the vertices on it
are computed from the same values and coincide exactly; they are welded.
Memory is one slab's values and the mesh, never the whole lattice: a 512^3
extraction holds about 16 MB of values at a time.  Vertex normals are the
field's exact gradient (autodiff), not the lattice's differences.
"""

from __future__ import annotations

import numpy as np

from inr._extras import require
from inr._validate import as_box, as_number, as_positive_int
from inr.distributed import as_mesh, local_mesh, replicate
from inr.render import DEFAULT_CHUNK, evaluate, evaluate_grid
from inr.shapes.sdf import as_field, field_gradient, field_values
from inr.shapes.surface import TriangleMesh

__all__ = ["DEFAULT_BOX", "extract_mesh"]

DEFAULT_BOX = (-1.1, -1.1, -1.1, 1.1, 1.1, 1.1)
"""The box meshed by default, in field coordinates: the fitted cube and a margin."""

_SLAB_POINTS = 2**22  # lattice points evaluated per slab (16 MB of float32 values)


def _slab(field, x, y, z, chunk: int, mesh):
    """``field`` on the lattice ``z x y x x``: ``(len(z), len(y), len(x))``."""
    values = evaluate_grid(field_values, field, (x, y, z), chunk=chunk, mesh=mesh)
    return values.reshape(len(z), len(y), len(x))


def _resolution(resolution) -> tuple[int, int, int]:
    r = (resolution,) * 3 if np.ndim(resolution) == 0 else tuple(resolution)
    if len(r) != 3:
        raise ValueError(f"resolution must be an integer or three; got {resolution!r}")
    out = tuple(as_positive_int(v, "resolution") for v in r)
    if min(out) < 2:
        raise ValueError(f"resolution must be at least 2 lattice points per axis; got {out}")
    return out


def _march(field, axes, level, chunk, mesh):
    """Marching cubes slab by slab: ``(vertices (V, 3) in field coordinates, faces)``."""
    skimage_measure = require("skimage.measure", "shapes")
    x, y, z = axes
    per_slab = max(2, _SLAB_POINTS // (len(x) * len(y)))
    vertices, faces, count = [], [], 0
    shared = _slab(field, x, y, z[:1], chunk, mesh)
    for start in range(0, len(z) - 1, per_slab - 1):
        zs = z[start : start + per_slab]
        # The plane shared with the slab before is reused, not re-evaluated, so
        # both slabs mesh it from the same values and its vertices coincide.
        values = np.concatenate([shared, _slab(field, x, y, zs[1:], chunk, mesh)])
        shared = values[-1:]
        if not values.min() <= level <= values.max():
            continue
        v, f, _, _ = skimage_measure.marching_cubes(values, level)
        # Lattice indices (z, y, x) to (x, y, z); the reversal mirrors the
        # triangles, so their winding is reversed too: normals point to +f.
        vertices.append(v[:, ::-1] + np.array([0.0, 0.0, start]))
        faces.append(f[:, ::-1] + count)
        count += len(v)
    if not vertices:
        raise ValueError(f"the field has no level set at level={level} inside the box")
    v, f = np.concatenate(vertices), np.concatenate(faces)
    # Weld the plane that neighbouring slabs share: in lattice indices its
    # vertices are bit-equal (same values, same interpolation, integer z).
    v, inverse = np.unique(v, axis=0, return_inverse=True)
    f = inverse.reshape(-1)[f]
    keep = (f[:, 0] != f[:, 1]) & (f[:, 1] != f[:, 2]) & (f[:, 0] != f[:, 2])
    lo, step = np.array([a[0] for a in axes]), np.array([a[1] - a[0] for a in axes])
    return (lo + v * step).astype(np.float32), f[keep].astype(np.int32)


def extract_mesh(
    field,
    resolution=256,
    *,
    level: float = 0.0,
    box=None,
    chunk: int = DEFAULT_CHUNK,
    mesh=None,
) -> TriangleMesh:
    """The ``level`` set of ``field`` as a triangle mesh, in the input's units.

    ``field``: an :class:`~inr.shapes.SDF` from :func:`~inr.shapes.fit_sdf`
    (or any function from ``(n, 3)`` points to ``(n,)`` values).
    ``resolution``: lattice points per axis (one integer, or three for x, y,
    z).  ``box``: ``(x0, y0, z0, x1, y1, z1)`` in the input's units
    (default: the fitted cube with a margin, :data:`DEFAULT_BOX` in field
    coordinates).  ``level`` is in field units.  ``chunk`` points are
    evaluated at once per device of ``mesh`` (``None``: this host's
    devices).  Vertex normals are the field's unit gradient.
    """
    fn, transform = as_field(field)
    devices = local_mesh() if mesh is None else as_mesh(mesh)
    fn = replicate(fn, devices)
    res = _resolution(resolution)
    level = as_number(level, "level", -np.inf)
    chunk = as_positive_int(chunk, "chunk")
    if box is None:
        lo, hi = np.array(DEFAULT_BOX[:3]), np.array(DEFAULT_BOX[3:])
    else:
        b = np.array(as_box(box, 3, "box"), np.float64)
        lo, hi = transform.to_field(b[:3]), transform.to_field(b[3:])
    axes = [np.linspace(a, b, n, dtype=np.float32) for a, b, n in zip(lo, hi, res, strict=True)]
    vertices, faces = _march(fn, axes, level, chunk, devices)
    _, grad = evaluate(field_gradient, fn, vertices, chunk=chunk, mesh=devices)
    normals = grad / np.maximum(np.linalg.norm(grad, axis=1, keepdims=True), 1e-12)
    return TriangleMesh(np.asarray(transform.to_input(vertices), np.float32), faces, normals)

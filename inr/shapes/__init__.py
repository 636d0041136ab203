"""Shapes as signed distance fields: oriented points in, meshes, pictures and metrics out.

``fit_sdf`` fits a field to an oriented point cloud with SIREN's shape
loss; ``extract_mesh`` meshes its zero level set; ``render_sdf`` sphere
traces pictures of it; the metrics compare two surfaces by samples.  Mesh
I/O, marching cubes and the metrics' KD-tree need the ``shapes`` extra
(``pip install 'inr[shapes]'``).
"""

from inr.cameras import Camera
from inr.shapes.extract import DEFAULT_BOX, extract_mesh
from inr.shapes.metrics import SurfaceMetrics, point_metrics, surface_metrics
from inr.shapes.objective import SDFLoss, SDFObjective, SDFSampling, fit_sdf
from inr.shapes.sdf import SDF
from inr.shapes.surface import (
    MESH_FORMATS,
    Mesh,
    Transform,
    TriangleMesh,
    load_mesh,
    load_points,
    sample_surface,
    save_mesh,
    unit_transform,
)
from inr.shapes.trace import Picture, render_sdf

__all__ = [
    "DEFAULT_BOX",
    "MESH_FORMATS",
    "SDF",
    "Camera",
    "Mesh",
    "Picture",
    "SDFLoss",
    "SDFObjective",
    "SDFSampling",
    "SurfaceMetrics",
    "Transform",
    "TriangleMesh",
    "extract_mesh",
    "fit_sdf",
    "load_mesh",
    "load_points",
    "point_metrics",
    "render_sdf",
    "sample_surface",
    "save_mesh",
    "surface_metrics",
    "unit_transform",
]

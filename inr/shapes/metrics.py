"""Surface reconstruction metrics from samples of two surfaces.

For samples ``P`` of a reconstruction and ``Q`` of the reference, with
``d(p, Q)`` the distance from ``p`` to its nearest neighbour in ``Q``
(found with SciPy's KD-tree):

* Chamfer distance ``(mean_p d(p, Q) + mean_q d(q, P)) / 2``: the
  surface-reconstruction literature's L1 form (Occupancy Networks,
  Mescheder et al. 2019), half the sum of the two mean distances;
* Hausdorff distance ``max(max_p d(p, Q), max_q d(q, P))``;
* normal consistency: the mean ``|n_p . n_q|`` over nearest neighbours in
  both directions (1 for parallel normals; sign-free, as there);
* F-score at ``threshold`` (Tatarchenko et al. 2019): the harmonic mean of
  precision (the share of ``P`` within ``threshold`` of ``Q``) and recall
  (the share of ``Q`` within ``threshold`` of ``P``).

Distances are in the units of the samples.  Sampling alone puts a floor
under the Chamfer distance (a mesh against itself is not 0), which shrinks
with the number of samples.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from inr._extras import require
from inr._validate import as_number, as_positive_int
from inr.shapes.surface import TriangleMesh, as_oriented_points, sample_surface

__all__ = ["SurfaceMetrics", "point_metrics", "surface_metrics"]


class SurfaceMetrics(NamedTuple):
    """The metrics of one reconstruction against its reference (see the module)."""

    chamfer: float
    hausdorff: float
    normal_consistency: float
    f_score: float
    precision: float
    recall: float


def _nearest(tree_points, queries):
    spatial = require("scipy.spatial", "shapes")
    return spatial.cKDTree(tree_points).query(queries, workers=-1)


def point_metrics(
    points, normals, reference, reference_normals, *, threshold: float = 0.01
) -> SurfaceMetrics:
    """:class:`SurfaceMetrics` of oriented samples ``points`` against ``reference``'s (N, 3)."""
    p, pn = as_oriented_points(points, normals)
    q, qn = as_oriented_points(reference, reference_normals)
    threshold = as_number(threshold, "threshold", 0.0, low_open=True)
    to_q, nearest_q = _nearest(q, p)  # reconstruction -> reference (accuracy)
    to_p, nearest_p = _nearest(p, q)  # reference -> reconstruction (completeness)
    consistency = np.concatenate(
        [np.abs(np.sum(pn * qn[nearest_q], axis=1)), np.abs(np.sum(qn * pn[nearest_p], axis=1))]
    )
    precision, recall = float(np.mean(to_q < threshold)), float(np.mean(to_p < threshold))
    f_score = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    return SurfaceMetrics(
        chamfer=float((to_q.mean() + to_p.mean()) / 2),
        hausdorff=float(max(to_q.max(), to_p.max())),
        normal_consistency=float(consistency.mean()),
        f_score=f_score,
        precision=precision,
        recall=recall,
    )


def surface_metrics(
    mesh: TriangleMesh,
    reference: TriangleMesh,
    *,
    samples: int = 1_000_000,
    threshold: float = 0.01,
    seed: int = 0,
) -> SurfaceMetrics:
    """:func:`point_metrics` of ``samples`` area-weighted points of each mesh.

    The two meshes are sampled with different seeds drawn from ``seed``, so
    a mesh against itself measures the sampling floor.
    """
    samples = as_positive_int(samples, "samples")
    p, pn = sample_surface(mesh, samples, seed=2 * seed)
    q, qn = sample_surface(reference, samples, seed=2 * seed + 1)
    return point_metrics(p, pn, q, qn, threshold=threshold)

"""Gradient-domain image operators, Poisson solvers and editing."""

from inr.poisson.editing import (
    color_change,
    illumination_change,
    merge,
    merge_gradients,
    seamless_clone,
    texture_flatten,
)
from inr.poisson.masked import solve_masked
from inr.poisson.operators import divergence, image_gradient, laplacian_5pt
from inr.poisson.solve import poisson_solve, reconstruct
from inr.poisson.transforms import dct2, dct_filter_2d, dst1, idct2, idst1

__all__ = [
    "color_change",
    "dct2",
    "dct_filter_2d",
    "divergence",
    "dst1",
    "idct2",
    "idst1",
    "illumination_change",
    "image_gradient",
    "laplacian_5pt",
    "merge",
    "merge_gradients",
    "poisson_solve",
    "reconstruct",
    "seamless_clone",
    "solve_masked",
    "texture_flatten",
]

"""Gradient-domain image operators and Poisson solvers."""

from inr.poisson.operators import divergence, image_gradient, laplacian_5pt

__all__ = ["divergence", "image_gradient", "laplacian_5pt"]

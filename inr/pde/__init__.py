"""Fields defined by an equation: residual objectives and the grid solvers they are checked against.

Helmholtz's equation with SIREN's absorbing layer (:mod:`inr.pde.helmholtz`),
the wave equation from an initial condition (:mod:`inr.pde.wave`) and
Poisson's with Dirichlet values (:mod:`inr.pde.poisson`) are linear
problems (:class:`LinearPDE`): a fit minimises their residual, and
:func:`solve_linear` solves a network's last layer for them by least
squares.  :mod:`inr.pde.reference` holds the finite-difference solvers
(FDFD, FDTD) and :func:`exact_field` the homogeneous Helmholtz field.
Guide: ``docs/pde.md``.
"""

from inr.pde.helmholtz import MEDIA, Helmholtz, HelmholtzObjective, exact_field, interior_error
from inr.pde.linear import LinearPDE, SineFeatures, jets, solve_linear
from inr.pde.poisson import PoissonObjective
from inr.pde.reference import centres, helmholtz_grid, wave_grid
from inr.pde.wave import Wave, WaveObjective

__all__ = [
    "MEDIA",
    "Helmholtz",
    "HelmholtzObjective",
    "LinearPDE",
    "PoissonObjective",
    "SineFeatures",
    "Wave",
    "WaveObjective",
    "centres",
    "exact_field",
    "helmholtz_grid",
    "interior_error",
    "jets",
    "solve_linear",
    "wave_grid",
]

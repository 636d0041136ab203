"""Grid solvers the fitted fields are checked against: FDFD for Helmholtz, FDTD for waves.

* :func:`helmholtz_grid`: second-order finite differences of
  :class:`~inr.pde.Helmholtz`'s equation (the same absorbing layer, its
  coefficients at the half-cells of the flux differences) on ``n x n``
  cell centres of [-1, 1]^2 with ``u = 0`` beyond, solved by SciPy's
  sparse LU: a reference for any medium.
* :func:`wave_grid`: the leapfrog scheme (second order in space and time)
  of ``u_tt = c^2 lap u`` from ``u(0) = u0``, ``u_t(0) = 0``, on the same
  cells with ``u = 0`` beyond, its time step a fraction of the CFL limit.

Both return arrays in array order, rows along ``y``, and converge at
second order (``tests/test_pde.py`` refines them).
"""

from __future__ import annotations

import numpy as np

from inr._extras import require
from inr._validate import as_number, as_positive_int

__all__ = ["centres", "helmholtz_grid", "wave_grid"]


def centres(n: int) -> tuple[np.ndarray, np.ndarray]:
    """``(x, y)`` ``(n, n)``: the cell centres of [-1, 1]^2 in array order (rows along y)."""
    c = (np.arange(n) + 0.5) * 2.0 / n - 1.0
    return np.meshgrid(c, c)


def _flux_1d(coefficient: np.ndarray, h: float):
    """``d/dx (a du/dx)`` on ``m`` cells with ``u = 0`` beyond: a tridiagonal (m, m) matrix.

    ``coefficient`` holds ``a`` at the ``m + 1`` cell faces.
    """
    sparse = require("scipy.sparse", "pde")
    left, right = coefficient[:-1], coefficient[1:]
    return sparse.diags([left[1:], -(left + right), right[:-1]], [-1, 0, 1]) / h**2


def helmholtz_grid(problem, n: int) -> np.ndarray:
    """The complex field ``(n, n)`` of a :class:`~inr.pde.Helmholtz` problem on ``n^2`` cells."""
    sparse = require("scipy.sparse", "pde")
    linalg = require("scipy.sparse.linalg", "pde")
    n = as_positive_int(n, "n")
    h = 2.0 / n
    faces = np.linspace(-1.0, 1.0, n + 1)
    c = faces[:-1] + h / 2

    def stretch(v):  # ex along one axis (ey is the same function of y)
        points = np.stack([v, np.zeros_like(v)], -1)
        return np.asarray(problem.stretch(points)[0])

    e_c, e_f = stretch(c), stretch(faces)
    # d/dx (ey/ex du/dx) = ey d/dx (1/ex du/dx): rows of the flattened (y, x) grid are y.
    dxx = sparse.kron(sparse.diags(e_c), _flux_1d(1.0 / e_f, h))
    dyy = sparse.kron(_flux_1d(1.0 / e_f, h), sparse.diags(e_c))
    x, y = centres(n)
    points = np.stack([x.ravel(), y.ravel()], -1).astype(np.float32)
    s = np.asarray(problem.slowness(points), np.float64)
    mass = np.kron(e_c, e_c) * problem.k**2 * s
    system = (dxx + dyy + sparse.diags(mass)).tocsc()
    f = np.asarray(problem.source_term(points), np.float64)
    return linalg.splu(system).solve(-f.astype(np.complex128)).reshape(n, n)


def wave_grid(problem, n: int, times, courant: float = 0.4) -> np.ndarray:
    """``u`` at ``times`` ``(T, n, n)`` of a :class:`~inr.pde.Wave` problem on ``n^2`` cells.

    ``times`` (>= 0) must be whole multiples of the smallest positive one
    (``linspace(0, T, m)`` is): the time step divides it, so every time is
    reached exactly.
    """
    n = as_positive_int(n, "n")
    courant = as_number(courant, "courant", 0.0, 1 / np.sqrt(2), low_open=True)
    times = np.asarray(times, np.float64)
    positive = times[times > 0]
    base = positive.min() if positive.size else 1.0
    counts = np.round(times / base)
    if times.ndim != 1 or (times < 0).any() or not np.allclose(counts * base, times, atol=1e-9):
        raise ValueError("times must be >= 0 and whole multiples of the smallest positive one")
    h = 2.0 / n
    per = int(np.ceil(base / (courant * h / problem.c)))  # steps per base interval
    dt = base / per
    x, y = centres(n)
    u = np.asarray(problem.initial(np.stack([x.ravel(), y.ravel()], -1)), np.float64).reshape(n, n)
    k2 = (problem.c * dt / h) ** 2

    def lap(v):  # times h^2, u = 0 beyond the grid
        p = np.pad(v, 1)
        return p[2:, 1:-1] + p[:-2, 1:-1] + p[1:-1, 2:] + p[1:-1, :-2] - 4 * v

    frames, previous, step = {}, None, 0
    for target in sorted(set((counts * per).astype(int))):
        while step < target:
            if previous is None:  # u_t(0) = 0: Taylor's second-order first step
                previous, u = u, u + 0.5 * k2 * lap(u)
            else:
                previous, u = u, 2 * u - previous + k2 * lap(u)
            step += 1
        frames[target] = u.copy()
    return np.stack([frames[int(c * per)] for c in counts])

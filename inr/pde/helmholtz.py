"""Helmholtz's equation with SIREN's absorbing layer, as a residual objective.

Convention, stated once.  Time dependence ``exp(+i omega t)``, so outgoing
waves are ``exp(-i k r)``; a complex field ``u`` is two real channels
``(Re u, Im u)``.  On [-1, 1]^2 (Sitzmann et al. 2020, Sec. 4.3 and its
code's ``helmholtz_pml``):

    d/dx (ey / ex du/dx) + d/dy (ex / ey du/dy) + ex ey k^2 s(x) u = -f(x)

with the perfectly matched layer's stretching ``ex = 1 - i sx / k``,
``sx = k a0 (d_x / L)^2`` (``d_x`` the distance into the layer of width
``L`` along x; ``a0 = 5``, ``L = 0.5``) and likewise ``ey``; ``s`` is the
medium's squared slowness (1 in the homogeneous medium) and ``f`` a
normalised Gaussian source of standard deviation ``sigma``.  The layer
is reflectionless, so in the layer-free interior the field is the
free-space one: for the homogeneous medium

    u(r) = -(i / 4) [H0^(2)(k r) F_<(r) + J0(k r) F_>(r)],
    F_<(r) = int_0^r J0(k t) f(t) 2 pi t dt,   F_>(r) = int_r^oo H0^(2)(k t) f(t) 2 pi t dt,

which is ``-(i/4) exp(-k^2 sigma^2 / 2) H0^(2)(k r)`` a few ``sigma`` from
the source (:func:`exact_field`).

:class:`HelmholtzObjective` draws ``points`` uniform collocation points and
``near`` more around the source each step; its equation, divided by
``k^2``, is the residual a fit minimises in mean squared modulus (every
derivative exact, by forward-mode autodiff through the network) or the
rows :func:`inr.pde.solve_linear` solves.  Media: ``"homogeneous"``,
SIREN's ``"square"`` (``s = 1/4`` where ``|x|, |y| < 0.3``) and
``"circle"`` (``s = 1/4`` within 0.1 of the origin), any function of
points, or an image of squared slowness over [-1, 1]^2.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import flax.struct
import jax
import jax.numpy as jnp
import numpy as np

from inr._extras import require
from inr._validate import as_number
from inr.objective import streams
from inr.pde.linear import LinearPDE
from inr.signal import Layout

__all__ = ["MEDIA", "Helmholtz", "HelmholtzObjective", "exact_field", "interior_error"]

MEDIA = ("homogeneous", "square", "circle")


@dataclasses.dataclass(frozen=True)
class Helmholtz:
    """The problem: wavenumber, source, absorbing layer and medium.

    Attributes:
      k: the wavenumber (SIREN: 20).
      source: the source's centre.
      sigma: the Gaussian source's standard deviation (SIREN's: 0.01; the
        default 0.02 is what a collocation grid of the recipes resolves).
      a0: the layer's strength (5).
      layer: its width ``L`` (0.5).
      medium: one of :data:`MEDIA`, a function ``(n, 2) -> (n,)`` of squared
        slowness, or an image ``(H, W)`` of it over [-1, 1]^2 (as a tuple of
        rows, so the problem stays hashable: ``Helmholtz.with_image``).
    """

    k: float = 20.0
    source: tuple = (0.0, 0.0)
    sigma: float = 0.02
    a0: float = 5.0
    layer: float = 0.5
    medium: str | Callable | tuple = "homogeneous"

    def __post_init__(self):
        as_number(self.k, "Helmholtz.k", 0.0, low_open=True)
        as_number(self.sigma, "Helmholtz.sigma", 0.0, low_open=True)
        as_number(self.a0, "Helmholtz.a0", 0.0)
        as_number(self.layer, "Helmholtz.layer", 0.0, 1.0, low_open=True)
        if isinstance(self.medium, str) and self.medium not in MEDIA:
            raise ValueError(f"Helmholtz.medium must be one of {MEDIA}, a function or an image")
        if np.shape(self.source) != (2,) or not np.isfinite(self.source).all():
            raise ValueError(f"Helmholtz.source must be two finite numbers; got {self.source!r}")

    @classmethod
    def with_image(cls, image, **kw) -> Helmholtz:
        """A problem whose medium is an image of squared slowness ``(H, W)`` over [-1, 1]^2."""
        s = np.asarray(image, np.float64)
        if s.ndim != 2 or not np.isfinite(s).all() or (s <= 0).any():
            raise ValueError(f"image must be (H, W) of positive squared slowness; got {s.shape}")
        return cls(medium=tuple(map(tuple, s)), **kw)

    def slowness(self, x):
        """The squared slowness ``(n,)`` at points ``(n, 2)``."""
        if callable(self.medium):
            return self.medium(x)
        if isinstance(self.medium, tuple):
            return _bilinear(jnp.asarray(self.medium, jnp.float32), x)
        if self.medium == "square":
            return jnp.where(jnp.all(jnp.abs(x) < 0.3, axis=-1), 0.25, 1.0)
        if self.medium == "circle":
            return jnp.where(jnp.sum(x**2, axis=-1) < 0.1**2, 0.25, 1.0)
        return jnp.ones(x.shape[:-1])

    def source_term(self, x):
        """``f`` ``(n,)``: the normalised Gaussian (integral 1)."""
        r2 = jnp.sum((x - jnp.asarray(self.source)) ** 2, axis=-1)
        return jnp.exp(-0.5 * r2 / self.sigma**2) / (2 * np.pi * self.sigma**2)

    def stretch(self, x):
        """``(ex, ey, dex/dx, dey/dy)`` complex ``(n,)``: the layer's coordinate stretching."""
        inner = 1.0 - self.layer
        out = []
        for axis in (0, 1):
            d = jnp.maximum(jnp.abs(x[:, axis]) - inner, 0.0)
            s = self.k * self.a0 * (d / self.layer) ** 2
            ds = 2 * self.k * self.a0 * d / self.layer**2 * jnp.sign(x[:, axis])
            out.append((1.0 - 1j * s / self.k, -1j * ds / self.k))
        (ex, dex), (ey, dey) = out
        return ex, ey, dex, dey

    def operator(self, x, u, ux, uy, uxx, uyy):
        """The left-hand side for complex ``u`` and its derivatives, each ``(n, F)``."""
        ex, ey, dex, dey = (v[:, None] for v in self.stretch(x))
        s = self.slowness(x)[:, None]
        a, b = ey / ex, ex / ey
        da, db = -ey * dex / ex**2, -ex * dey / ey**2  # d/dx (ey/ex), d/dy (ex/ey)
        return da * ux + a * uxx + db * uy + b * uyy + ex * ey * self.k**2 * s * u


def _bilinear(image, x):
    """An image over [-1, 1]^2 (row 0 at y = -1) at points, its border extended."""
    h, w = image.shape
    col = jnp.clip((x[:, 0] + 1) * w / 2 - 0.5, 0, w - 1)
    row = jnp.clip((x[:, 1] + 1) * h / 2 - 0.5, 0, h - 1)
    return jax.scipy.ndimage.map_coordinates(image, [row, col], order=1, mode="nearest")


class HelmholtzObjective(LinearPDE):
    """The residual of :class:`Helmholtz` at collocation points drawn each step.

    Attributes:
      problem: the :class:`Helmholtz` problem (static).
      points: uniform points per step (static).
      near: points per step around the source, Gaussian of three times its
        deviation (static).
      jumps: the residual is not enforced within this distance of a jump in
        the medium (static; 0: everywhere).  Across a jump in ``s`` the field
        and its normal derivative are continuous but its curvature jumps,
        which a smooth network cannot carry: the residual there is large
        whatever the weights, and least squares spreads its error over the
        whole domain.  Skipping a band a grid cell or so wide leaves the
        equation on each side and continuity across to the network.
    """

    problem: Helmholtz = flax.struct.field(pytree_node=False)
    points: int = flax.struct.field(pytree_node=False, default=4000)
    near: int = flax.struct.field(pytree_node=False, default=200)
    jumps: float = flax.struct.field(pytree_node=False, default=0.0)

    dims = 2
    channels = 2
    complex_field = True

    @property
    def layout(self):
        """A complex field (two channels) over [-1, 1]^2, with no range: never clipped."""
        return Layout.field(2, 2)

    def split(self, batch):
        return True

    def draw(self, key, step):
        uniform, around = streams(key, step, "uniform", "source")
        x = jax.random.uniform(uniform, (self.points, 2), minval=-1.0, maxval=1.0)
        y = jnp.asarray(self.problem.source) + 3 * self.problem.sigma * jax.random.normal(
            around, (self.near, 2))  # fmt: skip
        return jnp.concatenate([x, jnp.clip(y, -1.0, 1.0)])

    def equations(self, batch, field_jets):
        """The equation over ``k^2`` at every drawn point."""
        j, k2 = field_jets(batch), self.problem.k**2
        lhs = self.problem.operator(batch, j["u"], *j["d"], *j["dd"])
        keep = self.smooth(batch)
        return [(lhs * keep[:, None] / k2, -self.problem.source_term(batch) * keep / k2, 1.0)]

    def smooth(self, x):
        """``(n,)``: 1 where the medium has no jump within ``jumps`` along an axis, else 0."""
        if not self.jumps:
            return jnp.ones(x.shape[0])
        s, jump = self.problem.slowness(x), 0.0
        for axis in range(2):
            step = jnp.zeros(2).at[axis].set(self.jumps)
            jump += jnp.abs(self.problem.slowness(x + step) - self.problem.slowness(x - step))
        return (jump <= 1e-3 * s).astype(jnp.float32)


def exact_field(problem: Helmholtz, points, radial: int = 20000) -> np.ndarray:
    """The homogeneous medium's field at ``points`` ``(n, 2)``: complex ``(n,)`` (the module's)."""
    special = require("scipy.special", "pde")
    integrate = require("scipy.integrate", "pde")
    if problem.medium != "homogeneous":
        raise ValueError("the exact field is the homogeneous medium's; use the grid solver")
    k, sigma = problem.k, problem.sigma
    t = np.linspace(0.0, 12.0 * sigma, radial)[1:]
    density = np.exp(-0.5 * (t / sigma) ** 2) / (2 * np.pi * sigma**2) * 2 * np.pi * t
    inner = integrate.cumulative_trapezoid(special.j0(k * t) * density, t, initial=0.0)
    outer_terms = special.hankel2(0, k * t) * density
    before = integrate.cumulative_trapezoid(outer_terms, t, initial=0.0)
    outer = before[-1] - before
    r = np.linalg.norm(np.asarray(points, np.float64) - np.asarray(problem.source), axis=-1)
    r = np.maximum(r, t[0])
    lo = np.interp(r, t, inner.real) + 1j * np.interp(r, t, inner.imag)
    hi = np.interp(r, t, outer.real) + 1j * np.interp(r, t, outer.imag)
    return -0.25j * (special.hankel2(0, k * r) * lo + special.j0(k * r) * hi)


def interior_error(field, reference, size: int = 256, source=(0.0, 0.0), exclude=0.05) -> float:
    """Relative L2 error of complex ``field`` against ``reference`` ``(size, size)`` grids.

    Over the layer-free interior (``|x|, |y| < 0.5``) outside ``exclude`` of
    the source, at the grid's cell centres.
    """
    c = (np.arange(size) + 0.5) * 2 / size - 1
    x, y = np.meshgrid(c, c)
    mask = (np.abs(x) < 0.5) & (np.abs(y) < 0.5)
    mask &= np.hypot(x - source[0], y - source[1]) >= exclude
    diff = np.asarray(field)[mask] - np.asarray(reference)[mask]
    return float(np.linalg.norm(diff) / np.linalg.norm(np.asarray(reference)[mask]))

"""Linear PDEs as objectives, and the least-squares solve of a network's last layer.

A linear problem is a list of *equations*, each ``L u = g`` at a set of
points with a weight: the PDE in the domain, a source, boundary or initial
conditions.  ``L`` is linear in the field and reads its values and first
and second derivatives along each coordinate (:func:`jets`, exact by
forward-mode autodiff).  :class:`LinearPDE` turns the equations into an
objective, ``sum_e w_e mean |L_e u - g_e|^2``, that any fit minimises.

Because ``L`` is linear, a network ``u(x) = sum_j W_j phi_j(x) + b`` is
linear in its last layer: applying ``L`` to each feature ``phi_j`` gives a
matrix whose least-squares solution is the best last layer for those
features (random features: Huang et al.'s extreme learning machine;
physics-informed ELMs, Dwivedi and Srinivasan 2020).  :func:`solve_linear`
draws the points once, evaluates the features' jets, and solves the
(Tikhonov-regularised) normal equations in one go; a complex field (two
channels) gets complex weights.
"""

from __future__ import annotations

import warnings
from functools import partial
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from inr.distributed import as_mesh, data_sharding, data_size
from inr.fields import first_and_second
from inr.loop import split_batch
from inr.objective import Objective
from inr.result import FitResult

__all__ = ["LinearPDE", "SineFeatures", "jets", "solve_linear"]


def jets(f, x) -> dict:
    """``{"u": f(x), "d": [df/dx_i], "dd": [d2f/dx_i^2]}``, each ``(n, C)``."""
    d, dd = [], []
    for i in range(x.shape[-1]):
        first, second = first_and_second(f, x, jnp.zeros(x.shape[-1]).at[i].set(1.0))
        d.append(first)
        dd.append(second)
    return {"u": f(x), "d": d, "dd": dd}


def _complex(j: dict) -> dict:
    """Jets of a field of two real channels as one complex channel."""
    c = lambda v: (v[:, 0] + 1j * v[:, 1])[:, None]  # noqa: E731
    return {"u": c(j["u"]), "d": [c(v) for v in j["d"]], "dd": [c(v) for v in j["dd"]]}


class LinearPDE(Objective):
    """A linear problem's equations as an objective (subclasses define :meth:`equations`).

    ``complex_field`` subclasses pair the network's two channels into one
    complex field.
    """

    complex_field = False

    def equations(self, batch, field_jets) -> list[tuple[Any, Any, float]]:
        """``[(L_e u (n_e, F), g_e (n_e,), w_e), ...]`` where ``field_jets(points)`` gives
        the field's (or the features') :func:`jets` at points."""
        raise NotImplementedError

    def loss(self, model, params, batch):
        def field_jets(x):
            j = jets(lambda y: model.apply(params, y), x)
            return _complex(j) if self.complex_field else j

        terms = [w * jnp.mean(jnp.abs(v[:, 0] - g) ** 2)
                 for v, g, w in self.equations(batch, field_jets)]  # fmt: skip
        total = sum(terms[1:], terms[0])
        return total, {"loss": total, **{f"term {i}": t for i, t in enumerate(terms)}}


class SineFeatures(nn.Module):
    """``sin(w0 (W x + b))`` random features (a SIREN's first layer), with a constant one.

    Attributes:
      width: the features.
      w0: the frequency scale: ``W`` uniform in ``[-1, 1] / fan_in``... times
        ``w0`` (SIREN's first-layer initialisation).
    """

    width: int = 2048
    w0: float = 30.0

    @nn.compact
    def __call__(self, x):
        init = nn.initializers.uniform(2.0)
        kernel = self.param("kernel", lambda k, s: init(k, s) - 1.0, (x.shape[-1], self.width))
        bias = self.param("bias", lambda k, s: np.pi * (init(k, s) - 1.0), (self.width,))
        h = jnp.sin(self.w0 * (x @ kernel) + bias)
        return jnp.concatenate([h, jnp.ones_like(h[..., :1])], axis=-1)


class Head(nn.Module):
    """A feature module and a linear last layer: what :func:`solve_linear` fills."""

    features: nn.Module
    out_features: int

    @nn.compact
    def __call__(self, x):
        return nn.Dense(self.out_features, use_bias=False)(self.features(x))


@partial(jax.jit, static_argnums=(1, 4))
def _system(objective, features, params, batch, sharding=None):
    batch = split_batch(objective, batch, sharding)
    feature_jets = lambda x: jets(lambda y: features.apply(params, y), x)  # noqa: E731
    rows, rhs = [], []
    for values, target, weight in objective.equations(batch, feature_jets):
        scale = jnp.sqrt(weight / values.shape[0])
        rows.append(values * scale)
        rhs.append(target * scale)
    return jnp.concatenate(rows), jnp.concatenate(rhs)


def solve_linear(objective: LinearPDE, features: nn.Module, *, seed: int = 0,
                 ridge: float = 1e-8, params=None, mesh=None, key=None) -> FitResult:  # fmt: skip
    """The least-squares last layer of ``features`` for ``objective``'s equations.

    Draws the objective's points once (``objective.draw(PRNGKey(seed), 0)``),
    applies every equation to every feature, and solves ``min ||M W -
    g||^2 + ridge tr(M^H M)/F ||W||^2`` on the host (float64).
    ``features`` maps points ``(n, d)`` to ``(n, F)`` (its ``params``:
    initialised from ``PRNGKey(seed)`` when ``None``).  ``mesh`` splits the
    rows of ``M`` over its devices as the objective declares
    (:meth:`~inr.Objective.split`).  Returns a :class:`~inr.FitResult` of
    ``Head(features, C)`` whose history is the relative residual.
    ``key=`` is the deprecated spelling of ``seed``'s key.
    """
    if key is not None:
        warnings.warn("solve_linear(key=) is renamed seed=", DeprecationWarning, stacklevel=2)
    else:
        key = jax.random.PRNGKey(seed)
    if params is None:
        params = features.init(key, jnp.zeros((1, objective.dims)))
    batch = objective.draw(key, 0)
    devices = None if mesh is None else as_mesh(mesh)
    sharding = data_sharding(devices) if devices is not None and data_size(devices) > 1 else None
    m, g = _system(objective, features, params, batch, sharding)
    m, g = np.asarray(m, np.complex128 if objective.complex_field else np.float64), np.asarray(g)
    gram = m.conj().T @ m
    gram += ridge * np.trace(gram).real / gram.shape[0] * np.eye(gram.shape[0])
    w = np.linalg.solve(gram, m.conj().T @ g)
    kernel = np.stack([w.real, w.imag], -1) if objective.complex_field else w[:, None].real
    model = Head(features, kernel.shape[-1])
    dense = {"kernel": jnp.asarray(kernel, jnp.float32)}
    head = {"params": {"features": params["params"], "Dense_0": dense}}
    residual = float(np.linalg.norm(m @ w - g) / max(np.linalg.norm(g), 1e-30))
    return FitResult.of(objective, model, head, history={"residual": np.array([residual])})

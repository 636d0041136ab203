"""The inner loop of meta-learning: a few SGD steps on one signal, differentiable.

Starting from parameters ``theta_0``, ``K`` steps of gradient descent on one
signal's loss ``L``:

    theta_{k+1} = theta_k - alpha * grad L(theta_k)      (k = 0 .. K-1)

with ``alpha`` a pytree of learning rates shaped like the parameters
(per-parameter: Meta-SGD, Li et al. 2017) or of scalars (one rate per
tensor; MAML, Finn et al. 2017).  The steps are one ``lax.scan``, so the
outer gradient ``d L(theta_K) / d (theta_0, alpha)`` is exact (second
order: it differentiates through every inner gradient); ``first_order``
treats each inner gradient as a constant (first-order MAML).

:func:`inr.learned_sgd` is the same update as an optax transformation, so
that a fit can continue from a learned initialisation at its learned rates.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp

__all__ = ["adapt"]


def adapt(
    loss: Callable[[object, jax.Array], jax.Array],
    params,
    rates,
    steps: int,
    *,
    first_order: bool = False,
):
    """``steps`` SGD steps ``p <- p - rates * grad loss(p, k)`` from ``params``.

    ``loss(params, k)`` is the objective at inner step ``k`` (its batch may
    depend on ``k``).  ``rates`` is a pytree like ``params`` whose leaves
    broadcast against them.  Differentiable in ``params`` and ``rates``.
    """

    def step(p, k):
        grads = jax.grad(loss)(p, k)
        if first_order:
            grads = jax.lax.stop_gradient(grads)
        return jax.tree.map(lambda x, a, g: x - a * g, p, rates, grads), None

    adapted, _ = jax.lax.scan(step, params, jnp.arange(steps))
    return adapted

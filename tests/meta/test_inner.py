"""The inner loop and the outer updates against hand-written mathematics."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax

import inr
from inr import meta
from inr.meta.objective import MetaObjective
from inr.signal import as_signal


def tiny_signal(seed=0, size=6):
    r = np.random.default_rng(seed)
    return r.uniform(0, 1, (size, size, 1)).astype(np.float32)


def tiny_problem(seed=0):
    model = inr.Siren(8, 1, 1, first_w0=5.0)
    signal = inr.SignalValues.create(tiny_signal(seed))
    params = model.init(jax.random.PRNGKey(seed), jnp.zeros((1, 2)))
    loss = lambda p, k: signal.loss(model, p, signal.draw(None, k))[0]  # noqa: E731
    return model, signal, params, loss


def test_the_inner_loop_is_the_unrolled_sgd_steps():
    _, _, params, loss = tiny_problem()
    rates = jax.tree.map(lambda p: jnp.linspace(0.01, 0.03, p.size).reshape(p.shape), params)
    adapted = meta.adapt(loss, params, rates, 3)
    expected = params
    for k in range(3):
        g = jax.grad(loss)(expected, k)
        expected = jax.tree.map(lambda p, a, g: p - a * g, expected, rates, g)
    for a, b in zip(jax.tree.leaves(adapted), jax.tree.leaves(expected), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_second_order_gradients_match_finite_differences():
    with jax.enable_x64(True):  # central differences need float64
        net = nn.Sequential([nn.Dense(8, param_dtype=jnp.float64), jnp.tanh,
                             nn.Dense(1, param_dtype=jnp.float64)])  # fmt: skip
        x = jnp.linspace(-1.0, 1.0, 12, dtype=jnp.float64)[:, None]
        params = net.init(jax.random.PRNGKey(0), x)
        loss = lambda p, k: jnp.mean((net.apply(p, x)[:, 0] - jnp.sin(3.0 * x[:, 0])) ** 2)  # noqa: E731
        rates = jax.tree.map(lambda p: jnp.full(p.shape, 0.3, jnp.float64), params)
        outer = lambda p, first: loss(meta.adapt(loss, p, rates, 3, first_order=first), 0)  # noqa: E731
        pattern = lambda p: jnp.sin(jnp.arange(p.size) * 1.7).reshape(p.shape)  # noqa: E731
        direction = jax.tree.map(pattern, params)
        shifted = lambda s: jax.tree.map(lambda p, v: p + s * v, params, direction)  # noqa: E731
        eps = 1e-6
        numeric = (outer(shifted(eps), False) - outer(shifted(-eps), False)) / (2 * eps)
        along = lambda g: sum(  # noqa: E731
            jnp.vdot(a, v)
            for a, v in zip(jax.tree.leaves(g), jax.tree.leaves(direction), strict=True)
        )
        exact = float(along(jax.grad(outer)(params, False)))
        first = float(along(jax.grad(outer)(params, True)))
        numeric = float(numeric)
    np.testing.assert_allclose(exact, numeric, rtol=1e-6)
    # The first-order gradient leaves out the Hessian terms: measurably different here.
    assert abs(first - numeric) > 1e-2 * abs(numeric)


class Constant(nn.Module):
    """``f(x) = b``: a fit of it to a constant signal ``v`` is the quadratic ``(b - v)^2``."""

    @nn.compact
    def __call__(self, x):
        b = self.param("b", nn.initializers.zeros, (1,))
        return jnp.broadcast_to(b, (*x.shape[:-1], 1))


def test_reptile_moves_towards_the_tasks_optima_by_its_rule():
    values = np.array([0.2, 0.4, 0.7, 0.9], np.float32)
    signals = np.broadcast_to(values[:, None, None, None], (4, 3, 3, 1)).copy()
    samples, layout = as_signal(signals, batched=True)
    config = meta.MetaConfig(method="reptile", inner_steps=3, inner_lr=0.1, learn_rates=False,
                             batch_size=4)  # fmt: skip
    objective = MetaObjective.create(samples, layout, config)
    model, optimizer, key = Constant(), optax.sgd(0.2), jax.random.PRNGKey(0)
    m = objective.init(model, key)
    state = (m, optimizer.init(m))

    @jax.jit
    def step(state, s):
        m, opt_state = state
        batch = objective.draw(key, s)
        grads = jax.grad(lambda p: objective.loss(model, p, batch)[0])(m)
        updates, opt_state = optimizer.update(grads, opt_state, m)
        return optax.apply_updates(m, updates), opt_state

    # Network units: v = 2u - 1.  One inner step maps b - v to (1 - 2 lr)(b - v).
    targets = 2.0 * np.asarray(objective.draw(key, 0)[0], np.float32)[:, 0, 0] - 1.0
    b = 0.0
    shrink = 1.0 - (1.0 - 2.0 * 0.1) ** 3
    expected = b - 0.2 * np.mean(shrink * (b - targets))
    state = step(state, 0)
    np.testing.assert_allclose(state[0]["params"]["params"]["b"], [expected], rtol=1e-5)
    drift = []
    for s in range(1, 401):
        state = step(state, s)
        drift.append(float(state[0]["params"]["params"]["b"][0]))
    assert np.all(np.asarray(state[0]["rates"]["params"]["b"]) == 0.1)  # fixed rates
    # The fixed point is the mean of the optima (in expectation over the draws).
    assert abs(np.mean(drift[200:]) - float(np.mean(2.0 * values - 1.0))) < 0.05


def test_the_signals_and_their_points_are_drawn_from_independent_streams():
    """Each outer step chooses signals and the points that score them with different keys.

    With as many signals as samples per signal, one key for both draws picks
    the same indices for both (the old ``fold_in(PRNGKey(seed), step)``).
    """
    n = 16
    signals = np.broadcast_to(np.arange(n, dtype=np.uint8)[:, None, None], (n, n, 1)).copy()
    samples, layout = as_signal(signals, dims=1, batched=True)  # signal i is the value i / 255
    config = meta.MetaConfig(batch_size=8, points=8, inner_steps=1, steps=1)
    objective = MetaObjective.create(samples, layout, config)
    key, chosen, scored = jax.random.PRNGKey(0), [], []
    for step in range(64):
        picked, inner = objective.draw(key, step)
        chosen.append(np.round(np.asarray(picked)[:, 0, 0]).astype(int))
        signal = objective.signals.replace(samples=picked[0])
        x, _ = signal.draw(inner, config.inner_steps)  # the points of the outer loss
        scored.append(np.round((np.asarray(x)[:, 0] + 1) / 2 * n - 0.5).astype(int))
    chosen, scored = np.concatenate(chosen), np.concatenate(scored)
    assert np.mean(chosen == scored) < 0.2  # about 1/16 when independent; 1 with a shared key
    assert abs(np.corrcoef(chosen, scored)[0, 1]) < 0.15
    assert sorted(set(chosen)) == sorted(set(scored)) == list(range(n))

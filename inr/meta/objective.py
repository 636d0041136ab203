"""Meta-learning as an objective: draw signals, adapt to each, score the adapted fits.

The meta-parameters are ``{"params": theta, "rates": alpha}``.  Each outer
step draws ``batch_size`` training signals; for each, the inner loop
(:func:`inr.meta.inner.adapt`) takes ``inner_steps`` SGD steps of the
signal's own objective (:class:`~inr.objectives.SignalValues`, every
sample or ``points`` of them) and the outer loss is that objective after
adaptation, averaged over the signals:

* MAML / first-order MAML: the loss is differentiated through the inner
  loop (or with each inner gradient held constant);
* Reptile: the "gradient" is ``theta - mean_i theta_K^(i)``, the way the
  inner steps moved the parameters, as the gradient of the surrogate
  ``1/2 ||theta - stop_gradient(mean_i theta_K^(i))||^2``.

What the inner loop adapts depends on the network: every parameter of a
plain network (a learned initialisation, learnit), the ``"latent"`` alone
of a :class:`~inr.meta.ModulatedSiren`, which starts each signal at zero
while the shared weights are meta-learned (functa).

Keys (:mod:`inr.objective`): outer step ``s`` draws two named streams,
``"signals"``, which chooses the signals, and ``"inner"``, the inner fits'
own key (their steps ``0 .. K-1`` adapt, step ``K`` scores), so the choice of
signals and the points they are scored on never share a key.
"""

from __future__ import annotations

import flax.struct
import jax
import jax.numpy as jnp

from inr.meta.config import MetaConfig
from inr.meta.functa import ModulatedSiren, with_latent
from inr.meta.inner import adapt
from inr.objective import Objective, streams
from inr.objectives import SignalValues, psnr_from_mse

__all__ = ["MetaObjective", "start_rates"]


def start_rates(model, params, config: MetaConfig):
    """The inner rates at the start: ``inner_lr`` for every adapted number."""
    if isinstance(model, ModulatedSiren):
        return jnp.full((model.latent_features,), config.inner_lr, jnp.float32)
    return jax.tree.map(lambda p: jnp.full(p.shape, config.inner_lr, jnp.float32), params)


class MetaObjective(Objective):
    """The outer objective of meta-learning over a set of signals.

    Attributes:
      signals: every training signal's values: samples ``(N, n, C)``, the
        grid and scale shared (one :class:`~inr.objectives.SignalValues`
        whose ``points`` is the inner fits').
      config: the :class:`~inr.meta.MetaConfig` (static).
    """

    signals: SignalValues
    config: MetaConfig = flax.struct.field(pytree_node=False)

    @classmethod
    def create(cls, samples, layout, config: MetaConfig):
        """From :func:`inr.signal.as_signal`'s batched samples ``(N, n, C)`` and layout.

        The objective keeps what fixes a step (:meth:`MetaConfig.step_options`),
        so a longer run or another seed compiles nothing new.
        """
        first = SignalValues.from_samples(samples[0], layout, config.points)
        return cls(first.replace(samples=jnp.asarray(samples)), config.step_options())

    @property
    def dims(self) -> int:
        return self.signals.dims

    @property
    def channels(self) -> int:
        return self.signals.channels

    @property
    def points(self) -> int:
        return self.config.batch_size

    def split(self, batch):
        """The step's signals split over a mesh; the inner fits' key does not."""
        return (True, False)

    def init(self, model, key):
        params = model.init(key, jnp.zeros((1, self.dims), jnp.float32))
        return {"params": params, "rates": start_rates(model, params, self.config)}

    def draw(self, key, step):
        """``(the chosen signals' samples (batch_size, n, C), the inner fits' key)``."""
        choose, inner = streams(key, step, "signals", "inner")
        n = self.signals.samples.shape[0]
        pick = jax.random.randint(choose, (self.config.batch_size,), 0, n)
        return self.signals.samples[pick], inner

    def _adapted(self, model, meta, signal: SignalValues, key):
        """The parameters after the inner loop on one signal."""
        first_order = self.config.method != "maml"
        steps = self.config.inner_steps

        def loss_at(params, k):
            return signal.loss(model, params, signal.draw(key, k))[0]

        if isinstance(model, ModulatedSiren):
            start = jnp.zeros_like(meta["rates"])
            latent = lambda z, k: loss_at(with_latent(meta["params"], z), k)  # noqa: E731
            z = adapt(latent, start, meta["rates"], steps, first_order=first_order)
            return with_latent(meta["params"], z)
        return adapt(loss_at, meta["params"], meta["rates"], steps, first_order=first_order)

    def loss(self, model, meta, batch):
        """The mean loss after adaptation (MAML), or Reptile's surrogate; the adapted scores."""
        samples, key = batch
        if not self.config.learn_rates:  # fixed rates: no gradient reaches them
            meta = {**meta, "rates": jax.lax.stop_gradient(meta["rates"])}

        def one(s):
            signal = self.signals.replace(samples=s)
            adapted = self._adapted(model, meta, signal, key)
            after = signal.loss(model, adapted, signal.draw(key, self.config.inner_steps))[0]
            return adapted, after

        adapted, losses = jax.vmap(one)(samples)
        metrics = {"loss": jnp.mean(losses), "psnr": jnp.mean(psnr_from_mse(losses))}
        if self.config.method != "reptile":
            return jnp.mean(losses), metrics
        target = jax.tree.map(lambda a: jax.lax.stop_gradient(jnp.mean(a, axis=0)), adapted)
        gaps = jax.tree.map(lambda p, t: jnp.sum((p - t) ** 2), meta["params"], target)
        return 0.5 * sum(jax.tree.leaves(gaps)), metrics

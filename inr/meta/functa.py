"""Functa: one shared SIREN, and each signal a short latent vector (Dupont et al. 2022).

A :class:`ModulatedSiren` adds to each sine layer's pre-activation a shift
computed from a latent vector ``z`` by one linear map (functa's shift
modulations, Sec. 3):

    h_l = sin(w0 (W_l h_{l-1} + b_l + s_l)),    (s_1, .., s_L) = M z + c.

The shared weights ``W, b, M, c`` and per-dimension inner learning rates
are meta-learned (Meta-SGD; :func:`inr.meta.meta_train` with ``functa``
set); a signal's latent is then ``inner_steps`` SGD steps from ``z = 0``
(:func:`fit_latents`: :func:`inr.fit` of a stack of :class:`LatentValues`,
the shared weights their data), so a dataset of signals becomes a dataset
of vectors.  The latent is the module's parameter ``"latent"``, so a functa
with a latent put in is an ordinary fitted field: :meth:`Functa.result`
is a :class:`~inr.FitResult` that renders at any size or region.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import flax.linen as nn
import flax.struct
import jax
import jax.numpy as jnp
import numpy as np

from inr._atomic import atomic_write
from inr._cards import terms_note
from inr.fitting import fit, stack
from inr.init import learned_sgd
from inr.meta import files
from inr.nn.siren import SineLayer, check_sizes
from inr.objectives import SignalValues
from inr.result import FitResult
from inr.signal import Layout, OnLayout, as_signal

__all__ = [
    "PRETRAINED_FUNCTA",
    "Functa",
    "LatentValues",
    "ModulatedSiren",
    "fit_latents",
    "load_functa",
    "load_latents",
    "save_functa",
    "save_latents",
]

PRETRAINED_FUNCTA = ("celeba-functa",)


class ModulatedSiren(nn.Module):
    """A SIREN whose sine layers are shifted by a linear map of the parameter ``latent``.

    ``(..., in) -> (..., out_features)``; the layer shapes are
    :class:`~inr.Siren`'s, its initialisation too.  The latent starts at
    zero and the modulation's bias ``c`` too, so at a zero latent a fresh
    network is a plain SIREN (``M`` starts random: at zero no gradient
    would reach it or the latent).

    Attributes:
      hidden_features, hidden_layers, out_features, w0, first_w0: as
        :class:`~inr.Siren`.
      latent_features: the latent vector's length.
    """

    hidden_features: int = 256
    hidden_layers: int = 3
    out_features: int = 3
    latent_features: int = 256
    w0: float = 30.0
    first_w0: float = 30.0

    def __post_init__(self):
        check_sizes(self, hidden_features=1, hidden_layers=0, out_features=1, latent_features=1)
        super().__post_init__()

    @nn.compact
    def __call__(self, x: Annotated[jax.Array, "... in"]) -> Annotated[jax.Array, "... out"]:
        z = self.param("latent", nn.initializers.zeros, (self.latent_features,), jnp.float32)
        width, sines = self.hidden_features, self.hidden_layers + 1
        dense = nn.Dense(sines * width, name="modulation")  # LeCun normal kernel, zero bias
        shifts = dense(z).reshape(sines, width)
        h = SineLayer(width, self.first_w0, is_first=True)(x, shifts[0])
        for i in range(self.hidden_layers):
            h = SineLayer(width, self.w0)(h, shifts[i + 1])
        return SineLayer(self.out_features, self.w0, linear=True)(h)


def with_latent(params, latent):
    """``params`` with their ``"latent"`` replaced (a batch of latents: a batch of trees)."""
    if latent.ndim == 1:
        return {"params": {**params["params"], "latent": latent}}
    return jax.vmap(with_latent, in_axes=(None, 0))(params, latent)


@flax.struct.dataclass
class Functa(OnLayout):
    """A meta-learned functa: shared weights, inner learning rates and what it was fitted on.

    Attributes:
      params: the :class:`ModulatedSiren`'s parameters (its latent is zero).
      rates: ``(latent_features,)`` the inner SGD learning rate of each latent dimension.
      model: the :class:`ModulatedSiren` (static).
      layout: the training signals' :class:`~inr.signal.Layout` (static).
      inner_steps: the inner steps it was meta-learned with (static).
      card: the model card's record: data, steps, scores, licence (static).
    """

    params: Any
    rates: jax.Array
    model: ModulatedSiren = flax.struct.field(pytree_node=False)
    layout: Layout = flax.struct.field(pytree_node=False)
    inner_steps: int = flax.struct.field(pytree_node=False, default=3)
    card: dict = flax.struct.field(pytree_node=False, default_factory=dict)

    @property
    def optimizer(self):
        """SGD of a latent at the learned rates (:func:`inr.learned_sgd`; equal ones compile
        once, as every optimiser compares by value)."""
        return learned_sgd(self.rates)

    def __repr__(self) -> str:
        m = self.model
        return (
            f"Functa(ModulatedSiren {m.hidden_features}x{m.hidden_layers}, latent "
            f"{m.latent_features}, shape {self.shape}, {self.card.get('name', 'unnamed')}"
            f"{terms_note(self.card)})"
        )

    def result(self, latents) -> FitResult:
        """The field of a latent ``(d,)`` (or a batch ``(N, d)``) as a :class:`~inr.FitResult`."""
        z = jnp.asarray(latents, jnp.float32)
        if z.ndim not in (1, 2) or z.shape[-1] != self.model.latent_features:
            d = self.model.latent_features
            raise ValueError(f"latents must be shaped ({d},) or (N, {d}); got {z.shape}")
        # A latent carries no fitting history.
        return FitResult.of(
            self.layout, self.model, with_latent(self.params, z), stacked=z.ndim == 2
        )

    def render(self, latents, *shape: int, region=None, clip: bool = True) -> np.ndarray:
        """``latents`` rendered on a grid of ``shape`` (default the training shape), or a region."""
        shape = shape or self.shape[: self.dims]
        return self.result(latents).render(*shape, region=region, clip=clip)


class LatentValues(SignalValues):
    """A signal's values, fitted through a functa's latent alone.

    The network's parameters are the latent ``(latent_features,)``; the
    functa's shared weights are this objective's data (:attr:`weights`),
    kept once for a whole stack of signals (:func:`inr.stack`).  Build it
    with :meth:`of`.
    """

    weights: Any = None

    shared = ("axes", "weights")

    @classmethod
    def of(cls, samples, layout: Layout, functa: Functa) -> LatentValues:
        """From :func:`inr.signal.as_signal`'s samples ``(n, C)`` of one signal, and the functa."""
        values = SignalValues.from_samples(samples, layout)
        fields = ("samples", "axes", "scale", "layout", "points", "random")
        return cls(**{f: getattr(values, f) for f in fields}, weights=functa.params)

    def init(self, model, key):
        del key
        return jnp.zeros((model.latent_features,), jnp.float32)

    def check_model(self, model) -> None:
        if not isinstance(model, ModulatedSiren):
            raise ValueError(f"model must be the functa's ModulatedSiren; got {model!r}")
        super().check_model(model)

    def loss(self, model, params, batch):
        return super().loss(model, with_latent(self.weights, params), batch)


def fit_latents(
    signals, functa: Functa, inner_steps: int | None = None, *, mesh=None
) -> np.ndarray:
    """The latents of a batch of ``signals`` ``(N, N_1, .., N_d[, C])``: ``(N, latent_features)``.

    Each is ``inner_steps`` (default: the functa's own) SGD steps from zero
    at the functa's learned rates, on every sample of its signal; the
    signals may have any grid size (the coordinates span [-1, 1] whatever
    it).  One :func:`inr.fit` of a stack of :class:`LatentValues`: all
    signals run as one program, ``vmap``-ed in groups, split over the
    devices of ``mesh`` (``None``: this host's; see :mod:`inr.distributed`).
    """
    if not isinstance(functa, Functa):
        raise ValueError(f"functa must be an inr.meta.Functa; got {type(functa).__name__}")
    steps = functa.inner_steps if inner_steps is None else inner_steps
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 0:
        raise ValueError(f"inner_steps must be a non-negative integer; got {inner_steps!r}")
    samples, layout = as_signal(
        signals, functa.dims, functa.layout.value_range, "signals", batched=True
    )
    if layout.channels != functa.channels:
        raise ValueError(
            f"signals must have {functa.channels} channels like the functa's; got {layout.channels}"
        )
    if steps == 0:
        return np.zeros((samples.shape[0], functa.model.latent_features), np.float32)
    objectives = stack([LatentValues.of(s, layout, functa) for s in samples])
    fitted = fit(objectives, model=functa.model, optimizer=functa.optimizer, steps=int(steps),
                 mesh=mesh)  # fmt: skip
    return np.asarray(fitted.params)


def save_latents(path, latents, functa: Functa, **metadata) -> Path:
    """Write ``latents (N, d)`` and their metadata to an ``.npz`` file, atomically.

    The metadata records the functa (its card's name, latent size, inner
    steps, the signals' shape and value range) and any JSON-ready
    ``metadata`` given (labels, file names, scores).
    """
    z = np.asarray(latents, np.float32)
    if z.ndim != 2 or z.shape[1] != functa.model.latent_features or not np.isfinite(z).all():
        d = functa.model.latent_features
        raise ValueError(f"latents must be finite and shaped (N, {d}); got {z.shape}")
    record = {
        "functa": functa.card.get("name", "unnamed"),
        "latent_features": functa.model.latent_features,
        "inner_steps": functa.inner_steps,
        "shape": list(functa.shape),
        "value_range": list(functa.layout.value_range),
        **metadata,
    }
    text = json.dumps(record)  # fails here, before any file is touched, if not JSON-ready

    def write(tmp):
        with open(tmp, "wb") as f:
            np.savez(f, latents=z, metadata=np.array(text))

    return atomic_write(path, write)


def load_latents(path) -> tuple[np.ndarray, dict]:
    """``(latents (N, d), metadata)`` written by :func:`save_latents`."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            return np.asarray(data["latents"]), json.loads(str(data["metadata"]))
    except Exception as exc:
        raise ValueError(f"path {str(path)!r} is not a latents file: {exc}") from exc


def save_functa(path, functa: Functa) -> Path:
    """Write a functa (network spec, weights, rates, card) to one file, atomically."""
    if not isinstance(functa, Functa):
        raise ValueError(f"functa must be an inr.meta.Functa; got {type(functa).__name__}")
    return files.save(path, "functa", functa, (ModulatedSiren,))


def _template(model: ModulatedSiren, card: dict) -> dict:
    x = jnp.zeros((1, card["dims"]))
    params = jax.eval_shape(lambda: model.init(jax.random.PRNGKey(0), x))
    rates = jax.ShapeDtypeStruct((model.latent_features,), jnp.float32)
    return {"params": params, "rates": rates}


def load_functa(name_or_path) -> Functa:
    """A functa from a file of :func:`save_functa` or ``"pretrained:celeba-functa"``."""
    return files.load(
        Functa, name_or_path, "functa", PRETRAINED_FUNCTA, _template, (ModulatedSiren,)
    )

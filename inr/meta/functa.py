"""Functa: one shared SIREN, and each signal a short latent vector (Dupont et al. 2022).

A :class:`ModulatedSiren` adds to each sine layer's pre-activation a shift
computed from a latent vector ``z`` by one linear map (functa's shift
modulations, Sec. 3):

    h_l = sin(w0 (W_l h_{l-1} + b_l + s_l)),    (s_1, .., s_L) = M z + c.

The shared weights ``W, b, M, c`` and per-dimension inner learning rates
are meta-learned (Meta-SGD; :func:`inr.meta.meta_train` with ``functa``
set); a signal's latent is then ``inner_steps`` SGD steps from ``z = 0``
(:func:`fit_latents`), so a dataset of signals becomes a dataset of
vectors.  The latent is the module's parameter ``"latent"``, so a functa
with a latent put in is an ordinary fitted field: :meth:`Functa.result`
is a :class:`~inr.FitResult` that renders at any size or region.
"""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path
from typing import Annotated, Any

import flax.linen as nn
import flax.struct
import jax
import jax.numpy as jnp
import numpy as np

from inr._atomic import atomic_write
from inr._cards import terms_note
from inr.distributed import as_mesh, data_sharding, data_size, local_mesh, pad_rows, to_host
from inr.loop import group_size
from inr.meta import files
from inr.meta.inner import adapt
from inr.nn.siren import SineLayer, check_sizes
from inr.objectives import SignalValues
from inr.result import FitResult
from inr.signal import Layout, OnLayout, as_signal

__all__ = [
    "PRETRAINED_FUNCTA",
    "Functa",
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
        lo, hi = self.layout.value_range
        offset = jnp.full((*z.shape[:-1], self.channels), 0.5 * (lo + hi), jnp.float32)
        # A latent carries no fitting history.
        return FitResult(params=with_latent(self.params, z), offset=offset, history={},
                         model=self.model, layout=self.layout)  # fmt: skip

    def render(self, latents, *shape: int, region=None, clip: bool = True) -> np.ndarray:
        """``latents`` rendered on a grid of ``shape`` (default the training shape), or a region."""
        shape = shape or self.shape[: self.dims]
        return self.result(latents).render(*shape, region=region, clip=clip)


@partial(jax.jit, static_argnums=(0, 1, 2))
def _fit_latents(model, steps, group, params, rates, signals):
    """Each signal's latent: ``steps`` SGD steps from zero at ``rates``, ``group`` at a time."""

    def one(signal):
        def loss(z, k):  # every sample: the draw needs no key
            return signal.loss(model, with_latent(params, z), signal.draw(None, k))[0]

        return adapt(loss, jnp.zeros_like(rates), rates, steps)

    return jax.lax.map(one, signals, batch_size=group)


def fit_latents(
    signals, functa: Functa, inner_steps: int | None = None, *, mesh=None
) -> np.ndarray:
    """The latents of a batch of ``signals`` ``(N, N_1, .., N_d[, C])``: ``(N, latent_features)``.

    Each is ``inner_steps`` (default: the functa's own) SGD steps from zero
    at the functa's learned rates, on every sample of its signal; the
    signals may have any grid size (the coordinates span [-1, 1] whatever
    it).  All signals run as one program, ``vmap``-ed in groups, split over
    the devices of ``mesh`` (``None``: this host's; see
    :mod:`inr.distributed`).
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
    mesh = local_mesh() if mesh is None else as_mesh(mesh)
    n, devices = samples.shape[0], data_size(mesh)
    rows = -(-n // devices) * devices
    signals = jax.tree.map(lambda x: pad_rows(x, rows), SignalValues.from_samples(samples, layout))
    signals = jax.device_put(signals, data_sharding(mesh))
    group = group_size(mesh, samples.shape[1], functa.model.hidden_features, rows // devices)
    latents = _fit_latents(functa.model, int(steps), group, functa.params, functa.rates, signals)
    return to_host(latents)[:n]


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

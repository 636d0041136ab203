"""One file per trained meta-model: the network's spec, its arrays and a card.

A learned initialisation and a functa travel as one msgpack file, written
atomically: ``{"kind", "model": {"class", "fields"}, "arrays", "card"}``.
The network is rebuilt from its class name (one the caller allows) and its
fields, so a file never holds code.  ``card`` is the model card's record
(data, command, steps, machine, wall time, scores, licence), JSON text.
Shipped files live in ``inr/meta/pretrained`` and load as
``"pretrained:<name>"``.
"""

from __future__ import annotations

import dataclasses
import json
from importlib import resources
from pathlib import Path

import flax.linen as nn
import flax.serialization
import jax
import jax.numpy as jnp
import numpy as np

from inr._atomic import atomic_write
from inr.nn.sine import fast_sin
from inr.signal import Layout

__all__ = ["load", "model_from_spec", "model_spec", "read_weights", "save", "write_weights"]


_SKIPPED = ("parent", "name")


def model_spec(model: nn.Module, models: tuple[type[nn.Module], ...]) -> dict:
    """``{"class", "fields"}`` of a network of one of the classes ``models``, JSON-ready."""
    if type(model) not in models:
        names = tuple(m.__name__ for m in models)
        raise ValueError(f"model must be one of {names} to be saved; got {type(model).__name__}")
    fields = {}
    for f in dataclasses.fields(model):
        if f.name in _SKIPPED:
            continue
        value = getattr(model, f.name)
        if f.name == "sin":
            if value is not fast_sin:
                raise ValueError("model.sin must be the default inr.fast_sin to be saved")
            continue
        if f.name == "dtype" and value is not None:
            value = str(jnp.dtype(value))
        fields[f.name] = value
    return {"class": type(model).__name__, "fields": fields}


def model_from_spec(spec: dict, models: tuple[type[nn.Module], ...]) -> nn.Module:
    """The network of :func:`model_spec`, if its class is one of ``models``."""
    known = {m.__name__: m for m in models}
    if spec["class"] not in known:
        raise ValueError(f"its network {spec['class']!r} is not one of {tuple(known)}")
    return known[spec["class"]](**spec["fields"])


def write_weights(path, kind: str, model: nn.Module, arrays: dict, card: dict, models) -> Path:
    """Write one meta-model file of a network of ``models`` atomically; returns ``path``."""
    payload = {
        "kind": kind,
        "model": json.dumps(model_spec(model, models)),
        "arrays": flax.serialization.to_state_dict(jax.device_get(arrays)),
        "card": json.dumps(card),
    }
    data = flax.serialization.msgpack_serialize(payload)
    return atomic_write(path, lambda tmp: Path(tmp).write_bytes(data))


def _bytes(name_or_path, kind: str, pretrained: tuple[str, ...]) -> tuple[bytes, str]:
    if isinstance(name_or_path, str) and name_or_path.startswith("pretrained:"):
        name = name_or_path.split(":", 1)[1]
        if name not in pretrained:
            raise ValueError(f"pretrained {kind}s are {pretrained}; got {name_or_path!r}")
        data = resources.files("inr.meta.pretrained").joinpath(f"{name}.msgpack")
        return data.read_bytes(), name_or_path
    path = Path(name_or_path)
    if not path.is_file():
        raise ValueError(f"path {str(path)!r} is not a {kind} file")
    return path.read_bytes(), repr(str(path))


def read_weights(name_or_path, kind: str, pretrained: tuple[str, ...], template, models):
    """``(model, arrays, card)`` of a file of ``kind``, checked against ``template(model, card)``.

    ``template(model, card)`` gives the arrays' expected structure and shapes (an
    ``eval_shape`` of a fresh one).  ``ValueError`` names the file when it is
    not of ``kind`` or does not fit its network.
    """
    data, where = _bytes(name_or_path, kind, pretrained)
    try:
        payload = flax.serialization.msgpack_restore(data)
        if payload["kind"] != kind:
            raise ValueError(f"it holds a {payload['kind']}")
        model = model_from_spec(json.loads(payload["model"]), models)
        card = json.loads(payload["card"])
        expected = template(model, card)
        arrays = flax.serialization.from_state_dict(expected, payload["arrays"])
        same = jax.tree.map(lambda e, a: tuple(e.shape) == np.shape(a), expected, arrays)
        if not jax.tree.all(same):
            raise ValueError("its arrays do not fit its network")
    except Exception as exc:
        raise ValueError(f"{where} is not a {kind} file: {exc}") from exc
    return model, jax.tree.map(jnp.asarray, arrays), card


def save(path, kind: str, meta_model, models) -> Path:
    """Write an :class:`~inr.meta.Init` or :class:`~inr.meta.Functa` (``kind``) to one file.

    The card gains what rebuilds the object: the signals' shape, axes and
    value range, and the inner steps.
    """
    layout = meta_model.layout
    card = {**meta_model.card, "shape": list(layout.shape), "dims": layout.dims,
            "value_range": list(layout.value_range),
            "inner_steps": meta_model.inner_steps}  # fmt: skip
    arrays = {"params": meta_model.params, "rates": meta_model.rates}
    return write_weights(path, kind, meta_model.model, arrays, card, models)


def load(cls, name_or_path, kind: str, pretrained: tuple[str, ...], template, models):
    """A ``cls`` (Init or Functa) from a file of :func:`save` or a shipped name."""
    model, arrays, card = read_weights(name_or_path, kind, pretrained, template, models)
    return cls(
        params=arrays["params"],
        rates=arrays["rates"],
        model=model,
        layout=Layout(tuple(card["shape"]), card["dims"], tuple(card["value_range"])),
        inner_steps=card["inner_steps"],
        card=card,
    )

"""A trained restorator: parameters plus config, rendering at any size or region.

:class:`Restorator` is a pytree (``params``) with its
:class:`~inr.restorator.model.RestoratorConfig` as static data.
:meth:`Restorator.restore` encodes the input once and decodes every pixel
centre of the requested grid (see :mod:`inr.coords`) in fixed-size chunks
(:func:`inr.evaluate_chunked`), so a 4096x4096 render needs memory for one
chunk's activations plus the output.

Weights travel as one msgpack file (config, parameters and card), written
atomically by :func:`save_restorator`.  :func:`load_restorator` reads such a
file, a training run's checkpoint folder (its latest checkpoint), or a
shipped model, ``"pretrained:<name>"`` for a name in :data:`PRETRAINED`.
Every shipped model carries its card (``Restorator.card``: what it does, its
data, its licence, its scores, its limits); all six are for non-commercial
research use only, by the terms of the photos they were trained on, and
their ``repr`` says so.  The full cards: ``docs/model_cards.md``.
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from pathlib import Path
from typing import Any

import flax.serialization
import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

from inr import checkpoint
from inr._atomic import atomic_write
from inr._cards import terms_note
from inr._validate import as_image, as_positive_int, as_region, as_size
from inr.coords import grid_axes, points_from_axes
from inr.diffusion.sampler import SamplerConfig, sample
from inr.distributed import as_mesh, replicate, to_host
from inr.interpolation import resize_valid
from inr.render import DEFAULT_CHUNK, evaluate_chunked
from inr.restorator.ensemble import (
    members,
    transform,
    transform_region,
    transform_size,
    untransform,
)
from inr.restorator.model import RestoratorConfig, RestoratorNet

__all__ = ["PRETRAINED", "Restorator", "load_restorator", "save_restorator"]

PRETRAINED = ("restore", "upscale", "diffusion", "celeba", "celeba-diffusion", "celeba-refsr")


def _encode(net, params, inputs, reference):
    """``(maps, latent, transfer)`` of one input and its reference (``None``: none)."""
    maps, latent = net.apply(params, inputs[None], method=RestoratorNet.encode)
    transfer = None
    if reference is not None:
        args = (inputs[None], reference[None])
        transfer = net.apply(params, *args, method=RestoratorNet.encode_reference)
    return maps, latent, transfer


@functools.partial(jax.jit, static_argnames=("net", "chunk", "mesh"))
def _render(net, params, inputs, base, axes, cell, chunk, mesh, reference=None):
    points = points_from_axes(*axes)
    maps, latent, transfer = _encode(net, params, inputs, reference)

    def decode(p):
        args = (maps, latent, base[None], p[None], cell[None], transfer)
        return net.apply(params, *args, method="decode")[0]

    return jnp.clip(evaluate_chunked(decode, points, chunk, mesh), 0.0, 1.0)


@functools.partial(jax.jit, static_argnames=("net", "chunk", "sampler", "mesh"))
def _render_diffusion(
    net, params, inputs, base, axes, cell, key, chunk, sampler, mesh, reference=None
):
    """Every point is its own diffusion chain (``vmap`` of the sampler over points)."""
    points = points_from_axes(*axes)
    config = net.config
    schedule = config.noise_schedule()
    maps, latent, transfer = _encode(net, params, inputs, reference)
    k_start, k_chains = jax.random.split(key)
    x_T = jax.random.normal(k_start, points.shape[:-1] + (3,))
    keys = jax.random.split(k_chains, points.shape[0])
    batch = (maps, latent, base[None])

    def chain(p, x, k):
        def denoise(x_t, t):
            args = (*batch, p[None, None], cell[None], x_t[None, None], t, transfer)
            return net.apply(params, *args, method=RestoratorNet.denoise)[0, 0]

        return sample(denoise, x, k, schedule, prediction=config.prediction, **sampler.kwargs())

    def run(args):
        p, x, k = args
        residual = jax.vmap(chain)(p, x, k) * config.diffusion_scale
        b = net.apply(params, base[None], p[None], method=RestoratorNet.base)
        return net.apply(params, b, residual[None], method=RestoratorNet.to_rgb)[0]

    return jnp.clip(evaluate_chunked(run, (points, x_T, keys), chunk, mesh), 0.0, 1.0)


@struct.dataclass
class Restorator:
    """Trained restorator parameters and their config.

    Attributes:
      params: the :class:`RestoratorNet` variables.
      config: the architecture and task (static).
      card: what the weights are (static): for the shipped models their
        ``name``, what the model ``does``, its ``data``, ``licence``,
        ``scores`` and ``limits``; ``{}`` for weights without one.
    """

    params: Any
    config: RestoratorConfig = struct.field(pytree_node=False)
    card: dict = struct.field(pytree_node=False, default_factory=dict)

    @property
    def net(self) -> RestoratorNet:
        return RestoratorNet(self.config)

    def __repr__(self) -> str:
        c = self.config
        n = sum(int(np.prod(np.shape(x))) for x in jax.tree.leaves(self.params))
        kind = "gray" if c.in_channels == 1 else "colour"
        mode = "single pass" if c.decoding == "single" else f"diffusion, {c.prediction}"
        mode += ", reference" if c.reference else ""
        name = f"{self.card['name']}, " if "name" in self.card else ""
        return (
            f"Restorator({name}task={c.task!r}, input {c.input_size}x{c.input_size} {kind}, "
            f"{n / 1e6:.2f} M parameters, {mode}{terms_note(self.card)})"
        )

    def _checked(self, image, reference, sampler, chunk):
        """``(image, reference)`` as arrays the task takes, after every check of ``restore``."""
        if sampler is not None and self.config.decoding != "diffusion":
            raise ValueError("sampler is for diffusion restorators; this one is single-pass")
        if sampler is not None and not isinstance(sampler, SamplerConfig):
            raise ValueError(f"sampler must be an inr.diffusion.SamplerConfig; got {sampler!r}")
        as_positive_int(chunk, "chunk")
        if reference is not None:
            if not self.config.reference:
                raise ValueError("reference is for reference restorators (config.reference)")
            reference = as_image(reference, "reference")
            if reference.ndim != 3 or reference.shape[-1] != 3:
                raise ValueError(f"reference must be colour (H, W, 3); got {reference.shape}")
        img, task = as_image(image, "image"), self.config.task
        if task == "upscale":
            if img.ndim != 3 or img.shape[-1] != 3:
                raise ValueError(f"image must be colour (H, W, 3) for upscale; got {img.shape}")
            return img, reference
        if img.ndim == 3 and img.shape[-1] == 1:
            img = img[..., 0]
        if img.ndim != 2:
            raise ValueError(
                f"image must be grayscale (H, W) for {task}; got {img.shape} "
                "(convert with inr.rgb_to_gray)"
            )
        return img, reference

    def _encoder_inputs(self, img: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(encoder input, base image)`` of a checked image, both (h, w, c)."""
        task, n = self.config.task, self.config.input_size
        if task == "upscale":
            return img, img
        small = img if img.shape == (n, n) else resize_valid(img, (n, n))
        base = img if task == "colorize" else small
        return small[..., None], base[..., None]

    def restore(
        self,
        image,
        size=None,
        region=None,
        *,
        sampler: SamplerConfig | None = None,
        reference=None,
        ensemble: str | None = None,
        seed: int = 0,
        chunk: int = DEFAULT_CHUNK,
        mesh=None,
    ) -> np.ndarray:
        """The colour image predicted from ``image``: float32 NumPy (H, W, 3) in [0, 1].

        Args:
          image: gray (h, w) for ``restore``/``colorize``, colour (h, w, 3)
            for ``upscale``.  ``restore`` and ``colorize`` encode a bicubic
            resize of it to ``config.input_size`` squared (what they were
            trained on); ``colorize`` keeps the full-size input as its luma.
            ``upscale`` is fully convolutional and takes any size.
          size: output ``(H, W)``; ``None`` keeps the input's size.
          region: ``(x0, y0, x1, y1)`` fractions of the image to render
            (``None``: all of it), at ``size``.
          sampler: a diffusion restorator's reverse process
            (:class:`inr.diffusion.SamplerConfig`; ``None``: its defaults,
            DDPM over every step).  A single-pass model takes none.
          reference: for a reference model (``config.reference``), a colour
            photo ``(H_r, W_r, 3)`` of the same subject, framed like the
            output (any size): its textures are transferred
            (:mod:`inr.restorator.reference`).  ``None`` restores without.
          ensemble: ``"flip"`` or ``"dihedral"`` averages the restorations
            of the image's mirror (2 renders) or of its 8 flips and
            transposes (8 renders), each transformed back
            (:mod:`inr.restorator.ensemble`); ``None`` renders once.  The
            reference, region and size are transformed with the image.
          seed: a diffusion restorator's noise.  Each pixel is an
            independent chain keyed by its index in this render, so a
            region render is a fresh sample, not a crop of the full one.
          chunk: points decoded at once per device (bounds memory).
          mesh: the devices that share the points (``None``: all of them;
            a count; or a :class:`jax.sharding.Mesh` with a ``"data"``
            axis, see :mod:`inr.distributed`).  The values do not depend on
            it.  On several hosts every host calls ``restore`` and gets the
            whole image.
        """
        image, reference = self._checked(image, reference, sampler, chunk)
        size, region = _output_size(size, image), as_region(region)
        group = _ALONE if ensemble is None else members(ensemble)
        mesh = as_mesh(mesh)
        params = replicate(self.params, mesh)
        total = np.zeros((*size, 3), np.float32)
        for m in group:
            ref = None if reference is None else transform(reference, m)
            view = (transform_size(size, m), transform_region(region, m))
            out = self._render(params, transform(image, m), *view, ref, sampler, seed, chunk, mesh)
            total += untransform(out, m)
        return total / len(group)

    def _render(self, params, image, size, region, reference, sampler, seed, chunk, mesh):
        """One render of a checked image: float32 ``(H, W, 3)`` on the host."""
        inputs, base = self._encoder_inputs(image)
        height, width = size
        x0, y0, x1, y1 = region
        axes = grid_axes(height, width, region)
        cell = np.array(
            [inputs.shape[1] * (x1 - x0) / width, inputs.shape[0] * (y1 - y0) / height],
            np.float32,
        )
        if self.config.decoding == "diffusion":
            key = jax.random.PRNGKey(seed)
            sampler = SamplerConfig() if sampler is None else sampler
            out = _render_diffusion(
                self.net, params, inputs, base, axes, cell, key, chunk, sampler, mesh, reference
            )
        else:
            out = _render(self.net, params, inputs, base, axes, cell, chunk, mesh, reference)
        return to_host(out).reshape(height, width, 3)


# The ensemble of one: the image as it is.
_ALONE = ((False, False, False),)


def _output_size(size, image) -> tuple[int, int]:
    """Validated output ``(height, width)``; ``None`` is the input's."""
    size = np.shape(image)[:2] if size is None else size
    if np.ndim(size) != 1 or len(size) != 2:
        raise ValueError(f"size must be (height, width); got {size!r}")
    return as_size(*size)


def save_restorator(path, restorator: Restorator) -> Path:
    """Write config and parameters to one msgpack file, atomically."""
    path = Path(path)
    payload = {
        "config": restorator.config.to_json(),
        "params": flax.serialization.to_state_dict(jax.device_get(restorator.params)),
        "card": json.dumps(restorator.card),
    }
    data = flax.serialization.msgpack_serialize(payload)
    return atomic_write(path, lambda tmp: Path(tmp).write_bytes(data))


def _from_bytes(data: bytes, where: str, card: dict | None = None) -> Restorator:
    """The restorator of a file's bytes; ``card`` replaces the file's own (0.2 files have none)."""
    try:
        payload = flax.serialization.msgpack_restore(data)
        config = RestoratorConfig.from_json(payload["config"])
        params = payload["params"]
        card = json.loads(payload.get("card", "{}")) if card is None else card
    except Exception as exc:
        raise ValueError(f"{where} is not a restorator file: {exc}") from exc
    return Restorator(params=checked_params(params, config, where), config=config, card=card)


def init_params(config: RestoratorConfig, key):
    """Fresh parameters of ``config``'s network from ``key`` (its shapes under ``eval_shape``)."""
    n, c = config.input_size, config.in_channels
    net = RestoratorNet(config)
    return net.init(key, jnp.zeros((1, n, n, c)), jnp.zeros((1, 1, 2)), jnp.ones((1, 2)))


def derived_card(base: Restorator | None) -> dict:
    """The card of weights trained or grown from ``base``: its data terms carry over."""
    if base is None or not base.card:
        return {}
    keep = {k: base.card[k] for k in ("data", "licence") if k in base.card}
    return {**keep, "based_on": base.card.get("name", base.card.get("based_on", "?"))}


def checked_params(params, config: RestoratorConfig, where: str):
    """``params`` as JAX arrays, after checking them against ``config``'s shapes.

    Raises ``ValueError`` naming ``where`` when they do not fit.
    """
    template = jax.eval_shape(functools.partial(init_params, config), jax.random.PRNGKey(0))
    try:
        params = flax.serialization.from_state_dict(template, params)
        shapes_match = jax.tree.all(
            jax.tree.map(lambda t, p: tuple(t.shape) == np.shape(p), template, params)
        )
    except Exception as exc:
        raise ValueError(f"{where}: parameters do not match its config: {exc}") from exc
    if not shapes_match:
        raise ValueError(f"{where}: parameter shapes do not match its config")
    return jax.tree.map(jnp.asarray, params)


def load_restorator(path) -> Restorator:
    """A :class:`Restorator` from a file, a checkpoint folder or ``"pretrained:<task>"``."""
    if isinstance(path, str) and path.startswith("pretrained:"):
        name = path.split(":", 1)[1]
        if name not in PRETRAINED:
            raise ValueError(f"pretrained models are {PRETRAINED}; got {path!r}")
        shipped = resources.files("inr.restorator.pretrained")
        data = shipped.joinpath(f"{name}.msgpack")
        if not data.is_file():
            raise ValueError(f"the pretrained {name!r} weights are not installed")
        card = json.loads(shipped.joinpath("cards.json").read_text())[name]
        return _from_bytes(data.read_bytes(), path, card)
    path = Path(path)
    if path.is_dir():
        return _latest_checkpoint(path)
    if not path.is_file():
        raise ValueError(f"path {str(path)!r} is neither a restorator file nor a checkpoint folder")
    return _from_bytes(path.read_bytes(), repr(str(path)))


def _latest_checkpoint(directory: Path) -> Restorator:
    """The :class:`Restorator` of a training run's latest checkpoint."""
    manager = checkpoint.open_manager(directory)
    try:
        found = checkpoint.restore(manager)
    finally:
        manager.close()
    if found is None:
        raise ValueError(f"checkpoint folder {str(directory)!r} holds no checkpoint")
    state, meta = found
    config = RestoratorConfig.from_json(meta["config"])
    params = checked_params(state["params"], config, str(directory))
    return Restorator(params=params, config=config, card=meta.get("card", {}))

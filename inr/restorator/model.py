"""The restorator network: encode a small image once, decode any point.

A :class:`RestoratorConfig` names the task and sizes; :class:`RestoratorNet`
is the Flax module built from it.  For a batch of inputs ``(B, h, w, c)``
(``c = 1``, gray, for ``restore``/``colorize``; ``3`` for ``upscale``) and
query points ``(B, n, 2)`` in [-1, 1] (pixel-centre convention of
:mod:`inr.coords`), each point's decoder input is

* every feature map sampled bilinearly at the point (LIIF, Chen et al.
  2021), or with ``local_ensemble`` the finest map's four surrounding cells,
  decoded separately and blended with bilinear weights (LIIF, Sec. 3.2);
* the point's offset ``(dx, dy)`` from its finest feature cell, in cells;
* a NeRF positional encoding of *both* coordinates ``(x, y)``;
* the cell size ``(w_in / w_out, h_in / h_out)`` in input pixels per output
  pixel (LIIF's cell decoding), when ``cell`` is on;
* the base colour: the bicubic sample of the input at the point.

The decoder predicts a residual over the base in the chosen colour space:
``"rgb"``, or ``"ycbcr"`` where a gray input is the luma and the chroma
starts neutral.  For ``colorize`` in YCbCr the luma is the input's exactly
and only the chroma is predicted.  Output is RGB, unclipped (clip on use).
"""

from __future__ import annotations

import dataclasses
import json
from typing import Annotated

import chex
import flax.linen as nn
import jax
import jax.numpy as jnp

from inr.color import rgb_to_ycbcr, ycbcr_to_rgb
from inr.diffusion.sampler import PREDICTIONS
from inr.diffusion.schedule import Schedule, cosine_schedule, linear_schedule, timestep_embedding
from inr.interpolation import sample_bicubic, sample_bilinear, sample_corner, sample_nearest
from inr.nn.encodings import PositionalEncoding
from inr.restorator.decoder import Decoder
from inr.restorator.encoder import ACTIVATIONS, Encoder
from inr.restorator.reference import TextureExtractor, Transfer, match, transfer

__all__ = ["COLOR_SPACES", "DECODINGS", "PRESETS", "TASKS", "RestoratorConfig", "RestoratorNet"]

TASKS = ("restore", "colorize", "upscale")
# Named capacities (encoder and decoder sizes).  "small" is the default
# config (0.54 M parameters for upscale); "base" has 1.7 M, EDSR-baseline's
# range (1.5 M), at 1.95x the decoder's FLOPs per output pixel
# (benchmarks/train_throughput.py measures them); "deep" is "base" with
# EDSR-baseline's body (16 residual blocks of 64 channels) at the input's
# full resolution, where upscaling needs depth.
_BASE = dict(features=(64, 128, 256), latent=128, hidden=256, blocks=2)
PRESETS = {
    "small": {},
    "base": _BASE,
    "deep": dict(_BASE, residual_blocks=16),
}
DECODINGS = ("single", "diffusion")
COLOR_SPACES = ("rgb", "ycbcr")
_CORNERS = ((0, 0), (1, 0), (0, 1), (1, 1))

# Shapes of the decoder's arguments: a batch of b inputs, n points each.
Maps = tuple[jax.Array, ...]  # the encoder's feature maps, finest first, (b, h_k, w_k, c_k)
Latent = Annotated[jax.Array, "b latent"]
Images = Annotated[jax.Array, "b H W c"]
Points = Annotated[jax.Array, "b n 2"]
Cells = Annotated[jax.Array, "b 2"]
Colours = Annotated[jax.Array, "b n 3"]


@dataclasses.dataclass(frozen=True)
class RestoratorConfig:
    """Everything that fixes a restorator's architecture (JSON round-trips).

    Attributes:
      task: ``"restore"`` (gray low-res to colour high-res), ``"colorize"``
        (gray to colour, same size) or ``"upscale"`` (colour to colour).
      input_size: side of the square inputs it is trained on.
      features, latent, encoder_activation, residual_blocks: the
        :class:`Encoder` (``residual_blocks``: EDSR's body at the finest scale).
      hidden, blocks, decoder_activation, film: the :class:`Decoder`.
      pos_frequencies: octaves of the positional encoding of ``(x, y)``.
      local_ensemble: LIIF's four-cell ensemble (4x the decoder cost).
      cell: feed the cell size to the decoder.
      color_space: ``"rgb"`` or ``"ycbcr"``.
      decoding: ``"single"`` (one decoder pass per point) or
        ``"diffusion"`` (the decoder denoises each point's colour residual).
      prediction, num_steps, schedule: the diffusion parameterisation
        (``"epsilon"``, ``"x0"``, ``"v"``) and noise schedule
        (``"cosine"`` or ``"linear"``).  ``"x0"`` by default: at the
        cosine schedule's last step ``sqrt(alpha_bar) ~ 1.6e-4``, so an
        epsilon prediction's error reaches x0 amplified ~6000x.
      diffusion_scale: the residual over the base is divided by this before
        diffusion, so that its spread is comparable with the unit noise.
      reference: a reference-based restorator (TTSR's texture transfer,
        :mod:`inr.restorator.reference`): ``restore(..., reference=photo)``.
      texture: channels of the reference's learned texture maps, finest
        first (each scale halves the resolution); the reference's colours
        are transferred beside them.
      search_radius: 0 matches each input patch against the whole
        reference (TTSR); ``r > 0`` only against reference cells within
        ``r`` input cells of its own position, for references framed like
        the input.  It adds no parameters.
    """

    # What it restores.
    task: str = "restore"
    input_size: int = 64
    # The encoder.
    features: tuple[int, ...] = (32, 64, 128)
    latent: int = 64
    encoder_activation: str = "relu"
    residual_blocks: int = 0
    # The decoder, by default the Decoder module's own defaults.
    hidden: int = Decoder.hidden
    blocks: int = Decoder.blocks
    decoder_activation: str = Decoder.activation
    film: bool = Decoder.film
    # What the decoder reads at each point, and in which colours.
    pos_frequencies: int = 6
    local_ensemble: bool = False
    cell: bool = True
    color_space: str = "ycbcr"
    # One pass, or a per-point diffusion.
    decoding: str = "single"
    prediction: str = "x0"
    num_steps: int = 100
    schedule: str = "cosine"
    diffusion_scale: float = 0.1
    # A reference photo's textures.
    reference: bool = False
    texture: tuple[int, ...] = (32, 32, 32)
    search_radius: int = 0

    def __post_init__(self):
        object.__setattr__(self, "features", tuple(int(f) for f in self.features))
        object.__setattr__(self, "texture", tuple(int(f) for f in self.texture))
        if not self.texture or min(self.texture) < 1:
            raise ValueError(f"texture must be positive channel counts; got {self.texture}")
        for name in ("search_radius", "residual_blocks"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"{name} must be an int; got {value!r}")
            if value < 0:
                raise ValueError(f"{name} must be >= 0; got {value}")
        checks = {
            "task": (self.task, TASKS),
            "encoder_activation": (self.encoder_activation, ACTIVATIONS),
            "decoder_activation": (self.decoder_activation, ("relu", "sine")),
            "color_space": (self.color_space, COLOR_SPACES),
            "decoding": (self.decoding, DECODINGS),
            "prediction": (self.prediction, PREDICTIONS),
            "schedule": (self.schedule, ("cosine", "linear")),
        }
        for name, (value, allowed) in checks.items():
            if value not in allowed:
                raise ValueError(f"{name} must be one of {allowed}; got {value!r}")
        if self.input_size < 2 ** len(self.features):
            raise ValueError(
                f"input_size must be at least {2 ** len(self.features)} for "
                f"{len(self.features)} scales; got {self.input_size}"
            )

    @classmethod
    def preset(cls, name: str, **changes) -> RestoratorConfig:
        """The config of a named capacity (:data:`PRESETS`), with any field changed.

        Example: ``RestoratorConfig.preset("base", task="upscale")``.
        """
        if name not in PRESETS:
            raise ValueError(f"preset must be one of {tuple(PRESETS)}; got {name!r}")
        return cls(**{**PRESETS[name], **changes})

    def noise_schedule(self) -> Schedule:
        """The diffusion :class:`~inr.diffusion.Schedule` of this config."""
        make = cosine_schedule if self.schedule == "cosine" else linear_schedule
        return make(self.num_steps)

    @property
    def in_channels(self) -> int:
        """1 (gray) for restore and colorize, 3 for upscale."""
        return 3 if self.task == "upscale" else 1

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> RestoratorConfig:
        data = json.loads(text)
        if "restorator" in data:  # the field's name in files saved before 0.3
            data["decoding"] = data.pop("restorator")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown restorator config fields: {sorted(unknown)}")
        return cls(**data)


def _check_points(points, cell):
    """Points ``(b, n, 2)`` with one cell size ``(b, 2)`` per batch row."""
    chex.assert_rank(points, 3)
    chex.assert_shape(cell, (points.shape[0], 2))


def _vmapped(fn, *args):
    return jax.vmap(fn)(*args)


class RestoratorNet(nn.Module):
    """Encoder and decoder of a :class:`RestoratorConfig` (see the module docstring)."""

    config: RestoratorConfig

    def setup(self):
        c = self.config
        self.encoder = Encoder(
            c.features, c.latent, c.encoder_activation, residual_blocks=c.residual_blocks
        )
        self.decoder = Decoder(c.hidden, c.blocks, 3, c.decoder_activation, c.film)
        self.encoding = PositionalEncoding(c.pos_frequencies)
        if c.reference:
            # Q and K live in the input's space (gray for restore/colorize),
            # V in colour: two extractors, where TTSR shares one.
            self.key_texture = TextureExtractor(c.texture[:1])
            self.value_texture = TextureExtractor(c.texture)

    def encode(self, image: Annotated[jax.Array, "b h w c"]):
        """``(maps, latent)`` of an input batch."""
        return self.encoder(image)

    def encode_reference(
        self,
        image: Annotated[jax.Array, "b h w c"],
        reference: Annotated[jax.Array, "b H W 3"],
        present: Annotated[jax.Array, "b"] | None = None,
    ) -> Transfer:
        """The :class:`~inr.restorator.reference.Transfer` of ``reference`` to ``image``.

        ``present`` (0 or 1 per row; default 1) switches a row's reference
        off: its confidence, hence everything it transfers, is zero.
        """
        b, h, w, c = image.shape
        key = jax.image.resize(reference, (b, h, w, 3), "linear", antialias=True)
        if c == 1:
            key = rgb_to_ycbcr(key)[..., :1]
        query, key = self.key_texture(image)[0], self.key_texture(key)[0]
        index, confidence = match(query, key, self.config.search_radius)
        if present is not None:
            confidence = confidence * present[:, None, None]
        # The reference's own colours lead V: TTSR's extractor starts from
        # VGG features, ours from random weights, and the raw colours give
        # the decoder something worth copying from the first step.
        values = (reference, *self.value_texture(reference))
        return Transfer(values, index, confidence)

    def textures(self, image: Annotated[jax.Array, "b h w 3"]) -> tuple[jax.Array, ...]:
        """The value texture extractor's maps of colour images (a reference model's)."""
        return self.value_texture(image)

    def _transferred(self, reference: Transfer | None, points):
        if not self.config.reference:
            return []
        if reference is None:  # no reference: what a dropped one gives
            width = 3 + sum(self.config.texture) + 1
            return [jnp.zeros(points.shape[:-1] + (width,), points.dtype)]
        return [transfer(reference, points)]

    def _residual(self, maps, latent, base, points, cell, extra=(), reference=None):
        """The decoder's output at ``points``: one pass, or LIIF's four-cell blend."""
        c = self.config
        shared = [_vmapped(sample_bilinear, m, points) for m in maps[1:]]
        shared += [self.encoding(points), base, *extra, *self._transferred(reference, points)]
        if c.cell:
            shared.append(jnp.broadcast_to(cell[:, None, :], points.shape))

        def run(features, offset):
            return self.decoder(jnp.concatenate([features, offset, *shared], axis=-1), latent)

        if not c.local_ensemble:
            _, offset = _vmapped(sample_nearest, maps[0], points)
            return run(_vmapped(sample_bilinear, maps[0], points), offset)
        residual = 0.0
        for corner in _CORNERS:
            features, offset = _vmapped(
                lambda m, p, k=corner: sample_corner(m, p, k), maps[0], points
            )
            weight = jnp.prod(1.0 - jnp.abs(offset), axis=-1, keepdims=True)
            residual = residual + weight * run(features, offset)
        return residual

    def to_rgb(self, base, residual) -> Annotated[jax.Array, "b n 3"]:
        """RGB from the base and a residual in the working colour space."""
        out = base + residual
        if self.config.color_space == "rgb":
            return out
        if self.config.task == "colorize":
            out = jnp.concatenate([base[..., :1], out[..., 1:]], axis=-1)
        return ycbcr_to_rgb(out)

    def to_space(self, rgb):
        """RGB into the working colour space (inverse of the conversion in :meth:`to_rgb`)."""
        return rgb if self.config.color_space == "rgb" else rgb_to_ycbcr(rgb)

    def base(self, base_image, points):
        """The bicubic base at ``points`` in the working colour space, ``(B, n, 3)``.

        A gray input is the luma, with neutral chroma in YCbCr and three equal
        channels in RGB.
        """
        base = _vmapped(sample_bicubic, base_image, points)
        if base.shape[-1] == 3:
            return self.to_space(base)
        if self.config.color_space == "rgb":
            return jnp.repeat(base, 3, axis=-1)
        return jnp.concatenate([base, jnp.full(base.shape[:-1] + (2,), 0.5, base.dtype)], axis=-1)

    def decode(
        self, maps: Maps, latent: Latent, base_image: Images, points: Points, cell: Cells,
        reference: Transfer | None = None,
    ) -> Colours:  # fmt: skip
        """RGB at ``points`` from encoded ``(maps, latent)`` and the base image (single pass)."""
        _check_points(points, cell)
        base = self.base(base_image, points)
        residual = self._residual(maps, latent, base, points, cell, reference=reference)
        return self.to_rgb(base, residual)

    def denoise(
        self, maps: Maps, latent: Latent, base_image: Images, points: Points, cell: Cells,
        x_t: Colours, t: Annotated[jax.Array, "b n"], reference: Transfer | None = None,
    ) -> Colours:  # fmt: skip
        """The diffusion prediction (``config.prediction``) for noisy residuals ``x_t`` at ``t``."""
        _check_points(points, cell)
        chex.assert_shape(x_t, (*points.shape[:-1], 3))
        base = self.base(base_image, points)
        emb = timestep_embedding(jnp.broadcast_to(t, x_t.shape[:-1]), self.config.num_steps)
        return self._residual(maps, latent, base, points, cell, (x_t, emb), reference)

    def __call__(self, image, points, cell, x_t=None, t=None, reference=None, present=None):
        """Encode ``image`` (and ``reference``) and decode (or denoise) ``points``.

        The base is ``image`` itself.  A reference model initialises its
        texture extractors on a blank reference when none is given.
        """
        maps, latent = self.encode(image)
        transfer_ = None
        if self.config.reference:
            if reference is None:
                reference, present = jnp.zeros(image.shape[:3] + (3,)), jnp.zeros(image.shape[0])
            transfer_ = self.encode_reference(image, reference, present)
        if self.config.decoding == "diffusion":
            if x_t is None:
                x_t = jnp.zeros(points.shape[:-1] + (3,), points.dtype)
                t = jnp.zeros(points.shape[:-1], jnp.int32)
            return self.denoise(maps, latent, image, points, cell, x_t, t, transfer_)
        return self.decode(maps, latent, image, points, cell, transfer_)

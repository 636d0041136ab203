"""``encode`` a signal to bytes and ``decode`` bytes to a signal at any size: fields as files.

:func:`encode` fits a :class:`~inr.codec.objective.CodecObjective` with
:func:`inr.fit` (so one program serves every signal of the same shape),
rounds its latents, picks the synthesis's weight steps, and writes the file
(:mod:`inr.codec.bitstream`).  :func:`decode` reads it back to the same
integers and renders the field (a :class:`~inr.FitResult`, so a decode at
twice the size, or of a crop, is the same field at other points).  The
rate is the file: ``8 * len(data) / pixels`` bits per pixel, header
included.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools

import jax
import jax.numpy as jnp
import numpy as np

from inr._validate import as_number
from inr.codec import entropy
from inr.codec.bitstream import Reader, Writer, pack, unpack
from inr.codec.coding import read_latents, read_tensors, write_latents, write_tensors
from inr.codec.field import LatentField, latent_shapes, refinement
from inr.codec.objective import CodecConfig, CodecObjective
from inr.codec.preset import Preset
from inr.fitting import fit
from inr.result import FitResult
from inr.signal import Layout, as_signal

__all__ = ["PRESETS", "decode", "encode", "field", "info", "weight_of"]

_LOW = CodecConfig(hidden=(16,), refine=False)  # the smallest files: the fewest weights
PRESETS = {
    "default": Preset(low=_LOW, high=CodecConfig()),
    "slow": Preset(low=dataclasses.replace(_LOW, steps=8000), high=CodecConfig(steps=8000)),
    "small": Preset(Preset(_LOW, CodecConfig(hidden=(24,), refine=False)), CodecConfig(),
                    quality=60.0, bpp=1.0),
}  # fmt: skip
"""Named presets (:class:`~inr.codec.Preset`): ``"default"`` (1200 steps and a polish of 100:
under 5 minutes for a 768x512 photo on a 2-core CPU), ``"slow"`` (8000 steps and a polish of 667:
under 30); each a synthesis of one hidden layer of 16 and no refining filter below quality 25 (or
0.2 bits per sample) and of two of 24 and the filter from there.  ``"small"``, for pictures of
about 384x256 and smaller, where the synthesis's weights are a larger part of a file: the
default's steps, with one hidden layer of 24 from quality 25 and two of 24 and the filter from 60
(or 1.0 bits per sample)."""

_SYNTHESIS_STEPS = (4, 5, 6, 7, 8, 9, 10)  # candidate weight steps 2^-k, shared
_MAX_BITS = 24  # the finest step a tensor's own may reach
_CONTEXT_STEPS = (2, 3, 4, 5, 6, 7, 8)  # candidate entropy-model weight steps 2^-k (<= FRACTION)


def weight_of(quality: float) -> float:
    """``lambda`` of a quality in [0, 100]: ``10 ** (-1 - quality / 25)`` (0: 1e-1, 100: 1e-5)."""
    quality = as_number(quality, "quality", 0.0, 100.0)
    return 10.0 ** (-1.0 - quality / 25.0)


def _config(preset, config, quality, bpp) -> CodecConfig:
    if config is not None:
        if not isinstance(config, CodecConfig):
            raise ValueError(f"config must be an inr.codec.CodecConfig; got {config!r}")
        return config
    if not isinstance(preset, Preset):
        if preset not in PRESETS:
            raise ValueError(f"preset must be an inr.codec.Preset or one of {sorted(PRESETS)}; "
                             f"got {preset!r}")  # fmt: skip
        preset = PRESETS[preset]
    return preset.at(quality, bpp)


def _weights(params: dict, bits: dict[str, int]) -> dict[str, np.ndarray]:
    """The synthesis's weights as integers, tensor ``k`` of step ``2^-bits[k]``."""
    return {k: np.round(np.asarray(params[k], np.float64) * 2.0**b).astype(np.int64)
            for k, b in bits.items()}  # fmt: skip


def _stored(qcontext: dict, step: int) -> dict[str, np.ndarray]:
    """The entropy model's integers as the file holds them: multiples of ``2^-step``, counted."""
    return {f"context_{k}": v >> (entropy.FRACTION - step) for k, v in qcontext.items()}


def _decoded_params(latents, synthesis: dict, bits: dict, qcontext: dict) -> dict:
    """The parameter tree a decoder rebuilds: what the file says, in float32."""
    tree = {f"latent_{i}": jnp.asarray(z, jnp.float32) for i, z in enumerate(latents)}
    tree.update({k: jnp.asarray(v / 2.0 ** bits[k], jnp.float32) for k, v in synthesis.items()})
    context = entropy.dequantize_params(qcontext)
    tree.update({f"context_{k}": v for k, v in context.items()})
    return {"params": tree}


def _header(layout: Layout, config: CodecConfig, steps: tuple[dict, int], scales: list,
            metadata) -> dict:  # fmt: skip
    header = {"shape": list(layout.shape), "dims": layout.dims, "range": list(layout.value_range),
              "latents": list(config.latents), "hidden": list(config.hidden),
              "context": config.context, "refine": int(config.refine),
              "bits": [steps[0][k] for k in sorted(steps[0])], "context_bits": steps[1],
              "scales": scales}  # fmt: skip
    return {**header, "metadata": metadata} if metadata else header


def _pick_context(context: dict, latents) -> tuple[int, dict, bytes]:
    """``(step, fixed-point model, latents' section)`` of the entropy model's weight step
    that makes its weights and the latents they code smallest (it touches no sample)."""
    best = None
    for step in _CONTEXT_STEPS:
        qcontext = entropy.quantize_params(context, step)
        weights, coded = Writer(), Writer()
        write_tensors(weights, _stored(qcontext, step))
        write_latents(coded, qcontext, latents)
        size = len(weights.bytes()) + len(coded.bytes())
        if best is None or size < best[0]:
            best = (size, step, qcontext, coded.bytes())
    return best[1:]


def _pick_bits(fitted: FitResult, objective: CodecObjective, latents, metadata) -> bytes:
    """The file whose weight steps minimise ``D + lambda R`` (the whole file's rate).

    The best step shared by the synthesis's tensors, then each tensor's own
    moved one step at a time while that lowers the cost (the wide hidden layer
    often takes a coarser step than the small ones).
    """
    params = fitted.params["params"]
    context = {k: params[f"context_{k}"] for k in entropy.NAMES}
    step, qcontext, coded = _pick_context(context, latents)
    names = sorted(k for k in params if k.startswith("synthesis_"))
    files = {}

    def cost(bits: tuple) -> float:
        if bits not in files:
            steps = (dict(zip(names, bits, strict=True)), step)
            files[bits] = _costed_file(fitted, objective, latents, steps, qcontext, coded, metadata)
        return files[bits][0]

    best = min(((b,) * len(names) for b in _SYNTHESIS_STEPS), key=cost)
    moved = True
    while moved:
        moved = False
        for i, delta in itertools.product(range(len(names)), (-1, 1)):
            trial = (*best[:i], best[i] + delta, *best[i + 1 :])
            if 0 <= trial[i] <= _MAX_BITS and cost(trial) < cost(best):
                best, moved = trial, True
    return files[best][1]


def _costed_file(fitted, objective, latents, steps, qcontext, coded, metadata):
    """``(D + lambda R, file)`` of the fit with its synthesis and entropy model at ``steps``."""
    layout, config = objective.layout, objective.config
    bits, step = steps
    synthesis = _weights(fitted.params["params"], bits)
    writer = Writer()
    scales = write_tensors(writer, {**synthesis, **_stored(qcontext, step)})
    header = _header(layout, config, steps, [scales[k] for k in sorted(scales)], metadata)
    data = pack(header, [writer.bytes(), coded])
    params = _decoded_params(latents, synthesis, bits, qcontext)
    mse = float(_distortion(config.model(layout), params, objective.target))
    weight = float(fitted.state.get("weight", objective.weight))
    return mse + weight * 8 * len(data) / objective.points, data


@functools.partial(jax.jit, static_argnums=0)
def _distortion(model: LatentField, params, target) -> jax.Array:
    """The fit's ``D`` of the field ``params`` hold, on the signal's own grid.

    Through :meth:`~inr.codec.field.LatentField.native`, the filters training
    uses: the same function a decode renders point by point, in a few times
    less time, and the weight steps' search costs a few dozen candidates.
    """
    return jnp.mean((model.apply(params, method="native") - target) ** 2) / 4.0


def _as_result(layout, config, latents, synthesis, bits, qcontext) -> FitResult:
    model = config.model(layout)
    return FitResult.of(layout, model, _decoded_params(latents, synthesis, bits, qcontext))


def encode(signal, *, quality: float | None = None, bpp: float | None = None,
           preset: str | Preset = "default", config: CodecConfig | None = None, dims=None,
           value_range=None, seed: int = 0, progress=False, metadata=None) -> bytes:  # fmt: skip
    """Compress ``signal`` to bytes: a fitted field, quantized and entropy coded.

    Args:
      signal: an image ``(H, W[, C])`` in [0, 1] (uint8 or uint16 as their
        ranges), audio ``(T, C)``, a volume ``(D, H, W[, C])``
        (:mod:`inr.signal`; ``dims`` and ``value_range`` as there).
      quality: 0 (smallest) to 100 (best): ``lambda``, the rate's weight
        (:func:`weight_of`); default 50.
      bpp: bits per sample to aim at instead (the fit steers ``lambda``
        towards it; the file lands near it).
      preset: a :class:`~inr.codec.Preset` or a name of :data:`PRESETS`: the
        configuration at this quality (or ``bpp``) is its :meth:`~inr.codec.Preset.at`.
      config: a :class:`~inr.codec.CodecConfig` instead of a preset, at every rate.
      dims: the signal's axes (:mod:`inr.signal`).
      value_range: the signal's range (:mod:`inr.signal`).
      seed: as :func:`inr.fit`'s.
      progress: as :func:`inr.fit`'s.
      metadata: a JSON-ready dict kept in the header (an audio file's rate).

    Returns:
      The file's bytes (:mod:`inr.codec.bitstream`).
    """
    if quality is not None and bpp is not None:
        raise ValueError("give quality or bpp, not both")
    config = _config(preset, config, quality, bpp)
    samples, layout = as_signal(signal, dims, value_range)
    weight = weight_of(50.0 if quality is None else quality)
    objective = CodecObjective.create(samples, layout, weight=weight, goal=bpp, config=config)
    fitted = fit(objective, seed=seed, progress=progress)  # its steps, then its polish
    latents = [np.round(np.asarray(fitted.params["params"][f"latent_{i}"])).astype(np.int64)
               for i in range(len(config.latents))]  # fmt: skip
    return _pick_bits(fitted, objective, latents, metadata)


def _checked_header(header: dict) -> tuple[Layout, CodecConfig, tuple[tuple, int]]:
    """The header's layout, config and weight steps (synthesis's, entropy model's), checked."""
    try:
        shape = tuple(int(n) for n in header["shape"])
        dims, context = int(header["dims"]), int(header["context"])
        refine = int(header["refine"])
        latents = tuple(int(c) for c in header["latents"])
        hidden, bits = tuple(int(w) for w in header["hidden"]), tuple(map(int, header["bits"]))
        step = int(header["context_bits"])
        lo, hi = (float(v) for v in header["range"])
        config = CodecConfig(latents=latents, hidden=hidden, context=context, refine=refine == 1)
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"data has a malformed header: {exc}") from None
    if not 1 <= dims <= 3 or len(shape) not in (dims, dims + 1) or min(shape) < 1:
        raise ValueError(f"data's header has a bad shape {shape} for {dims} axes")
    # The synthesis's weights and biases, and its filter if it refines: one step each.
    tensors = 2 * (len(hidden) + 1) + refine
    steps_ok = len(bits) == tensors and all(0 <= b <= _MAX_BITS for b in bits)
    steps_ok = steps_ok and refine in (0, 1) and 0 <= step <= entropy.FRACTION
    if np.prod(shape) > 2**31 or not lo < hi or not steps_ok:
        raise ValueError("data's header is out of range")
    return Layout(shape, dims, (lo, hi)), config, (bits, step)


def field(data) -> FitResult:
    """The field a file holds, as a :class:`~inr.FitResult` (render it at any size)."""
    header, sections = unpack(data)
    layout, config, (bits, step) = _checked_header(header)
    if len(sections) != 2:
        raise ValueError(f"data has {len(sections)} sections; a codec file has 2")
    model: LatentField = config.model(layout)
    shapes = jax.eval_shape(lambda: model.init(jax.random.PRNGKey(0), jnp.zeros((1, layout.dims))))
    shapes = {k: tuple(v.shape) for k, v in shapes["params"].items()}
    weight_shapes = {k: s for k, s in shapes.items() if k.startswith(("synthesis_", "context_"))}
    try:
        scales = dict(zip(sorted(weight_shapes), header["scales"], strict=True))
        tensors = read_tensors(Reader(sections[0]), weight_shapes, scales)
        shift = entropy.FRACTION - step
        qcontext = {k: tensors[f"context_{k}"] << shift for k in entropy.NAMES}
        synthesis = {k: v for k, v in tensors.items() if k.startswith("synthesis_")}
        bits = dict(zip(sorted(synthesis), bits, strict=True))
        shapes = latent_shapes(layout.grid, config.latents)
        latents = read_latents(Reader(sections[1]), qcontext, shapes)
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"data's header does not describe its sections: {exc}") from None
    return _as_result(layout, config, latents, synthesis, bits, qcontext)


def decode(data, size=None, *, region=None) -> np.ndarray:
    """The signal of a file: float32 NumPy in its layout, at its own size or ``size``.

    ``size``: the grid to render (one size per axis; default the encoded
    signal's); ``region``: a box of fractions (:mod:`inr.coords`).  Values
    are clipped to the signal's range.
    """
    result = field(data)
    size = result.layout.grid if size is None else tuple(size)
    if tuple(size) == tuple(result.layout.grid) and region is None:
        return _own_samples(result)
    return result.render(*size, region=region)


def _own_samples(result: FitResult) -> np.ndarray:
    """:meth:`~inr.FitResult.render` at the signal's own size: the same values, to float rounding,
    without evaluating the synthesis at each sample's ``3^d`` neighbours.

    The MLP's values ``H`` (in the signal's units, ``half h + offset``) are rendered
    point by point, then the refining filter is their convolution:
    ``half f + offset = H + sum_k w_k (H_k - offset)``.
    """
    params = dict(result.params["params"])
    weights = params.pop("synthesis_refine", None)
    plain = result.model.clone(refine=False)
    values = FitResult.of(result.layout, plain, {"params": params}).render(
        *result.layout.grid, clip=False)  # fmt: skip
    if weights is not None:
        offset = np.asarray(result.offset, np.float32)
        values = values.reshape(*result.layout.grid, -1)
        values = values + refinement(values - offset, np.asarray(weights), np)
    lo, hi = result.value_range
    return np.clip(values.reshape(result.shape), lo, hi).astype(np.float32)


def info(data) -> dict:
    """What a file says of itself: its header (shape, value range, model sizes, metadata)."""
    header, _ = unpack(data)
    _checked_header(header)
    return header

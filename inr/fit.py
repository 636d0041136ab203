"""Fitting a coordinate network to an image, its gradients or its Laplacian.

The public drivers of Sitzmann et al. 2020's single-image fits (Sec. 4.1):
:func:`fit_image`, :func:`fit_gradients` and :func:`fit_images` (many
images at once, ``vmap`` over parameter sets).  What each fit minimises,
and in which units, is in :mod:`inr.objectives`.

Options are objects: ``model`` is any pointwise Flax module (default a
:class:`~inr.Siren` with the paper's sizes) and ``optimizer`` any
``optax.GradientTransformation`` (default the paper's ``optax.adam(1e-4)``),
applied full batch.  Both are static: the compiled fit is reused for every
call with the same model, optimizer object and shapes.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from functools import partial

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.sharding import PartitionSpec as P

from inr._validate import (
    as_channel_values,
    as_image,
    as_images,
    as_number,
    as_positive_int,
)
from inr.distributed import DATA, as_mesh, data_size, local_mesh, pad_rows, to_host
from inr.nn.siren import Siren
from inr.objectives import ANNEAL, TARGETS, loss, problem, problems
from inr.result import FitResult

__all__ = ["DEFAULT_OPTIMIZER", "TARGETS", "fit_gradients", "fit_image", "fit_images"]

DEFAULT_OPTIMIZER = optax.adam(1e-4)
"""The paper's optimiser: Adam with learning rate 1e-4."""

_LOG_EVERY = 100


def _train(model, optimizer, target, points, n_steps, params, opt_state, start, batch):
    """``n_steps`` optimiser steps from step ``start`` as one ``lax.scan``.

    ``points``: ``None`` (every pixel each step) or the random pixels per step.

    Returns the new state and the per-step ``(loss, psnr)`` history.
    """

    def step(carry, i):
        params, opt_state = carry
        objective = partial(loss, model, target, points=points)
        (_, (value, psnr)), grads = jax.value_and_grad(objective, has_aux=True)(
            params, batch, start + i
        )
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return (optax.apply_updates(params, updates), opt_state), (value, psnr)

    (params, opt_state), (values, psnr) = jax.lax.scan(
        step, (params, opt_state), jnp.arange(n_steps)
    )
    return params, opt_state, values, psnr


_train_one = jax.jit(_train, static_argnums=(0, 1, 2, 3, 4), donate_argnums=(5, 6))


@partial(jax.jit, static_argnums=(0, 1, 2, 3, 4, 5, 6), donate_argnums=(7, 8))
def _train_many(
    model, optimizer, target, points, n_steps, group, mesh, params, opt_state, start, batch
):
    """``_train`` vmapped over images, ``group`` images at a time, on each device of ``mesh``.

    Fully vmapped, XLA's CPU batched matmuls are slower than separate ones
    once a batch's activations leave the cache; ``lax.map`` over vmapped
    groups keeps both.  The image axis is split over the mesh's ``"data"``
    axis: fits never talk to each other, so the devices do not either.
    """

    def local(params, opt_state, batch):
        def fit(args):
            return _train(model, optimizer, target, points, n_steps, *args[:2], start, args[2])

        return jax.lax.map(fit, (params, opt_state, batch), batch_size=group)

    spec = P(DATA)
    # No collectives to type-check (check_vma): a body that never talks may
    # hold calls, such as Pallas kernels, that do not carry the mesh axes.
    return jax.shard_map(local, mesh=mesh, in_specs=spec, out_specs=spec, check_vma=False)(
        params, opt_state, batch
    )


# Activations per vmapped group of images, in floats.  On a CPU a group
# must fit in L2 (~4 MiB) or batched matmuls slow down; an accelerator wants
# the whole batch at once (small groups leave a GPU launch-bound), bounded
# only so that memory stays modest.
_GROUP_FLOATS_CPU = 2**20
_GROUP_FLOATS_ACCELERATOR = 2**26


def _group(mesh, n_points: int, width: int, per_device: int) -> int:
    """How many images each device trains as one vmapped group."""
    cpu = mesh.devices.flat[0].platform == "cpu"
    floats = _GROUP_FLOATS_CPU if cpu else _GROUP_FLOATS_ACCELERATOR
    return int(np.clip(floats // (n_points * width), 1, per_device))


def _init(model, optimizer, key):
    params = model.init(key, jnp.zeros((1, 2), jnp.float32))
    return params, optimizer.init(params)


@partial(jax.jit, static_argnums=1)
def _image_keys(seed, n: int) -> jax.Array:
    """``PRNGKey(seed + i)`` for ``i < n``, as one dispatch rather than an eager ``vmap``."""
    return jax.vmap(jax.random.PRNGKey)(seed + jnp.arange(n))


_init_one = jax.jit(_init, static_argnums=(0, 1))
_init_many = jax.jit(jax.vmap(_init, in_axes=(None, None, 0)), static_argnums=(0, 1))


@partial(jax.jit, static_argnums=0)
def _mean_value(model, params, xy):
    return jnp.mean(model.apply(params, xy), axis=0)


# --------------------------------------------------------------------------
# The driver shared by the public functions.
# --------------------------------------------------------------------------


def _report(progress) -> Callable | None:
    if progress is True:
        return lambda step, total, loss, psnr: print(
            f"step {step:>6}/{total}  loss {loss:.3e}  psnr {psnr:6.2f} dB", flush=True
        )
    return progress or None


def _options(model, optimizer, channels: int):
    """The validated ``(model, optimizer)``; ``None`` picks the defaults."""
    if model is None:
        model = Siren(out_features=channels)
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a Flax module such as inr.Siren(); got {model!r}")
    optimizer = DEFAULT_OPTIMIZER if optimizer is None else optimizer
    if not isinstance(optimizer, optax.GradientTransformation):
        raise ValueError(
            f"optimizer must be an optax.GradientTransformation such as optax.adam(1e-4); "
            f"got {optimizer!r}"
        )
    out = _output_shape(model)
    if out != (1, channels):
        raise ValueError(
            f"model must map points (n, 2) to (n, {channels}) for this image "
            f"(e.g. out_features={channels}); it gives {out[1:]} per point"
        )
    return model, optimizer


@functools.lru_cache(maxsize=64)
def _output_shape(model: nn.Module) -> tuple[int, ...]:
    """The output shape of ``model`` on one point (traced once per model, not per call)."""
    try:
        out = jax.eval_shape(
            lambda x: model.apply(model.init(jax.random.PRNGKey(0), x), x),
            jax.ShapeDtypeStruct((1, 2), jnp.float32),
        )
    except Exception as exc:
        raise ValueError(f"model must map points (n, 2) to values (n, C): {exc}") from exc
    return tuple(out.shape)


def _run(model, optimizer, target, steps, keys, batch, progress, mesh=None, points=None):
    """Initialise, train in chunks of ``_LOG_EVERY`` steps, collect history.

    With a ``mesh`` the inputs are batched over images (leading axis), padded
    to a multiple of the mesh's ``"data"`` size by repeating the last image;
    the padding is dropped from the results.
    """
    if mesh is not None:
        n_images, n_points = keys.shape[0], batch["xy"].shape[1]
        per_device = -(-n_images // data_size(mesh))

        def pad(x):
            return pad_rows(x, per_device * data_size(mesh))

        keys, batch = pad(keys), jax.tree.map(pad, batch)
        width = getattr(model, "hidden_features", 256)
        group = _group(mesh, n_points, width, per_device)

        def train(n, *state):
            return _train_many(model, optimizer, target, points, n, group, mesh, *state)

        init, real = _init_many, slice(0, n_images)
    else:

        def train(n, *state):
            return _train_one(model, optimizer, target, points, n, *state)

        init, real = _init_one, ...
    params, opt_state = init(model, optimizer, keys)
    report = _report(progress)
    chunk = min(steps, _LOG_EVERY) if report else steps
    losses, psnrs, done = [], [], 0
    while done < steps:
        n = min(chunk, steps - done)
        params, opt_state, value, psnr = train(n, params, opt_state, jnp.int32(done), batch)
        losses.append(value)
        psnrs.append(psnr)
        done += n
        if report:
            report(
                done,
                steps,
                float(jnp.mean(value[real][..., -1])),
                float(jnp.mean(psnr[real][..., -1])),
            )
    history = {
        "loss": np.concatenate([to_host(x) for x in losses], axis=-1)[real],
        "psnr": np.concatenate([to_host(x) for x in psnrs], axis=-1)[real],
    }
    if not np.all(np.isfinite(history["loss"][..., -1])):
        raise FloatingPointError(
            "the fit diverged (its loss is not finite): check the optimizer's learning rate"
        )
    if real is not ... and keys.shape[0] > real.stop:  # slicing costs a dispatch per leaf
        params = jax.tree.map(lambda x: x[real], params)
    return params, history


def _offset(model, params, target, mean, xy, batched):
    """``offset`` so that ``u = 0.5 * f + offset`` has the requested mean."""
    if target == "values":
        return jnp.full(np.shape(mean), 0.5, jnp.float32)
    fn = jax.vmap(_mean_value, in_axes=(None, 0, None)) if batched else _mean_value
    return jnp.asarray(mean, jnp.float32) - 0.5 * fn(model, params, xy)


def _check_target(target):
    if target not in TARGETS:
        raise ValueError(f"target must be one of {TARGETS}; got {target!r}")


def _check_points(points, target: str) -> int | None:
    if points is None:
        return None
    if target != "values":
        raise ValueError(f"points (random batches) needs target='values'; got {target!r}")
    return as_positive_int(points, "points")


def _check_anneal(anneal) -> float | None:
    if anneal is None:
        return None
    try:
        return as_number(anneal, "anneal", 0.0, 1.0)
    except ValueError:
        raise ValueError(f"anneal must be None or a number in [0, 1]; got {anneal!r}") from None


# --------------------------------------------------------------------------
# Public API.
# --------------------------------------------------------------------------


def fit_image(
    image,
    *,
    model: nn.Module | None = None,
    optimizer: optax.GradientTransformation | None = None,
    steps: int = 500,
    seed: int = 0,
    target: str = "values",
    points: int | None = None,
    anneal: float | None = ANNEAL,
    progress: bool | Callable = False,
) -> FitResult:
    """Fit a coordinate network to ``image`` and return a :class:`FitResult`.

    Args:
      image: (H, W) or (H, W, C) in [0, 1] (uint8 accepted).
      model: any pointwise Flax module ``(n, 2) -> (n, C)``; default
        ``inr.Siren(out_features=C)`` (the paper's 256 x 3 hidden layers).
        ``inr.Siren(..., dtype=jnp.bfloat16)`` computes the hidden
        activations in bfloat16 (for accelerators; see :class:`inr.SineLayer`).
      optimizer: any ``optax.GradientTransformation``; default
        :data:`DEFAULT_OPTIMIZER`, the paper's ``optax.adam(1e-4)``.
      steps: optimisation steps.
      seed: PRNG seed for the initialisation.
      target: ``"values"``, ``"gradients"`` or ``"laplacian"``.  For the
        derivative targets the result is shifted to the image's mean (the
        only information the supervision lacks up to harmonic functions).
      points: ``None`` trains on every pixel at every step (full batch, the
        paper's setting); an int trains on that many pixels drawn uniformly
        (with replacement) at each step, a function of the step, for images
        too large for a full step (``target="values"`` only).  The history's
        PSNR is then that of each step's sample.
      anneal: gradient targets only: the fraction of the steps during which
        the multi-scale terms of :mod:`inr.objectives` are added, their
        weight falling linearly to zero; ``None`` keeps them at full weight
        to the end, which a hash grid needs (see :mod:`inr.objectives`).
      progress: ``True`` prints a line every 100 steps; a callable
        ``progress(step, total, loss, psnr)`` is called instead.

    Returns:
      A :class:`FitResult`; ``history["psnr"][i]`` is the PSNR (dB, [0, 1]
      scale) before step ``i``.

    Raises:
      FloatingPointError: the loss was not finite at the end (a learning
        rate too large, or not a number).
    """
    _check_target(target)
    img = as_image(image)
    steps = as_positive_int(steps, "steps")
    points = _check_points(points, target)
    anneal = _check_anneal(anneal)
    layout = img.shape
    img3 = img.reshape(*img.shape[:2], -1)
    model, optimizer = _options(model, optimizer, img3.shape[-1])
    batch = jax.tree.map(jnp.asarray, problem(img3, None, target, steps, anneal))
    key = jax.random.PRNGKey(seed)
    params, history = _run(model, optimizer, target, steps, key, batch, progress, points=points)
    offset = _offset(
        model, params, target, img3.reshape(-1, img3.shape[-1]).mean(0), batch["xy"], False
    )
    return FitResult(params=params, offset=offset, history=history, model=model, shape=layout)


def fit_gradients(
    grad,
    *,
    mean=0.5,
    model: nn.Module | None = None,
    optimizer: optax.GradientTransformation | None = None,
    steps: int = 500,
    seed: int = 0,
    anneal: float | None = ANNEAL,
    progress: bool | Callable = False,
) -> FitResult:
    """Fit a coordinate network whose gradient matches a given gradient field.

    Args:
      grad: (H, W, 2) or (H, W, C, 2), ``(d/dx, d/dy)`` in intensity per pixel
        as :func:`inr.image_gradient` returns (forward differences, so each
        component is matched half a pixel from the centre, along its axis).
      mean: the mean intensity of the result (scalar or per channel); the
        gradient does not determine it.
      Other arguments as :func:`fit_image`.  ``history["psnr"]`` is NaN: there
      is no image to compare with.
    """
    g = np.asarray(grad, dtype=np.float32)
    if g.ndim not in (3, 4) or g.shape[-1] != 2 or 0 in g.shape:
        raise ValueError(f"grad must be shaped (H, W, 2) or (H, W, C, 2); got shape {g.shape}")
    if not np.all(np.isfinite(g)):
        raise ValueError("grad contains NaN or infinite values")
    steps = as_positive_int(steps, "steps")
    anneal = _check_anneal(anneal)
    layout = g.shape[:-1]
    g4 = g.reshape(*g.shape[:2], -1, 2)
    channels = g4.shape[2]
    means = as_channel_values(mean, "mean", channels)
    model, optimizer = _options(model, optimizer, channels)
    batch = jax.tree.map(jnp.asarray, problem(None, g4, "gradients", steps, anneal))
    key = jax.random.PRNGKey(seed)
    params, history = _run(model, optimizer, "gradients", steps, key, batch, progress)
    means = np.broadcast_to(means, (channels,))
    offset = _offset(model, params, "gradients", means, batch["xy"], False)
    return FitResult(params=params, offset=offset, history=history, model=model, shape=layout)


def fit_images(
    images,
    *,
    model: nn.Module | None = None,
    optimizer: optax.GradientTransformation | None = None,
    steps: int = 500,
    seed: int = 0,
    target: str = "values",
    points: int | None = None,
    anneal: float | None = ANNEAL,
    progress: bool | Callable = False,
    mesh=None,
) -> FitResult:
    """Fit one network per image to a batch ``(N, H, W[, C])``, in one program.

    The training step is ``jax.vmap``-ed over parameter sets, so the batch
    compiles once and runs as batched matrix products.  Image ``i`` is
    initialised with ``PRNGKey(seed + i)``, so it is the same fit as
    ``fit_image(images[i], seed=seed + i)`` with the same ``model``,
    ``optimizer`` and ``points`` (every image sees the same pixel draws).
    The images are split over the devices of ``mesh`` (``None``: this
    host's devices; a count; or a
    :class:`jax.sharding.Mesh` with a ``"data"`` axis, see
    :mod:`inr.distributed`), each fitting its share; the fits are the same
    on any number of devices.

    Returns a batched :class:`FitResult`: ``params`` and ``history`` carry a
    leading axis ``N``, renders return ``(N, h, w[, C])`` and ``result[i]`` is
    image ``i``'s own result.
    """
    _check_target(target)
    imgs = as_images(images)
    steps = as_positive_int(steps, "steps")
    points = _check_points(points, target)
    anneal = _check_anneal(anneal)
    layout = imgs.shape[1:]
    imgs4 = imgs.reshape(*imgs.shape[:3], -1)
    model, optimizer = _options(model, optimizer, imgs4.shape[-1])
    batch = jax.tree.map(jnp.asarray, problems(imgs4, target, steps, anneal))
    keys = _image_keys(seed, len(imgs4))
    # The fits are independent: a host's own devices share them, never other hosts'.
    mesh = local_mesh() if mesh is None else as_mesh(mesh)
    params, history = _run(model, optimizer, target, steps, keys, batch, progress, mesh, points)
    means = imgs4.reshape(len(imgs4), -1, imgs4.shape[-1]).mean(1)
    offset = _offset(model, params, target, means, batch["xy"][0], True)
    return FitResult(params=params, offset=offset, history=history, model=model, shape=layout)

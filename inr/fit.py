"""Fitting a SIREN to an image, its gradients or its Laplacian.

The public drivers of Sitzmann et al. 2020's single-image fits (Sec. 4.1):
:func:`fit_image`, :func:`fit_gradients` and :func:`fit_images` (many
images at once, ``vmap`` over parameter sets).  What each fit minimises,
and in which units, is in :mod:`inr.objectives`.

Optimiser: Adam (the paper's), full batch, ``lr`` as a traced
hyperparameter so changing it never recompiles.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.sharding import PartitionSpec as P

from inr._validate import as_image, as_images
from inr.distributed import DATA, as_mesh, data_size, local_mesh, pad_rows, to_host
from inr.nn.siren import Siren
from inr.objectives import TARGETS, _loss, _problem, _problems
from inr.result import FitResult

__all__ = ["fit_image", "fit_gradients", "fit_images", "TARGETS"]

_ADAM = optax.inject_hyperparams(optax.adam)(learning_rate=1e-4)
_LOG_EVERY = 100


def _train(model, target, n_steps, params, opt_state, batch):
    """``n_steps`` Adam steps as one ``lax.scan``; returns state and history."""

    def step(carry, _):
        params, opt_state = carry
        (_, (loss, psnr)), grads = jax.value_and_grad(partial(_loss, model, target), has_aux=True)(
            params, batch, opt_state.count
        )
        updates, opt_state = _ADAM.update(grads, opt_state, params)
        return (optax.apply_updates(params, updates), opt_state), (loss, psnr)

    (params, opt_state), (loss, psnr) = jax.lax.scan(
        step, (params, opt_state), None, length=n_steps
    )
    return params, opt_state, loss, psnr


_train_one = jax.jit(_train, static_argnums=(0, 1, 2), donate_argnums=(3, 4))


@partial(jax.jit, static_argnums=(0, 1, 2, 3, 4), donate_argnums=(5, 6))
def _train_many(model, target, n_steps, group, mesh, params, opt_state, batch):
    """``_train`` vmapped over images, ``group`` images at a time, on each device of ``mesh``.

    Fully vmapped, XLA's CPU batched matmuls are slower than separate ones
    once a batch's activations leave the cache (measured: 0.71x a loop of
    fits at width 256); ``lax.map`` over vmapped groups keeps both.  The
    image axis is split over the mesh's ``"data"`` axis: fits never talk
    to each other, so the devices do not either.
    """

    def local(params, opt_state, batch):
        fn = lambda args: _train(model, target, n_steps, *args)  # noqa: E731
        return jax.lax.map(fn, (params, opt_state, batch), batch_size=group)

    spec = P(DATA)
    return jax.shard_map(local, mesh=mesh, in_specs=spec, out_specs=spec)(params, opt_state, batch)


# Activations per vmapped group of images, in floats.  On a CPU a group
# must fit in L2 (~4 MiB) or batched matmuls slow down; an accelerator wants
# the whole batch at once (measured on an H100, width 256: groups of 4 images
# left the GPU launch-bound), bounded only so that memory stays modest.
_GROUP_FLOATS_CPU = 2**20
_GROUP_FLOATS_ACCELERATOR = 2**26


def _group(mesh, n_points: int, width: int, per_device: int) -> int:
    """How many images each device trains as one vmapped group."""
    cpu = mesh.devices.flat[0].platform == "cpu"
    floats = _GROUP_FLOATS_CPU if cpu else _GROUP_FLOATS_ACCELERATOR
    return int(np.clip(floats // (n_points * width), 1, per_device))


def _init(model, key, lr):
    params = model.init(key, jnp.zeros((1, 2), jnp.float32))
    opt_state = _ADAM.init(params)
    opt_state.hyperparams["learning_rate"] = jnp.asarray(lr, jnp.float32)
    return params, opt_state


@partial(jax.jit, static_argnums=1)
def _image_keys(seed, n: int) -> jax.Array:
    """``PRNGKey(seed + i)`` for ``i < n``, as one dispatch rather than an eager ``vmap``."""
    return jax.vmap(jax.random.PRNGKey)(seed + jnp.arange(n))


_init_one = jax.jit(_init, static_argnums=0)
_init_many = jax.jit(jax.vmap(_init, in_axes=(None, 0, None)), static_argnums=0)


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


def _run(model, target, steps, lr, keys, batch, progress, mesh=None):
    """Initialise, train in chunks of ``_LOG_EVERY`` steps, collect history.

    With a ``mesh`` the inputs are batched over images (leading axis), padded
    to a multiple of the mesh's ``"data"`` size by repeating the last image;
    the padding is dropped from the results.
    """
    if not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(f"steps must be a positive integer; got {steps!r}")
    if not np.isfinite(lr) or lr <= 0:
        raise ValueError(f"lr must be a positive number; got {lr!r}")
    if mesh is not None:
        n_images, n_points = keys.shape[0], batch["xy"].shape[1]
        per_device = -(-n_images // data_size(mesh))
        pad = lambda x: pad_rows(x, per_device * data_size(mesh))  # noqa: E731
        keys, batch = pad(keys), jax.tree.map(pad, batch)
        width = getattr(model, "hidden_features", 256)
        group = _group(mesh, n_points, width, per_device)
        train = lambda *a: _train_many(*a[:3], group, mesh, *a[3:])  # noqa: E731
        init, real = _init_many, slice(0, n_images)
    else:
        train, init, real = _train_one, _init_one, ...
    params, opt_state = init(model, keys, lr)
    report = _report(progress)
    chunk = min(steps, _LOG_EVERY) if report else steps
    losses, psnrs, done = [], [], 0
    while done < steps:
        n = min(chunk, steps - done)
        params, opt_state, loss, psnr = train(model, target, n, params, opt_state, batch)
        losses.append(loss)
        psnrs.append(psnr)
        done += n
        if report:
            report(
                done,
                steps,
                float(jnp.mean(loss[real][..., -1])),
                float(jnp.mean(psnr[real][..., -1])),
            )
    history = {
        "loss": np.concatenate([to_host(x) for x in losses], axis=-1)[real],
        "psnr": np.concatenate([to_host(x) for x in psnrs], axis=-1)[real],
    }
    if real is not ... and keys.shape[0] > real.stop:  # slicing costs a dispatch per leaf
        params = jax.tree.map(lambda x: x[real], params)
    return params, history


def _offset(model, params, target, mean, xy, batched):
    """``offset`` so that ``u = 0.5 * f + offset`` has the requested mean."""
    if target == "values":
        return jnp.full(np.shape(mean), 0.5, jnp.float32)
    fn = jax.vmap(_mean_value, in_axes=(None, 0, None)) if batched else _mean_value
    return jnp.asarray(mean, jnp.float32) - 0.5 * fn(model, params, xy)


def _siren(hidden_features, hidden_layers, channels, dtype=None) -> Siren:
    try:
        floating = dtype is None or jnp.issubdtype(dtype, jnp.floating)
    except TypeError:
        floating = False
    if not floating:
        raise ValueError(f"dtype must be None or a floating dtype (jnp.bfloat16); got {dtype!r}")
    return Siren(
        hidden_features=hidden_features,
        hidden_layers=hidden_layers,
        out_features=channels,
        dtype=dtype,
    )


def _check_target(target):
    if target not in TARGETS:
        raise ValueError(f"target must be one of {TARGETS}; got {target!r}")


# --------------------------------------------------------------------------
# Public API.
# --------------------------------------------------------------------------


def fit_image(
    image,
    *,
    hidden_features: int = 256,
    hidden_layers: int = 3,
    steps: int = 500,
    lr: float = 1e-4,
    seed: int = 0,
    target: str = "values",
    progress: bool | Callable = False,
    model: nn.Module | None = None,
    dtype: jnp.dtype | None = None,
) -> FitResult:
    """Fit a SIREN to ``image`` (full batch, Adam) and return a :class:`FitResult`.

    Args:
      image: (H, W) or (H, W, C) in [0, 1] (uint8 accepted).
      hidden_features, hidden_layers: SIREN size (defaults: the paper's).
      steps: optimisation steps.
      lr: Adam learning rate (paper: 1e-4).
      seed: PRNG seed for the initialisation.
      target: ``"values"``, ``"gradients"`` or ``"laplacian"``.  For the
        derivative targets the result is shifted to the image's mean (the
        only information the supervision lacks up to harmonic functions).
      progress: ``True`` prints a line every 100 steps; a callable
        ``progress(step, total, loss, psnr)`` is called instead.
      model: any pointwise Flax module ``(n, 2) -> (n, C)`` to fit instead of
        a SIREN (e.g. ``inr.MLP`` behind an encoding).
      dtype: the SIREN's hidden activations (``None``: float32; see
        :class:`inr.SineLayer`).  ``jnp.bfloat16`` is for accelerators, where a
        step is bound by moving activations: parameters, Adam and the loss
        stay float32.  On a CPU it gains nothing.  Ignored with ``model``.

    Returns:
      A :class:`FitResult`; ``history["psnr"][i]`` is the PSNR (dB, [0, 1]
      scale) before step ``i``.
    """
    _check_target(target)
    img = as_image(image)
    layout = img.shape
    img3 = img.reshape(*img.shape[:2], -1)
    model = model or _siren(hidden_features, hidden_layers, img3.shape[-1], dtype=dtype)
    batch = jax.tree_util.tree_map(jnp.asarray, _problem(img3, None, target, steps))
    params, history = _run(model, target, steps, lr, jax.random.PRNGKey(seed), batch, progress)
    offset = _offset(
        model, params, target, img3.reshape(-1, img3.shape[-1]).mean(0), batch["xy"], False
    )
    return FitResult(params=params, offset=offset, history=history, model=model, shape=layout)


def fit_gradients(
    grad,
    *,
    mean=0.5,
    hidden_features: int = 256,
    hidden_layers: int = 3,
    steps: int = 500,
    lr: float = 1e-4,
    seed: int = 0,
    progress: bool | Callable = False,
    model: nn.Module | None = None,
    dtype: jnp.dtype | None = None,
) -> FitResult:
    """Fit a SIREN whose gradient matches a given gradient field.

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
    layout = g.shape[:-1]
    g4 = g.reshape(*g.shape[:2], -1, 2)
    model = model or _siren(hidden_features, hidden_layers, g4.shape[2], dtype=dtype)
    batch = jax.tree_util.tree_map(jnp.asarray, _problem(None, g4, "gradients", steps))
    params, history = _run(model, "gradients", steps, lr, jax.random.PRNGKey(seed), batch, progress)
    mean = np.broadcast_to(np.asarray(mean, np.float32), (g4.shape[2],))
    offset = _offset(model, params, "gradients", mean, batch["xy"], False)
    return FitResult(params=params, offset=offset, history=history, model=model, shape=layout)


def fit_images(
    images,
    *,
    hidden_features: int = 256,
    hidden_layers: int = 3,
    steps: int = 500,
    lr: float = 1e-4,
    seed: int = 0,
    target: str = "values",
    progress: bool | Callable = False,
    model: nn.Module | None = None,
    dtype: jnp.dtype | None = None,
    mesh=None,
) -> FitResult:
    """Fit one SIREN per image to a batch ``(N, H, W[, C])``, in one program.

    The training step is ``jax.vmap``-ed over parameter sets, so the batch
    compiles once and runs as batched matrix products.  Image ``i`` is
    initialised with ``PRNGKey(seed + i)``, so it is the same fit as
    ``fit_image(images[i], seed=seed + i)``.  The images are split over the
    devices of ``mesh`` (``None``: this host's devices; a count; or a
    :class:`jax.sharding.Mesh` with a ``"data"`` axis, see
    :mod:`inr.distributed`), each fitting its share; the fits are the same
    on any number of devices.

    Returns a batched :class:`FitResult`: ``params`` and ``history`` carry a
    leading axis ``N``, renders return ``(N, h, w[, C])`` and ``result[i]`` is
    image ``i``'s own result.
    """
    _check_target(target)
    imgs = as_images(images)
    layout = imgs.shape[1:]
    imgs4 = imgs.reshape(*imgs.shape[:3], -1)
    model = model or _siren(hidden_features, hidden_layers, imgs4.shape[-1], dtype=dtype)
    batch = jax.tree_util.tree_map(jnp.asarray, _problems(imgs4, target, steps))
    keys = _image_keys(seed, len(imgs4))
    # The fits are independent: a host's own devices share them, never other hosts'.
    mesh = local_mesh() if mesh is None else as_mesh(mesh)
    params, history = _run(model, target, steps, lr, keys, batch, progress, mesh)
    means = imgs4.reshape(len(imgs4), -1, imgs4.shape[-1]).mean(1)
    offset = _offset(model, params, target, means, batch["xy"][0], True)
    return FitResult(params=params, offset=offset, history=history, model=model, shape=layout)

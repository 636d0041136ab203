"""Fitting a coordinate network to a gridded signal, an image's gradients or Laplacian.

The public drivers of Sitzmann et al. 2020's fits (Sec. 4.1 and 4.2):
:func:`fit_signal` fits any gridded signal of 1 to 3 axes (audio, an image,
a video, a volume; conventions in :mod:`inr.signal` and :mod:`inr.coords`),
and :func:`fit_signals` many at once (``vmap`` over parameter sets).
:func:`fit_image` and :func:`fit_images` are their two-axis cases, which
also fit an image's gradients or Laplacian; :func:`fit_gradients` fits a
given gradient field.  What each fit minimises, and in which units, is in
:mod:`inr.objectives`; the loop is :mod:`inr.loop`.

Options are objects: ``model`` is any pointwise Flax module (default a
:class:`~inr.Siren` with the paper's sizes) and ``optimizer`` any
``optax.GradientTransformation`` (default the paper's ``optax.adam(1e-4)``),
applied full batch unless ``points`` draws a random batch per step.  Both
are static: the compiled fit is reused for every call with the same model,
optimizer object and shapes.
"""

from __future__ import annotations

from collections.abc import Callable

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax

from inr._validate import as_channel_values, as_image, as_images, as_positive_int
from inr.coords import grid
from inr.distributed import as_mesh, local_mesh
from inr.fit_options import (
    DEFAULT_OPTIMIZER,
    check_anneal,
    check_points,
    check_target,
    model_and_optimizer,
    split_points,
)
from inr.loop import fit_keys, mean_value, run
from inr.meta.init import Init
from inr.objectives import ANNEAL, TARGETS, problem, problems
from inr.result import FitResult
from inr.signal import Layout, as_signal, store

__all__ = [
    "DEFAULT_OPTIMIZER",
    "TARGETS",
    "fit_gradients",
    "fit_image",
    "fit_images",
    "fit_signal",
    "fit_signals",
]

# --------------------------------------------------------------------------
# Fits of values: any gridded signal, one or a batch.
# --------------------------------------------------------------------------


def _with_init(model, optimizer, init, dims: int):
    """``(model, optimizer, start)``: a learned init's network, SGD at its rates, its parameters."""
    if init is None:
        return model, optimizer, None
    if not isinstance(init, Init):
        raise ValueError(f"init must be None or an inr.meta.Init; got {type(init).__name__}")
    if model is not None and model != init.model:
        raise ValueError(f"model must be None or the init's own network {init.model!r}")
    if init.dims != dims:
        raise ValueError(f"init was learned for {init.dims}-axis signals; this one has {dims}")
    return init.model, init.optimizer if optimizer is None else optimizer, init.params


def _fit_values(samples, layout: Layout, options, steps, points, seed, progress, mesh, batched):
    """Fit ``samples`` ((n, C), or (N, n, C) when ``batched``) of a signal of ``layout``."""
    steps = as_positive_int(steps, "steps")
    points = check_points(points)
    model, optimizer, start = _with_init(*options, layout.dims)
    model, optimizer = model_and_optimizer(model, optimizer, layout.channels, layout.dims)
    batch = jax.tree.map(jnp.asarray, store(samples, layout, seed))
    n = samples.shape[-2]
    problem = (model, optimizer, "values", points, layout.dims, points or n)
    if batched:
        keys = fit_keys(seed, samples.shape[0])
        mesh = local_mesh() if mesh is None else as_mesh(mesh)
        params, history = run(problem, steps, keys, batch, progress, mesh, start=start)
    else:
        split = split_points(mesh, points, n)
        key = jax.random.PRNGKey(seed)
        params, history = run(problem, steps, key, batch, progress, None, split, start)
    lo, hi = layout.value_range
    offset = jnp.full((*samples.shape[:-2], layout.channels), 0.5 * (lo + hi), jnp.float32)
    return FitResult(
        params=params,
        offset=offset,
        history=history,
        model=model,
        shape=layout.shape,
        dims=layout.dims,
        value_range=layout.value_range,
    )


def fit_signal(
    signal,
    *,
    model: nn.Module | None = None,
    optimizer: optax.GradientTransformation | None = None,
    init: Init | None = None,
    steps: int = 500,
    points: int | None = None,
    seed: int = 0,
    progress: bool | Callable = False,
    mesh=None,
    dims: int | None = None,
    value_range=None,
) -> FitResult:
    """Fit a coordinate network to a gridded ``signal`` and return a :class:`FitResult`.

    Args:
      signal: ``(N_1, .., N_d[, C])`` samples at cell centres, channels last:
        audio ``(T, C)``, an image ``(H, W, C)``, a video ``(T, H, W, C)``, a
        volume ``(D, H, W[, C])`` (:mod:`inr.signal`).  Any numeric dtype;
        uint8/uint16 mean ``n/255`` and ``n/65535``.  Integer samples stay in
        their dtype on the device.
      model: any pointwise Flax module ``(n, d) -> (n, C)``; default
        ``inr.Siren(out_features=C)`` (the paper's 256 x 3 hidden layers).
      optimizer: any ``optax.GradientTransformation``; default
        :data:`DEFAULT_OPTIMIZER`, the paper's ``optax.adam(1e-4)``.
      init: an :class:`inr.meta.Init`, a learned initialisation: the fit
        starts from its parameters with its network and, unless
        ``optimizer`` is given, steps with SGD at its learned rates
        (``init.optimizer``); ``model`` must then be ``None``.
      steps: optimisation steps.
      points: ``None`` trains on every sample at every step (full batch);
        an int draws that many samples uniformly (with replacement) at each
        step, on the device, a function of ``seed`` and the step: memory is
        bounded by ``points``, not by the signal.  The history is then that
        of each step's sample.
      seed: PRNG seed for the initialisation and the draws.
      progress: ``True`` prints a line every 100 steps; a callable
        ``progress(step, total, loss, psnr)`` is called instead.
      mesh: ``None`` (one device), a device count or a
        :class:`jax.sharding.Mesh` with a ``"data"`` axis: each step's points
        are split over its devices (data parallel; the same sums in parts),
        when their number divides evenly.
      dims: the number of coordinate axes, 1 to 3; ``None`` reads the last
        axis as channels (a ``(D, H, W)`` volume needs ``dims=3``).
      value_range: ``(lo, hi)``, the values mapped to the network's -1 and
        1; default as :mod:`inr.signal` says ([0, 1], [-1, 1] or the
        signal's own range).  Renders are clipped to it.

    Returns:
      A :class:`FitResult`; ``history["loss"][i]`` is the mean squared error
      in network units (the signal's units over ``(hi - lo) / 2``, squared)
      before step ``i`` and ``history["psnr"][i]`` the PSNR (dB) relative to
      the range's width.

    Raises:
      FloatingPointError: the loss was not finite at the end.
    """
    samples, layout = as_signal(signal, dims, value_range)
    options = (model, optimizer, init)
    return _fit_values(samples, layout, options, steps, points, seed, progress, mesh, False)


def fit_signals(
    signals,
    *,
    model: nn.Module | None = None,
    optimizer: optax.GradientTransformation | None = None,
    init: Init | None = None,
    steps: int = 500,
    points: int | None = None,
    seed: int = 0,
    progress: bool | Callable = False,
    mesh=None,
    dims: int | None = None,
    value_range=None,
) -> FitResult:
    """Fit one network per signal to a batch ``(N, N_1, .., N_d[, C])``, in one program.

    As :func:`fit_signal` for each, ``signals[i]`` initialised with
    ``PRNGKey(seed + i)``; every signal sees the same random draws.  The
    signals are split over the devices of ``mesh`` (``None``: this host's
    devices), each fitting its share; the fits are the same on any number of
    devices.  One ``value_range`` serves the batch (default: from all of
    it).  Returns a batched :class:`FitResult`: ``result[i]`` is fit ``i``.
    """
    samples, layout = as_signal(signals, dims, value_range, "signals", batched=True)
    options = (model, optimizer, init)
    return _fit_values(samples, layout, options, steps, points, seed, progress, mesh, True)


# --------------------------------------------------------------------------
# Images: the two-axis case, and derivative targets.
# --------------------------------------------------------------------------


def _fit_derivatives(batch, layout: Layout, options, steps, keys, means, progress, mesh):
    """Fit an image's (or a stack's) gradients or Laplacian from ``problem(s)``."""
    model, optimizer, target, start = options
    batched = mesh is not None
    static = (model, optimizer, target, None, 2, int(np.prod(layout.grid)))
    params, history = run(static, steps, keys, batch, progress, mesh, start=start)
    xy = jnp.asarray(grid(*layout.grid).reshape(-1, 2))
    fn = jax.vmap(mean_value, in_axes=(None, 0, None)) if batched else mean_value
    offset = jnp.asarray(means, jnp.float32) - 0.5 * fn(model, params, xy)
    return FitResult(params=params, offset=offset, history=history, model=model, shape=layout.shape)


def fit_image(
    image,
    *,
    model: nn.Module | None = None,
    optimizer: optax.GradientTransformation | None = None,
    init: Init | None = None,
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
      init: an :class:`inr.meta.Init` to start from (see :func:`fit_signal`).
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
    check_target(target)
    img = as_image(image)
    points = check_points(points, target)
    layout = Layout(img.shape, 2)
    img3 = img.reshape(*img.shape[:2], -1)
    if target == "values":
        samples = img3.reshape(-1, img3.shape[-1])
        options = (model, optimizer, init)
        return _fit_values(samples, layout, options, steps, points, seed, progress, None, False)
    steps = as_positive_int(steps, "steps")
    model, optimizer, start = _with_init(model, optimizer, init, 2)
    model, optimizer = model_and_optimizer(model, optimizer, img3.shape[-1])
    batch = jax.tree.map(jnp.asarray, problem(img3, None, target, steps, check_anneal(anneal)))
    means = img3.reshape(-1, img3.shape[-1]).mean(0)
    options = (model, optimizer, target, start)
    key = jax.random.PRNGKey(seed)
    return _fit_derivatives(batch, layout, options, steps, key, means, progress, None)


def fit_gradients(
    grad,
    *,
    mean=0.5,
    model: nn.Module | None = None,
    optimizer: optax.GradientTransformation | None = None,
    init: Init | None = None,
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

    The other arguments are :func:`fit_image`'s.  ``history["psnr"]`` is NaN:
    there is no image to compare with.
    """
    g = np.asarray(grad, dtype=np.float32)
    if g.ndim not in (3, 4) or g.shape[-1] != 2 or 0 in g.shape:
        raise ValueError(f"grad must be shaped (H, W, 2) or (H, W, C, 2); got shape {g.shape}")
    if not np.all(np.isfinite(g)):
        raise ValueError("grad contains NaN or infinite values")
    steps = as_positive_int(steps, "steps")
    anneal = check_anneal(anneal)
    g4 = g.reshape(*g.shape[:2], -1, 2)
    channels = g4.shape[2]
    means = np.broadcast_to(as_channel_values(mean, "mean", channels), (channels,))
    model, optimizer, start = _with_init(model, optimizer, init, 2)
    model, optimizer = model_and_optimizer(model, optimizer, channels)
    batch = jax.tree.map(jnp.asarray, problem(None, g4, "gradients", steps, anneal))
    options = (model, optimizer, "gradients", start)
    key = jax.random.PRNGKey(seed)
    layout = Layout(g.shape[:-1], 2)
    return _fit_derivatives(batch, layout, options, steps, key, means, progress, None)


def fit_images(
    images,
    *,
    model: nn.Module | None = None,
    optimizer: optax.GradientTransformation | None = None,
    init: Init | None = None,
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
    check_target(target)
    imgs = as_images(images)
    points = check_points(points, target)
    layout = Layout(imgs.shape[1:], 2)
    imgs4 = imgs.reshape(*imgs.shape[:3], -1)
    if target == "values":
        samples = imgs4.reshape(len(imgs4), -1, imgs4.shape[-1])
        options = (model, optimizer, init)
        return _fit_values(samples, layout, options, steps, points, seed, progress, mesh, True)
    steps = as_positive_int(steps, "steps")
    model, optimizer, start = _with_init(model, optimizer, init, 2)
    model, optimizer = model_and_optimizer(model, optimizer, imgs4.shape[-1])
    batch = jax.tree.map(jnp.asarray, problems(imgs4, target, steps, check_anneal(anneal)))
    means = imgs4.reshape(len(imgs4), -1, imgs4.shape[-1]).mean(1)
    # The fits are independent: a host's own devices share them, never other hosts'.
    mesh = local_mesh() if mesh is None else as_mesh(mesh)
    options = (model, optimizer, target, start)
    keys = fit_keys(seed, len(imgs4))
    return _fit_derivatives(batch, layout, options, steps, keys, means, progress, mesh)

"""Fits of gridded signals: the conveniences over :func:`inr.fit` for samples of a field.

The drivers of Sitzmann et al. 2020's fits (Sec. 4.1 and 4.2), each one
objective of :mod:`inr.objectives` handed to :func:`inr.fit`:
:func:`fit_signal` fits any gridded signal of 1 to 3 axes (audio, an
image, a video, a volume; conventions in :mod:`inr.signal` and
:mod:`inr.coords`) and :func:`fit_signals` a batch of them at once;
:func:`fit_image` and :func:`fit_images` are their two-axis cases, which
also fit an image's gradients or Laplacian; :func:`fit_gradients` fits a
given gradient field.

Each builds its objective and nothing else: every keyword of
:func:`inr.fit` passes through as it is (``model``, ``optimizer``,
``init``, ``steps``, ``seed``, ``progress``, ``mesh``, ``checkpoints``),
and what is left out is the objective's default (the paper's SIREN, 256 x
3, ``optax.adam(1e-4)`` and 500 steps), full batch unless ``points`` draws
a random batch per step.  A batch of signals is a stack of their
objectives (:func:`inr.stack`), which share their grid.
"""

from __future__ import annotations

import numpy as np

from inr._validate import as_image, as_images
from inr.fitting import fit, stack
from inr.objective import Objective
from inr.objectives import ANNEAL, ImageGradients, ImageLaplacian, SignalValues
from inr.result import FitResult
from inr.signal import as_signal

__all__ = ["TARGETS", "fit_gradients", "fit_image", "fit_images", "fit_signal", "fit_signals"]

TARGETS = ("values", "gradients", "laplacian")
"""What :func:`fit_image` fits: the image, its gradient field or its Laplacian."""


def fit_signal(signal, *, points=None, dims=None, value_range=None, **options) -> FitResult:
    """Fit a coordinate network to a gridded ``signal``: :func:`inr.fit` of its values.

    Args:
      signal: ``(N_1, .., N_d[, C])`` samples at cell centres, channels last:
        audio ``(T, C)``, an image ``(H, W, C)``, a video ``(T, H, W, C)``, a
        volume ``(D, H, W[, C])`` (:mod:`inr.signal`).  Any numeric dtype;
        uint8/uint16 mean ``n/255`` and ``n/65535``.  Integer samples stay in
        their dtype on the device.
      points: ``None`` trains on every sample at every step (full batch);
        an int draws that many samples uniformly (with replacement) at each
        step, on the device, a function of ``seed`` and the step: memory is
        bounded by ``points``, not by the signal.  The history is then that
        of each step's sample.
      dims: the number of coordinate axes, 1 to 3; ``None`` reads the last
        axis as channels (a ``(D, H, W)`` volume needs ``dims=3``).
      value_range: ``(lo, hi)``, the values mapped to the network's -1 and
        1; default as :mod:`inr.signal` says ([0, 1], [-1, 1] or the
        signal's own range).  Renders are clipped to it.
      **options: :func:`inr.fit`'s keywords (``model``, ``optimizer``,
        ``init``, ``steps``, ``seed``, ``progress``, ``mesh``,
        ``checkpoints``).

    Returns:
      A :class:`~inr.FitResult`; ``history["loss"][i]`` is the mean squared
      error in network units (the signal's units over ``(hi - lo) / 2``,
      squared) at step ``i`` and ``history["psnr"][i]`` the PSNR (dB)
      relative to the range's width.
    """
    objective = SignalValues.create(signal, points=points, dims=dims, value_range=value_range)
    return fit(objective, **options)


def fit_signals(signals, *, points=None, dims=None, value_range=None, **options) -> FitResult:
    """Fit one network per signal of a batch ``(N, N_1, .., N_d[, C])``, in one program.

    As :func:`fit_signal` for each, ``signals[i]`` initialised with
    ``PRNGKey(seed + i)``; every signal sees the same random draws.  The
    signals are split over the devices of ``mesh`` (``None``: this host's
    devices), each fitting its share; the fits are the same on any number of
    devices.  One ``value_range`` serves the batch (default: from all of
    it).  Returns a batched :class:`~inr.FitResult`: ``result[i]`` is fit ``i``.
    """
    samples, layout = as_signal(signals, dims, value_range, "signals", batched=True)
    dims, value_range = layout.dims, layout.value_range
    objectives = [SignalValues.create(s, points=points, dims=dims, value_range=value_range)
                  for s in np.asarray(signals)]  # fmt: skip
    del samples
    return fit(stack(objectives), **options)


def _image_objective(image, target, points, anneal, steps) -> Objective:
    """The objective of ``fit_image``: an image's values, gradients or Laplacian."""
    if target not in TARGETS:
        raise ValueError(f"target must be one of {TARGETS}; got {target!r}")
    if target != "values" and points is not None:
        raise ValueError(f"points (random batches) needs target='values'; got {target!r}")
    if target == "laplacian":
        return ImageLaplacian.create(image)
    if target == "gradients":
        return ImageGradients.create(image, anneal_until=_until(anneal, steps))
    return SignalValues.create(as_image(image), points=points, dims=2, value_range=(0, 1))


def _steps(options: dict) -> int:
    """The steps a fit will take (the annealing's share is of them)."""
    steps = options.get("steps")
    return SignalValues.default_steps if steps is None else steps


def _until(anneal, steps) -> float:
    """The step at which the multi-scale terms end, for a share ``anneal`` of ``steps``."""
    if anneal is None:
        return np.inf
    if isinstance(anneal, bool) or not isinstance(anneal, (int, float)) or not 0 <= anneal <= 1:
        raise ValueError(f"anneal must be None or a number in [0, 1]; got {anneal!r}")
    return anneal * steps


def fit_image(image, *, target: str = "values", points=None, anneal=ANNEAL, **options) -> FitResult:
    """Fit a coordinate network to ``image`` (H, W[, C]) in [0, 1] (uint8 accepted).

    Args:
      image: the image.
      target: ``"values"`` (:class:`~inr.objectives.SignalValues`),
        ``"gradients"`` (:class:`~inr.objectives.ImageGradients`) or
        ``"laplacian"`` (:class:`~inr.objectives.ImageLaplacian`).  For the
        derivative targets the result is shifted to the image's mean (the
        only information the supervision lacks up to harmonic functions).
      points: ``None`` trains on every pixel at every step (the paper's
        setting); an int trains on that many pixels drawn uniformly per
        step (``target="values"`` only).
      anneal: gradient targets only: the share of the steps during which
        the multi-scale terms of :mod:`inr.objectives` are added, their
        weight falling linearly to zero; ``None`` keeps them to the end,
        which a hash grid needs.
      **options: :func:`inr.fit`'s keywords; ``inr.Siren(...,
        dtype=jnp.bfloat16)`` as ``model`` computes the hidden activations
        in bfloat16 (for accelerators).

    Returns:
      A :class:`~inr.FitResult`; ``history["psnr"][i]`` is the PSNR (dB,
      [0, 1] scale) at step ``i``.
    """
    return fit(_image_objective(image, target, points, anneal, _steps(options)), **options)


def fit_images(
    images, *, target: str = "values", points=None, anneal=ANNEAL, **options
) -> FitResult:
    """Fit one network per image of a batch ``(N, H, W[, C])``, in one program.

    The training step is ``jax.vmap``-ed over parameter sets, so the batch
    compiles once and runs as batched matrix products.  Image ``i`` is
    initialised with ``PRNGKey(seed + i)`` and every image sees the draws
    of the fit's key, ``PRNGKey(seed)``: with every pixel at every step
    (``points=None``) image ``i`` is the same fit as
    ``fit_image(images[i], seed=seed + i)``; with ``points`` it starts as
    that fit does but draws image 0's pixels, so only image 0 equals its
    own ``fit_image(images[0], seed=seed)``.
    The images are split over the devices of ``mesh`` (``None``: this
    host's devices), each fitting its share; the fits are the same on any
    number of devices.  Returns a batched :class:`~inr.FitResult`: renders
    return ``(N, h, w[, C])`` and ``result[i]`` is image ``i``'s own result.
    """
    steps = _steps(options)
    objectives = [_image_objective(img, target, points, anneal, steps) for img in as_images(images)]
    return fit(stack(objectives), **options)


def fit_gradients(grad, *, mean=0.5, anneal=ANNEAL, **options) -> FitResult:
    """Fit a coordinate network whose gradient matches a given gradient field.

    Args:
      grad: (H, W, 2) or (H, W, C, 2), ``(d/dx, d/dy)`` in intensity per pixel
        as :func:`inr.image_gradient` returns (forward differences, so each
        component is matched half a pixel from the centre, along its axis).
      mean: the mean intensity of the result (scalar or per channel); the
        gradient does not determine it.
      anneal: as :func:`fit_image`'s.
      **options: :func:`inr.fit`'s keywords.

    The history has no PSNR: there is no image to compare with.
    """
    until = _until(anneal, _steps(options))
    objective = ImageGradients.from_gradient(grad, mean, anneal_until=until)
    return fit(objective, **options)

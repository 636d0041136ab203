"""Gridded signals: the samples a fit of values learns from, kept on the device.

Convention, stated once and checked by :func:`as_signal`: a signal is an
array of ``dims`` coordinate axes then, optionally, one channel axis:
audio ``(T, C)``, an image ``(H, W[, C])``, a video ``(T, H, W, C)``, a
volume ``(D, H, W[, C])``.  Sample ``(i_1, .., i_d)`` is the field's value
at the cell centre of :mod:`inr.coords` (coordinates in coordinate order,
``x`` along the last coordinate axis).

Values and network units.  A fit learns ``v = (u - mid) / half`` for a
*value range* ``[lo, hi]`` (``mid`` its centre, ``half`` its half width),
so the network's outputs span about [-1, 1] whatever the signal's units
(SIREN's normalisation: images to [-1, 1], audio as it is).  uint8 and
uint16 samples mean ``n / 255`` and ``n / 65535`` (the image convention)
and have the range [0, 1]; otherwise the default range is [0, 1] if the
values lie in it, else [-1, 1] if they lie in that, else their own
``[min, max]`` (a CT volume in Hounsfield units, say).  A PSNR is relative
to the range's width.

Large signals.  The samples stay on the device in their own dtype (a uint8
video is a quarter of its float32 size) and each step decodes only the
points it draws: ``points`` flat indices uniformly at random, a pure
function of the fit's key and the step, whose coordinates come from the
per-axis cell centres (:func:`coordinates`), so memory is bounded by the
batch, never by the signal (:class:`inr.objectives.SignalValues`).
"""

from __future__ import annotations

from typing import Annotated

import flax.struct
import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["Layout", "OnLayout", "as_signal", "coordinates", "network_scale"]

# Dtypes kept on the device as they are, and what one unit of each means.
_DIVISORS = {np.dtype(np.uint8): 255.0, np.dtype(np.uint16): 65535.0}
_KEPT_INTEGERS = (np.int8, np.int16, np.int32, np.uint8, np.uint16)


@flax.struct.dataclass
class Layout:
    """What a fitted field looks like: its grid (if any), channels and value range.

    A pytree: ``shape`` and ``dims`` are static, ``value_range`` is data
    (two numbers, traced inside ``jit``), so an objective whose range comes
    from its data compiles once for every range.  Held by a result, its
    numbers are plain floats and the layout is hashable.

    Attributes:
      shape: the signal's shape as given (its channel axis is optional); a
        field with no grid of its own (an equation's solution) has ``None``
        for each coordinate axis, ``(None, None, C)`` (:meth:`field`).
      dims: how many of the leading axes are coordinate axes.
      value_range: ``(lo, hi)``, the values that map to network units -1 and
        1, and what renders are clipped to; ``None`` for a field with no
        range (network units are its units, and renders are not clipped).
    """

    shape: tuple = flax.struct.field(pytree_node=False)
    dims: int = flax.struct.field(pytree_node=False)
    value_range: tuple | None = (0.0, 1.0)

    @classmethod
    def field(cls, dims: int, channels: int, value_range=None) -> Layout:
        """The layout of a field over [-1, 1]^dims with no grid: rendered at any size.

        A scalar field (one channel) has no channel axis, as a gray image.
        """
        return cls((None,) * dims + ((channels,) if channels > 1 else ()), dims, value_range)

    @property
    def gridded(self) -> bool:
        """Whether the field was fitted to a grid (renders default to nothing otherwise)."""
        return None not in self.grid

    @property
    def grid(self) -> tuple:
        return self.shape[: self.dims]

    @property
    def channels(self) -> int:
        return self.shape[self.dims] if len(self.shape) > self.dims else 1

    def concrete(self) -> Layout:
        """This layout with its range as plain floats (the first row of a stack's)."""
        if self.value_range is None:
            return self
        lo, hi = (float(np.ravel(np.asarray(v))[0]) for v in self.value_range)
        return self.replace(value_range=(lo, hi))


class OnLayout:
    """``shape``, ``dims`` and ``channels`` of an object's ``layout`` (a :class:`Layout`)."""

    @property
    def shape(self) -> tuple[int, ...]:
        return self.layout.shape

    @property
    def dims(self) -> int:
        return self.layout.dims

    @property
    def channels(self) -> int:
        return self.layout.channels


def _value_range(x: np.ndarray, value_range, name: str) -> tuple[float, float]:
    if value_range is not None:
        try:
            lo, hi = (float(v) for v in value_range)
        except (TypeError, ValueError):
            want = "value_range must be two numbers (lo, hi)"
            raise ValueError(f"{want}; got {value_range!r}") from None
        if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
            raise ValueError(f"value_range must be finite with lo < hi; got {value_range!r}")
        return lo, hi
    if x.dtype in _DIVISORS:
        return 0.0, 1.0
    lo, hi = float(x.min()), float(x.max())
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise ValueError(f"{name} contains NaN or infinite values")
    for bounds in ((0.0, 1.0), (-1.0, 1.0)):
        if bounds[0] <= lo and hi <= bounds[1]:
            return bounds
    return (lo, hi) if lo < hi else (lo - 1.0, lo + 1.0)


def as_signal(
    signal, dims: int | None = None, value_range=None, name: str = "signal", batched: bool = False
) -> tuple[np.ndarray, Layout]:
    """Validate a signal; return its samples ``(n, C)`` in their storage dtype, and its layout.

    ``dims`` is the number of coordinate axes (1 to 3); ``None`` reads the
    last axis as channels, so ``(T, C)`` audio, ``(H, W, C)`` images and
    ``(T, H, W, C)`` video need no ``dims``; a ``(D, H, W)`` volume without
    channels needs ``dims=3``.  ``batched`` signals carry a leading axis
    ``N`` (same shape each), and the samples come back ``(N, n, C)``.
    The caller's array is never modified or kept.
    """
    x = np.asarray(signal)
    lead = 1 if batched else 0
    if x.dtype == np.bool_ or x.dtype.kind not in "fiu":
        raise ValueError(f"{name} must be an array of numbers; got dtype {x.dtype}")
    if dims is None:
        dims = x.ndim - 1 - lead
    if isinstance(dims, bool) or not isinstance(dims, (int, np.integer)) or not 1 <= dims <= 3:
        raise ValueError(
            f"dims must be the number of coordinate axes, 1 to 3; got {dims!r} for {name} "
            f"of shape {x.shape} (a (D, H, W) volume without channels needs dims=3)"
        )
    if x.ndim - lead not in (dims, dims + 1):
        want = ", ".join(["N"] * lead + [f"N{i + 1}" for i in range(dims)])
        raise ValueError(f"{name} must be shaped ({want}[, C]); got shape {x.shape}")
    if 0 in x.shape:
        raise ValueError(f"{name} is empty: shape {x.shape}")
    lo_hi = _value_range(x, value_range, name)
    if x.dtype.kind == "f" and not np.isfinite(x).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    kept = x.dtype if x.dtype in tuple(map(np.dtype, _KEPT_INTEGERS)) else np.float32
    layout = Layout(tuple(x.shape[lead:]), int(dims), lo_hi)
    # No copy on the host: the device gets its own, and the caller's array is not kept.
    samples = x.astype(kept, copy=False).reshape(*x.shape[:lead], -1, layout.channels)
    return samples, layout


def network_scale(dtype, layout: Layout) -> np.ndarray:
    """``[divisor, a, b]``: a stored sample ``n`` is ``v = a (n / divisor) + b`` in network units.

    For the range [0, 1], ``v = 2u - 1`` exactly.
    """
    lo, hi = layout.value_range
    divisor = _DIVISORS.get(np.dtype(dtype), 1.0)
    return np.array([divisor, 2.0 / (hi - lo), -(hi + lo) / (hi - lo)], np.float32)


def coordinates(index: Annotated[jax.Array, "m"], axes) -> Annotated[jax.Array, "m d"]:
    """The cell centres of flat row-major sample indices, from the per-axis centres."""
    columns = []
    for a in axes:  # coordinate order: the last array axis varies fastest
        columns.append(a[index % a.shape[0]])
        index = index // a.shape[0]
    return jnp.stack(columns, axis=-1)

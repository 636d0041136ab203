"""Boundary checks.  Every public entry point converts its inputs here.

The image convention, stated once: an image is a float array in [0, 1]
shaped (H, W) or (H, W, C) with C in 1..4.  uint8 input is accepted and
divided by 255; uint16 by 65535.  Anything else raises ``ValueError`` naming
the argument.  These functions run on the host on concrete arrays; code that
must trace under ``jit`` uses :func:`check_image_shape` (shape only), and
:func:`as_field` checks values only when they are concrete.
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np

__all__ = [
    "as_box",
    "as_channel_values",
    "as_field",
    "as_image",
    "as_images",
    "as_mask",
    "as_number",
    "as_offset",
    "as_positive_int",
    "as_region",
    "as_shape",
    "as_size",
    "check_image_shape",
    "same_shapes",
]

# Float images may overshoot [0, 1] by rounding; beyond this they are wrong.
_RANGE_TOL = 1e-6


def check_image_shape(shape: Sequence[int], name: str, batched: bool = False) -> None:
    """Raise unless ``shape`` is (H, W) or (H, W, C), C in 1..4 (with a batch axis if asked)."""
    lead = 1 if batched else 0
    expected = "(N, H, W) or (N, H, W, C)" if batched else "(H, W) or (H, W, C)"
    if len(shape) not in (2 + lead, 3 + lead):
        raise ValueError(f"{name} must be shaped {expected}; got shape {tuple(shape)}")
    if any(s == 0 for s in shape):
        raise ValueError(f"{name} is empty: shape {tuple(shape)}")
    if len(shape) == 3 + lead and not 1 <= shape[-1] <= 4:
        raise ValueError(
            f"{name} must have 1 to 4 channels in its last axis; got shape {tuple(shape)}"
        )


def _to_float(x: np.ndarray, name: str) -> np.ndarray:
    if x.dtype == np.uint8:
        return x.astype(np.float32) / 255.0
    if x.dtype == np.uint16:
        return x.astype(np.float32) / 65535.0
    if x.dtype == np.bool_ or not np.issubdtype(x.dtype, np.floating):
        raise ValueError(f"{name} must be a float array in [0, 1] or uint8; got dtype {x.dtype}")
    x = x.astype(np.float32)  # always a copy: the caller's array is never touched
    lo, hi = float(x.min()), float(x.max())  # NaN propagates through min/max
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise ValueError(f"{name} contains NaN or infinite values")
    if lo < -_RANGE_TOL or hi > 1 + _RANGE_TOL:
        raise ValueError(f"{name} must lie in [0, 1]; got values in [{lo:.4g}, {hi:.4g}]")
    if lo < 0.0 or hi > 1.0:
        np.clip(x, 0.0, 1.0, out=x)
    return x


def as_field(x, name: str, ranks: tuple[int, ...], expected: str, finite: bool = True):
    """A float array of one of ``ranks`` with no NaN or infinity, for the solvers.

    Concrete input is checked and converted (NumPy stays on the host, a JAX
    array stays on its device); a tracer, inside the caller's ``jit`` or
    ``vmap``, is checked by shape only, since its values do not exist yet.
    ``finite=False`` skips the pass over the values, for local operators
    whose output keeps a NaN where the input had it.
    """
    if isinstance(x, jax.core.Tracer):
        arr = x
    else:
        try:
            arr = x if isinstance(x, jax.Array) else np.asarray(x)
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be a numeric array shaped {expected}") from None
        if arr.dtype == np.bool_ or arr.dtype.kind not in "fiu":
            raise ValueError(f"{name} must be a numeric array; got dtype {arr.dtype}")
    if arr.ndim not in ranks or 0 in arr.shape:
        raise ValueError(f"{name} must be shaped {expected}; got shape {tuple(arr.shape)}")
    if not jnp.issubdtype(arr.dtype, jnp.floating):
        arr = arr.astype(np.float32)
    if finite and not isinstance(arr, jax.core.Tracer):
        ok = jnp.isfinite(arr).all() if isinstance(arr, jax.Array) else np.isfinite(arr).all()
        if not ok:
            raise ValueError(f"{name} contains NaN or infinite values")
    return arr


def as_channel_values(value, name: str, channels: int):
    """A scalar or ``(channels,)`` float32 array of finite numbers (``None`` is 0)."""
    if isinstance(value, jax.core.Tracer):
        return value
    v = np.zeros((), np.float32) if value is None else np.asarray(value, dtype=np.float32)
    if v.shape not in ((), (channels,)) or not np.all(np.isfinite(v)):
        want = "a finite number" + (f" or {channels} of them" if channels > 1 else "")
        raise ValueError(f"{name} must be {want}; got {value!r}")
    return v


def as_image(image, name: str = "image") -> np.ndarray:
    """Validate and convert one image to float32 in [0, 1] (a new array)."""
    x = np.asarray(image)
    check_image_shape(x.shape, name)
    return _to_float(x, name)


def as_images(images, name: str = "images") -> np.ndarray:
    """Validate a batch (N, H, W[, C]) of same-sized images."""
    x = np.asarray(images)
    check_image_shape(x.shape, name, batched=True)
    return _to_float(x, name)


_AXIS_NAMES = ("x", "y", "z", "w")
_COUNTS = ("one", "two", "three", "four", "five", "six", "seven", "eight")


def _count(n: int) -> str:
    return _COUNTS[n - 1] if n <= len(_COUNTS) else str(n)


def as_box(region, dims: int, name: str = "region") -> tuple[float, ...]:
    """A box of fractions per coordinate: ``(lo_1, .., lo_d, hi_1, .., hi_d)``, lo < hi.

    Coordinates are in coordinate order (``x``, the last array axis,
    first), so ``dims=2`` is the image region ``(x0, y0, x1, y1)``.
    ``None`` is the whole signal.  Fractions outside [0, 1] are allowed
    (they extrapolate the field) but must be finite.
    """
    if region is None:
        return (0.0,) * dims + (1.0,) * dims
    names = _AXIS_NAMES[:dims] if dims <= len(_AXIS_NAMES) else [f"c{i}" for i in range(dims)]
    listed = ", ".join([f"{a}0" for a in names] + [f"{a}1" for a in names])
    try:
        box = tuple(float(v) for v in region)
    except (TypeError, ValueError):
        box = ()
    if len(box) != 2 * dims:
        raise ValueError(f"{name} must be {_count(2 * dims)} numbers ({listed}); got {region!r}")
    if not all(np.isfinite(v) for v in box):
        raise ValueError(f"{name} must be finite; got {region!r}")
    if not all(lo < hi for lo, hi in zip(box[:dims], box[dims:], strict=True)):
        order = " and ".join(f"{a}0 < {a}1" for a in names)
        raise ValueError(f"{name} must have {order}; got {region!r}")
    return box


def as_region(region, name: str = "region") -> tuple[float, float, float, float]:
    """``(x0, y0, x1, y1)`` fractions of an image: :func:`as_box` in two dimensions."""
    return as_box(region, 2, name)


def as_shape(shape, name: str = "size") -> tuple[int, ...]:
    """A tuple of positive integers (integer-valued floats refused)."""
    dims = len(shape)
    want = f"{name} must be {_count(dims)} positive integer{'s' if dims > 1 else ''}"
    try:
        out = tuple(int(n) for n in shape)
    except (TypeError, ValueError, OverflowError):  # OverflowError: an infinite float
        raise ValueError(f"{want}; got {tuple(shape)!r}") from None
    if dims == 0 or any(o != n or o <= 0 for o, n in zip(out, shape, strict=True)):
        raise ValueError(f"{want}; got {tuple(shape)!r}")
    return out


def as_size(height, width, name: str = "size") -> tuple[int, int]:
    """Positive integer (height, width): :func:`as_shape` in two dimensions."""
    return as_shape((height, width), name)


def as_positive_int(value, name: str) -> int:
    """``value`` as a positive ``int``; bools, fractions and non-numbers raise."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer; got {value!r}")
    return int(value)


def as_mask(mask, shape, name: str = "mask") -> np.ndarray:
    """A boolean (H, W) mask matching ``shape[:2]``.

    Bool, 0/1 or (integers) 0/255 values are accepted, and an (H, W, C) mask
    whose channels are all equal.  Soft masks are refused: threshold them
    first (``mask > 0.5``), so that which pixels change is the caller's choice.
    """
    m = np.asarray(mask)
    if m.ndim == 3 and m.shape[-1] in (1, 3, 4):
        if not (m == m[..., :1]).all():
            raise ValueError(f"{name} has channels that differ; pass one (H, W) mask")
        m = m[..., 0]
    if m.ndim != 2:
        raise ValueError(f"{name} must be shaped (H, W); got shape {m.shape}")
    if m.shape != tuple(shape[:2]):
        raise ValueError(f"{name} shape {m.shape} does not match the image's {tuple(shape[:2])}")
    if m.dtype == np.bool_:
        return m
    if m.dtype.kind not in "fiu":
        raise ValueError(f"{name} must be bool or numbers; got dtype {m.dtype}")
    on = 255 if m.dtype.kind in "iu" and m.max(initial=0) > 1 else 1
    if not np.isin(m, (0, on)).all():
        raise ValueError(f"{name} must be binary: bool, 0/1 or 0/255 (threshold a soft mask)")
    return m == on


def as_offset(offset, name: str = "offset") -> tuple[int, int]:
    """``(x, y)`` as two integers (integer-valued floats accepted)."""
    try:
        x, y = (float(v) for v in offset)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be two integers (x, y); got {offset!r}") from None
    if not all(np.isfinite(v) and v == int(v) for v in (x, y)):
        raise ValueError(f"{name} must be two integers (x, y); got {offset!r}")
    return int(x), int(y)


def as_number(value, name: str, low: float, high: float = np.inf, low_open: bool = False) -> float:
    """A finite float in [low, high] (or (low, high] with ``low_open``)."""
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    v = float(value) if ok else np.nan
    if not (np.isfinite(v) and (v > low if low_open else v >= low) and v <= high):
        bound = f"{'(' if low_open else '['}{low:g}, {high:g}]"
        raise ValueError(f"{name} must be a number in {bound}; got {value!r}")
    return v


def same_shapes(arrays, names) -> None:
    """Raise naming every shape unless all arrays share one."""
    shapes = [np.shape(a) for a in arrays]
    if len(set(shapes)) > 1:
        listed = ", ".join(f"{n} {s}" for n, s in zip(names, shapes, strict=False))
        raise ValueError(f"shapes must match; got {listed}")

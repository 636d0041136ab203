"""SIREN: sinusoidal representation networks (Sitzmann et al., NeurIPS 2020).

A sine layer computes ``sin(w0 * (x W + b))``.  The initialisation keeps
every layer's pre-activations distributed the same way, so that the
activations follow the arcsine distribution on [-1, 1] at any depth
(paper, Sec. 3.2 and supplement Sec. 1):

* first layer: ``W ~ U(-1/fan_in, 1/fan_in)``; with ``w0 = 30`` it spans
  several periods of the sine over the input domain [-1, 1];
* later layers: ``W ~ U(-sqrt(6/fan_in)/w0, sqrt(6/fan_in)/w0)``; with
  arcsine inputs (variance 1/2) the pre-activation ``w0 * x W`` has
  variance 1 and is close to normal (CLT), and its sine is again close to
  arcsine-distributed;
* biases follow the reference implementation (PyTorch's ``nn.Linear``
  default), ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``.

``w0`` multiplies ``x W + b`` rather than being folded into the parameters:
Adam's step size is per parameter, so folding it in would change the
optimisation and the fit quality at a given learning rate.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Annotated

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from inr.nn.sine import fast_sin

__all__ = [
    "SineLayer",
    "Siren",
    "siren_bias_init",
    "siren_first_init",
    "siren_hidden_init",
]

Initializer = Callable[[jax.Array, tuple, jnp.dtype], jax.Array]


def _uniform(bound: float) -> Initializer:
    def init(key, shape, dtype=jnp.float32):
        return jax.random.uniform(key, shape, dtype, -bound, bound)

    return init


def siren_first_init(fan_in: int) -> Initializer:
    """``U(-1/fan_in, 1/fan_in)`` for the first layer's kernel (fan_in inputs)."""
    return _uniform(1.0 / fan_in)


def siren_hidden_init(fan_in: int, w0: float = 30.0) -> Initializer:
    """``U(-sqrt(6/fan_in)/w0, sqrt(6/fan_in)/w0)`` for later kernels."""
    return _uniform(float(np.sqrt(6.0 / fan_in) / w0))


def siren_bias_init(fan_in: int) -> Initializer:
    """``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``, the reference implementation's bias."""
    return _uniform(float(1.0 / np.sqrt(fan_in)))


def check_sizes(module: nn.Module, **minimum: int) -> None:
    """Raise ``ValueError`` naming the first size field that is not an int >= its minimum."""
    for name, low in minimum.items():
        value = getattr(module, name)
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            kind = "a positive integer" if low == 1 else f"an integer >= {low}"
            raise ValueError(f"{type(module).__name__}.{name} must be {kind}; got {value!r}")


def check_dtype(module: nn.Module) -> None:
    """Raise ``ValueError`` unless ``module.dtype`` is ``None`` or a floating dtype."""
    try:
        ok = module.dtype is None or jnp.issubdtype(jnp.dtype(module.dtype), jnp.floating)
    except TypeError:
        ok = False
    if not ok:
        raise ValueError(
            f"{type(module).__name__}.dtype must be None or a floating dtype such as "
            f"jnp.bfloat16; got {module.dtype!r}"
        )


class SineLayer(nn.Module):
    """``(..., in) -> (..., features)``: ``sin(w0 * (x W + b))``.

    Attributes:
      features: output width.
      w0: frequency factor (30 in the paper).
      is_first: use the first-layer initialisation.
      hidden_w0: the ``w0`` used by the hidden-layer initialiser; defaults to
        ``w0``. (The reference scales hidden kernels by the hidden ``w0`` even
        for the last, linear layer.)
      linear: skip the sine (SIREN's linear output layer).
      sin: the sine to use; :func:`inr.fast_sin` by default, ``jnp.sin`` for a
        bit-for-bit library reference.
      dtype: the dtype of the matrix product's operands and of the output
        (``None``: float32).  ``jnp.bfloat16`` halves the bytes a layer moves,
        which is what bounds a SIREN step on a GPU.  Whatever ``dtype``, the
        parameters are float32, the product accumulates in float32 and the
        sine is evaluated in float32.  Two exceptions: a first layer computes
        its phase ``w0 (x W + b)`` in float32 (it spans tens of radians, and
        bfloat16 would shift it by ~0.1 rad, a few pixels' worth of
        position; its K=2 product costs nothing) and rounds only its output;
        a linear layer returns float32, since its output is the network's.
    """

    features: int
    w0: float = 30.0
    is_first: bool = False
    hidden_w0: float | None = None
    linear: bool = False
    sin: Callable[[jax.Array], jax.Array] = fast_sin
    dtype: jnp.dtype | None = None

    def __post_init__(self):
        check_sizes(self, features=1)
        check_dtype(self)
        super().__post_init__()

    @nn.compact
    def __call__(
        self,
        x: Annotated[jax.Array, "... fan_in"],
        shift: Annotated[jax.Array, "features"] | None = None,
    ) -> Annotated[jax.Array, "... features"]:
        """``sin(w0 * (x W + b + shift))``; ``shift`` is a modulation (functa), default none."""
        fan_in = x.shape[-1]
        if self.is_first:
            kernel_init = siren_first_init(fan_in)
        else:
            kernel_init = siren_hidden_init(fan_in, self.hidden_w0 or self.w0)
        kernel = self.param("kernel", kernel_init, (fan_in, self.features), jnp.float32)
        bias = self.param("bias", siren_bias_init(fan_in), (self.features,), jnp.float32)
        dtype = jnp.float32 if self.is_first or self.dtype is None else self.dtype
        x, kernel_c, bias_c = (a.astype(dtype) for a in (x, kernel, bias))
        if self.linear:
            return jnp.dot(x, kernel_c, preferred_element_type=jnp.float32) + bias
        z = jnp.dot(x, kernel_c) + bias_c
        if shift is not None:
            z = z + shift.astype(z.dtype)
        return self.sin(self.w0 * z.astype(jnp.float32)).astype(self.dtype or jnp.float32)


class Siren(nn.Module):
    """A SIREN mapping coordinates ``(..., in)`` to values ``(..., out_features)``.

    ``hidden_layers=3`` gives the reference layer shapes: ``in -> hidden``,
    three ``hidden -> hidden`` and ``hidden -> out`` (five weight matrices).

    Attributes:
      hidden_features: width of every hidden layer.
      hidden_layers: number of hidden-to-hidden sine layers.
      out_features: output channels.
      w0: frequency factor of the hidden layers.
      first_w0: frequency factor of the first layer.
      outermost_linear: make the last layer linear (as for images); otherwise
        it is a sine layer too.
      sin: the sine implementation (see :class:`SineLayer`).
      dtype: the hidden activations' dtype (see :class:`SineLayer`); ``None``
        is float32.  The output is float32 either way.
    """

    hidden_features: int = 256
    hidden_layers: int = 3
    out_features: int = 1
    w0: float = 30.0
    first_w0: float = 30.0
    outermost_linear: bool = True
    sin: Callable[[jax.Array], jax.Array] = fast_sin
    dtype: jnp.dtype | None = None

    def __post_init__(self):
        check_sizes(self, hidden_features=1, hidden_layers=0, out_features=1)
        check_dtype(self)
        super().__post_init__()

    @nn.compact
    def __call__(self, x: Annotated[jax.Array, "... in"]) -> Annotated[jax.Array, "... out"]:
        layer = partial(SineLayer, sin=self.sin, dtype=self.dtype)
        h = layer(self.hidden_features, self.first_w0, is_first=True)(x)
        for _ in range(self.hidden_layers):
            h = layer(self.hidden_features, self.w0)(h)
        out = layer(self.out_features, self.w0, linear=self.outermost_linear)(h)
        return out.astype(jnp.float32)

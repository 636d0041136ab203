"""``FitResult``: a fitted field and the ways to look at it.

A result maps coordinates to intensities, ``u(x) = 0.5 * f(x) + offset``
(``f`` the network, fitted in [-1, 1] units).  Everything that renders goes
through one jitted function, evaluated in fixed-size chunks, so a 4096x4096
render needs one chunk's memory and every point's value is independent of
the rendered size (see :mod:`inr.render`).

A result from :func:`inr.fit_images` is *batched*: its ``params`` and
``history`` carry a leading image axis and renders gain one too.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import flax.linen as nn
import flax.struct
import jax
import jax.numpy as jnp
import numpy as np

from inr._validate import as_region, as_size
from inr.coords import grid_axes, points_from_axes
from inr.distributed import as_mesh, local_mesh, replicate, to_host
from inr.fields import gradient as field_gradient
from inr.fields import laplacian as field_laplacian
from inr.render import DEFAULT_CHUNK, evaluate_chunked

__all__ = ["FitResult"]


@partial(jax.jit, static_argnums=(0, 1, 2, 3))
def _render(model, quantity, chunk, mesh, params, offset, axes, steps):
    """Render ``quantity`` for a batch of parameter sets: ``(B, n, C[, 2])``.

    Each chunk of points is evaluated for every parameter set, so a device
    of ``mesh`` holds one chunk's activations per image.
    """

    def one(p, off, x):
        f = partial(model.apply, p)
        if quantity == "values":
            return 0.5 * f(x) + off
        if quantity == "gradient":
            return 0.5 * field_gradient(f, x, steps)
        return 0.5 * field_laplacian(f, x, steps)

    every = lambda x: jax.vmap(one, in_axes=(0, 0, None))(params, offset, x)
    xy = points_from_axes(*axes)
    out = evaluate_chunked(lambda x: jnp.moveaxis(every(x), 0, 1), xy, chunk, mesh)
    return jnp.moveaxis(out, 1, 0)


@flax.struct.dataclass
class FitResult:
    """A fitted coordinate network.

    Attributes:
      params: the network's parameters (a pytree).
      offset: ``(C,)`` (``(N, C)`` batched) intensity offset.
      history: ``{"loss": (steps,), "psnr": (steps,)}`` NumPy arrays, with a
        leading ``N`` when batched.
      model: the Flax module (static).
      shape: the fitted image's layout, ``(H, W)`` or ``(H, W, C)`` (static).
    """

    params: Any
    offset: jax.Array
    history: dict = flax.struct.field(pytree_node=False)
    model: nn.Module = flax.struct.field(pytree_node=False)
    shape: tuple = flax.struct.field(pytree_node=False)

    def __repr__(self) -> str:
        model = type(self.model).__name__
        width = getattr(self.model, "hidden_features", None)
        if width is not None:
            model += f" {width}x{getattr(self.model, 'hidden_layers', '?')}"
        steps = np.shape(self.history["psnr"])[-1]
        psnr = np.asarray(self.history["psnr"])[..., -1]
        lead = f"{len(self)} fits, " if self.batched else ""
        last = "" if np.all(np.isnan(psnr)) else f", PSNR {np.nanmean(psnr):.2f} dB"
        return f"FitResult({lead}{model}, shape {self.shape}, {steps} steps{last})"

    @property
    def batched(self) -> bool:
        return self.offset.ndim == 2

    def __len__(self) -> int:
        if not self.batched:
            raise TypeError("an unbatched FitResult has no length")
        return self.offset.shape[0]

    def __getitem__(self, i: int) -> FitResult:
        """Image ``i`` of a batched result."""
        if not self.batched:
            raise TypeError("only a batched FitResult (from fit_images) can be indexed")
        take = lambda x: x[i]
        return FitResult(
            params=jax.tree_util.tree_map(take, self.params),
            offset=self.offset[i],
            history={k: v[i] for k, v in self.history.items()},
            model=self.model,
            shape=self.shape,
        )

    def _evaluate(self, quantity, height, width, region, chunk, mesh):
        height, width = as_size(height, width)
        mesh = local_mesh() if mesh is None else as_mesh(mesh)
        x0, y0, x1, y1 = as_region(region)
        axes = grid_axes(height, width, region)
        # One rendered pixel is this many [-1, 1] coordinate units.
        steps = jnp.asarray([2.0 * (x1 - x0) / width, 2.0 * (y1 - y0) / height], jnp.float32)
        params, offset = replicate((self.params, self.offset), mesh)
        if not self.batched:
            params = jax.tree_util.tree_map(lambda x: x[None], params)
            offset = offset[None]
        per_image = max(1024, chunk // offset.shape[0])
        out = to_host(_render(self.model, quantity, per_image, mesh, params, offset, axes, steps))
        channels = () if len(self.shape) == 2 else (self.shape[2],)
        tail = (2,) if quantity == "gradient" else ()
        out = out.reshape(offset.shape[0], height, width, *channels, *tail)
        return out if self.batched else out[0]

    def render(
        self,
        height: int,
        width: int,
        region=None,
        *,
        clip: bool = True,
        chunk: int = DEFAULT_CHUNK,
        mesh=None,
    ) -> np.ndarray:
        """The image at ``(height, width)``, optionally of a ``region`` only.

        Returns float32 NumPy ``(height, width[, C])`` in the fitted image's
        layout, clipped to [0, 1] unless ``clip=False``.  ``chunk`` points
        (shared among a batch's images) are evaluated at once per device of
        ``mesh`` (``None``: this host's devices; see :mod:`inr.distributed`).
        """
        out = self._evaluate("values", height, width, region, chunk, mesh)
        return np.clip(out, 0.0, 1.0) if clip else out

    def gradient(
        self, height: int, width: int, region=None, *, chunk: int = DEFAULT_CHUNK, mesh=None
    ):
        """Exact gradient ``(height, width[, C], 2)`` in intensity per rendered pixel.

        Taken by autodiff at each pixel centre; ``[..., 0]`` is d/dx (along
        the width), ``[..., 1]`` d/dy.
        """
        return self._evaluate("gradient", height, width, region, chunk, mesh)

    def laplacian(
        self, height: int, width: int, region=None, *, chunk: int = DEFAULT_CHUNK, mesh=None
    ):
        """Exact Laplacian ``(height, width[, C])`` in intensity per rendered pixel squared."""
        return self._evaluate("laplacian", height, width, region, chunk, mesh)

"""Pictures of a distance field without a mesh: sphere tracing (Hart 1996).

A ray from the eye moves by the field's value at its tip, which a signed
distance never lets overshoot the surface, until the value falls below
its tolerance (a hit) or the ray leaves the box the field was fitted in.
The tolerance is ``epsilon`` or, if larger, ``footprint`` pixels at the
ray's distance: past that the picture cannot tell, and rays that graze a
surface or cross a field flatter than a distance stop there instead of
crawling.
Rays of very different lengths share the work through a pool (a
wavefront): a fixed number of slots each holds one ray, every step
evaluates the field at all slots at once, and a slot whose ray has ended
takes the next waiting ray.  The field is evaluated in batches of the
pool's size until the last ray ends, so no batch waits for its slowest
ray and the memory is the pool's, whatever the picture's size (on a CPU a
512^2 picture marches 4x faster than in fixed tiles of rays).  Normals are
the field's exact gradient at the hits; the picture is Lambert-shaded.
Everything is one ``jit``-compiled function of the field's parameters.
"""

from __future__ import annotations

from functools import partial
from typing import Annotated, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from inr._validate import as_number, as_positive_int, as_shape
from inr.cameras import Camera, rays
from inr.fields import value_and_gradient
from inr.shapes.extract import DEFAULT_BOX
from inr.shapes.sdf import as_field

__all__ = ["Picture", "render_sdf"]


def _pool() -> int:
    """Rays marched at once: enough to fill the machine, few enough that the last ones end soon."""
    return 2048 if jax.default_backend() == "cpu" else 65536


_LIGHT = np.array([-0.4, 0.6, 0.7])  # towards the light, in the camera's (right, up, back) frame


class Picture(NamedTuple):
    """What :func:`render_sdf` sees: each ``(H, W[, 3])``, float32 but ``hit``."""

    depth: Annotated[np.ndarray, "H W"]  # distance from the eye, input units; inf off the shape
    normals: Annotated[np.ndarray, "H W 3"]  # unit outward normals; 0 off the shape
    image: Annotated[np.ndarray, "H W 3"]  # Lambert-shaded grey on white, in [0, 1]
    hit: Annotated[np.ndarray, "H W"]  # whether the pixel's ray met the surface


def _box_interval(origin, direction, bound):
    """Where each ray is inside ``[-bound, bound]^3``: ``(t_near, t_far)`` (near > far: a miss)."""
    inverse = 1.0 / jnp.where(direction == 0.0, 1e-30, direction)
    t0, t1 = (-bound - origin) * inverse, (bound - origin) * inverse
    near = jnp.max(jnp.minimum(t0, t1), axis=-1)
    return jnp.maximum(near, 0.0), jnp.min(jnp.maximum(t0, t1), axis=-1)


def _march(field, origin, steps, epsilon, cone, bound, directions):
    """Sphere-trace ``directions (n, 3)`` from ``origin``: ``(t (n,), hit (n,))``.

    The state is the pool: each slot's ray (``n``: none), its ``t``, the
    field there and its step count; ended rays are written to the outputs
    (row ``n`` takes the writes of empty slots) and their slots refilled.
    """
    n, pool = directions.shape[0], _pool()
    near, far = _box_interval(origin, directions, bound)
    near, far = jnp.append(near, 0.0), jnp.append(far, -1.0)
    directions = jnp.concatenate([directions, directions[:1]])
    tolerance = lambda t: jnp.maximum(epsilon, cone * t)  # noqa: E731

    def step(state):
        waiting, ray, t, d, k, out_t, out_hit = state
        close = jnp.abs(d) < tolerance(t)
        ended = close | (t > far[ray]) | (k >= steps)
        written = jnp.where(ended, ray, n)
        out_t = out_t.at[written].set(t)
        out_hit = out_hit.at[written].set(close & (t <= far[ray]) & (near[ray] <= far[ray]))
        ray = jnp.where(ended, jnp.minimum(waiting + jnp.cumsum(ended) - 1, n), ray)
        t = jnp.where(ended, near[ray], t + d)
        d = field(origin + t[:, None] * directions[ray])
        waiting = jnp.minimum(waiting + jnp.sum(ended), n)
        return waiting, ray, t, d, jnp.where(ended, 0, k + 1), out_t, out_hit

    busy = lambda state: (state[0] < n) | jnp.any(state[1] < n)  # noqa: E731
    empty = jnp.zeros(pool, jnp.float32)
    start = (0, jnp.full(pool, n), empty, empty, jnp.zeros(pool, jnp.int32),
             jnp.zeros(n + 1, jnp.float32), jnp.zeros(n + 1, bool))  # fmt: skip
    _, _, _, _, _, t, hit = jax.lax.while_loop(busy, step, start)
    return t[:n], hit[:n]


@partial(jax.jit, static_argnums=1)
def _trace(camera, steps, field, origin, epsilon, footprint, bound):
    """``origin``: the eye in field coordinates (directions keep: the map is a uniform scale)."""
    h, w = camera.size
    directions = rays(camera)[1].reshape(-1, 3)
    cone = footprint / camera.focal[1]  # a pixel's width per unit of distance
    t, hit = _march(field, origin, steps, epsilon, cone, bound, directions)
    points = origin + t[:, None] * directions
    _, grad = value_and_gradient(lambda p: field(p)[:, None], points)
    normals = grad[:, 0] / jnp.maximum(jnp.linalg.norm(grad[:, 0], axis=-1, keepdims=True), 1e-12)
    light = camera.pose[:, :3] @ jnp.asarray(_LIGHT / np.linalg.norm(_LIGHT), jnp.float32)
    shade = 0.25 + 0.75 * jnp.clip(normals @ light, 0.0, 1.0)
    image = jnp.where(hit[:, None], shade[:, None] * jnp.array([0.85, 0.87, 0.92]), 1.0)
    normals = jnp.where(hit[:, None], normals, 0.0)
    return t.reshape(h, w), normals.reshape(h, w, 3), image.reshape(h, w, 3), hit.reshape(h, w)


def render_sdf(
    field,
    camera: Camera,
    size=None,
    *,
    steps: int = 256,
    epsilon: float = 1e-4,
    footprint: float = 0.25,
) -> Picture:
    """Sphere-trace ``field`` as seen by ``camera``: depth, normals and a shaded image.

    ``field``: an :class:`~inr.shapes.SDF` (or a function from ``(n, 3)``
    points to ``(n,)`` signed distances, in the camera's units).
    ``camera``: an :class:`inr.Camera` (``Camera.look_at(eye, target,
    fov=, size=)``) in the input's units.  ``size`` ``(height, width)``
    renders the same view at another size.  A ray stops where the
    field is below ``epsilon`` (field units: the shape spans [-1, 1]) or
    ``footprint`` pixel widths at the ray's distance, whichever is larger
    (``footprint=0`` for exact depths), or after ``steps`` steps; only
    the cube the field was fitted in (:data:`~inr.shapes.DEFAULT_BOX`, in
    field coordinates: a plain function's own) is traced.
    """
    if not isinstance(camera, Camera) or camera.pose.ndim != 2:
        raise ValueError(f"camera must be one inr.Camera; got {type(camera)}")
    fn, transform = as_field(field)
    if size is not None:
        shape = as_shape(size, "size")
        if len(shape) != 2:
            raise ValueError(f"size must be (height, width); got {size!r}")
        camera = camera.resized(shape)
    steps = as_positive_int(steps, "steps")
    epsilon = as_number(epsilon, "epsilon", 0.0, low_open=True)
    footprint = as_number(footprint, "footprint", 0.0)
    eye = jnp.asarray(transform.to_field(np.asarray(camera.eye, np.float32)), jnp.float32)
    bound = np.float32(DEFAULT_BOX[3])
    t, normals, image, hit = _trace(camera, steps, fn, eye, epsilon, footprint, bound)
    depth = np.where(np.asarray(hit), np.asarray(t) * float(transform.scale), np.inf)
    return Picture(
        depth.astype(np.float32), np.asarray(normals), np.asarray(image), np.asarray(hit)
    )

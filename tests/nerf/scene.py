"""A coloured sphere, rendered analytically: a scene whose every pixel is known exactly."""

import numpy as np

import inr

RADIUS = 0.6


def sphere_views(n: int, size: int, seed: int = 0, radius: float = 3.0):
    """``(images (n, size, size, 4) uint8 RGBA, cameras, depths)`` around the sphere.

    The colour at a point of the sphere is ``0.5 + 0.5 * normal``; a pixel whose
    ray misses it is transparent (its depth is infinite).
    """
    rng = np.random.default_rng(seed)
    cameras, images, depths = [], [], []
    for _ in range(n):
        v = rng.normal(size=3)
        eye = radius * v / np.linalg.norm(v)
        camera = inr.Camera.look_at(eye, up=(0.0, 0.0, 1.0) if abs(v[2]) < 0.9 * np.linalg.norm(v)
                                    else (1.0, 0.0, 0.0), fov=40.0, size=(size, size))  # fmt: skip
        origins, directions = (np.asarray(x, np.float64) for x in inr.rays(camera))
        b = np.sum(origins * directions, axis=-1)
        disc = b**2 - (np.sum(origins**2, axis=-1) - RADIUS**2)
        t = -b - np.sqrt(np.maximum(disc, 0.0))
        normal = (origins + t[..., None] * directions) / RADIUS
        rgba = np.concatenate([0.5 + 0.5 * normal, np.ones_like(t[..., None])], axis=-1)
        rgba = np.where((disc > 0)[..., None], rgba, 0.0)
        images.append(np.round(rgba * 255).astype(np.uint8))
        depths.append(np.where(disc > 0, t, np.inf))
        cameras.append(camera)
    return np.stack(images), inr.Camera.stack(cameras), np.stack(depths)

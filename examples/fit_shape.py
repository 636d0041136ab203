"""Fit a signed distance field to a mesh's oriented samples, mesh it and sphere-trace it.

python examples/fit_shape.py [--mesh PATH.obj] [--steps 300] [--resolution 128] [--full]
                             [--out outputs/fit_shape.png]

Draws 100,000 oriented samples from the mesh's surface and fits a SIREN
(128 x 3, first omega_0 15) to them with SIREN's shape loss, samples near
the surface and the distances of the nearest samples (the fastest recipe
of benchmarks/shapes.py).  Writes the zero level set as ``<out>.obj`` and a
figure: the input mesh, two sphere-traced views of the field and its
normals, with the metrics of the fitted mesh against the input in the
caption.  Without ``--mesh`` it
fits a built-in torus; the Stanford bunny of the shared data is ``--mesh
../shared/data/shapes/stanford-bunny.obj``.  The defaults take under a
minute on a 2-core CPU; ``--full`` fits SIREN's own configuration (256 x 3,
Adam 1e-4) for 10,000 steps instead, which takes hours there.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import jax.numpy as jnp
import numpy as np
import optax
from _figures import plt, save_figure

import inr
from inr import shapes


def torus() -> shapes.Mesh:
    """A torus (radii 0.6 and 0.25), meshed from its exact distance."""
    field = lambda p: jnp.sqrt((jnp.hypot(p[:, 0], p[:, 1]) - 0.6) ** 2 + p[:, 2] ** 2) - 0.25  # noqa: E731
    return shapes.extract_mesh(field, 96, box=(-1, -1, -1, 1, 1, 1))


def recipe(full: bool, steps: int):
    """SIREN's configuration, or the benchmark's fastest: a smaller SIREN held to distances."""
    if full:
        return inr.Siren(256, 3, 1), optax.adam(1e-4), shapes.SDFLoss(), shapes.SDFSampling()
    adam = optax.adam(optax.cosine_decay_schedule(3e-4, steps))
    loss, sampling = shapes.SDFLoss(distance=1e2), shapes.SDFSampling(near=0.5)
    return inr.Siren(128, 3, 1, first_w0=15.0), adam, loss, sampling


def draw_mesh(ax, mesh: shapes.Mesh, title: str):
    """The input mesh, flat-shaded by matplotlib, seen as the first traced view sees it."""
    v = np.asarray(mesh.vertices)
    ax.plot_trisurf(v[:, 0], v[:, 2], v[:, 1], triangles=mesh.faces, color="#d0d6e0",
                    linewidth=0, antialiased=False, shade=True)  # fmt: skip
    lo, hi = v.min(axis=0), v.max(axis=0)
    half = (hi - lo).max() / 2
    for axis, c in zip("xyz", (lo + hi)[[0, 2, 1]] / 2, strict=True):
        getattr(ax, f"set_{axis}lim")(c - half, c + half)
    ax.view_init(elev=20, azim=-60)
    ax.set_axis_off()
    ax.set_title(title)


def views(sdf: shapes.SDF, size: int):
    """Two cameras around the shape, at 3.8 times its half-size from its centre."""
    centre, r = np.asarray(sdf.transform.centre), 3.8 * float(sdf.transform.scale)
    out = []
    for azimuth in (30.0, 150.0):
        a, e = np.radians(azimuth), np.radians(20.0)
        eye = centre + r * np.array([np.sin(a) * np.cos(e), np.sin(e), np.cos(a) * np.cos(e)])
        camera = inr.Camera.look_at(eye, centre, fov=40.0, size=(size, size))
        out.append(shapes.render_sdf(sdf, camera))
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--mesh", help="an OBJ/PLY mesh (default: a built-in torus)")
    p.add_argument("--steps", type=int, help="fitting steps (300; --full 10000)")
    p.add_argument("--samples", type=int, default=100_000, help="oriented samples to fit")
    p.add_argument("--size", type=int, default=320, help="pixels of each traced view")
    p.add_argument("--resolution", type=int, default=128, help="marching cubes lattice (128)")
    p.add_argument("--full", action="store_true", help="SIREN's configuration and steps")
    p.add_argument(
        "--out", default="outputs/fit_shape.png", help="the figure; the .obj mesh beside"
    )
    args = p.parse_args(argv)
    steps = args.steps or (10_000 if args.full else 300)
    truth = shapes.load_mesh(args.mesh) if args.mesh else torus()
    points, normals = shapes.sample_surface(truth, args.samples, seed=0)
    model, optimizer, loss, sampling = recipe(args.full, steps)
    sdf = shapes.fit_sdf(points, normals, model=model, optimizer=optimizer, steps=steps,
                         points=10_000, loss=loss, sampling=sampling, progress=True)  # fmt: skip
    mesh = shapes.extract_mesh(sdf, args.resolution)
    shapes.save_mesh(Path(args.out).with_suffix(".obj"), mesh)
    unit = lambda m: shapes.Mesh(np.asarray(sdf.transform.to_field(m.vertices)), m.faces)  # noqa: E731
    m = shapes.surface_metrics(unit(mesh), unit(truth), samples=min(args.samples, 1_000_000))
    first, second = views(sdf, args.size)
    fig = plt.figure(figsize=(16, 4.6))
    draw_mesh(fig.add_subplot(1, 4, 1, projection="3d"), truth, "input mesh")
    panels = [(first.image, "fitted field, sphere-traced"), (second.image, "from behind"),
              (0.5 + 0.5 * first.normals, "its normals (autodiff)")]  # fmt: skip
    for i, (image, title) in enumerate(panels):
        ax = fig.add_subplot(1, 4, i + 2)
        ax.imshow(np.clip(image, 0, 1))
        ax.set_axis_off()
        ax.set_title(title)
    name = Path(args.mesh).stem if args.mesh else "torus"
    fig.suptitle(f"{name}: {type(model).__name__}, {steps} steps.  Chamfer {m.chamfer:.4f}, "
                 f"Hausdorff {m.hausdorff:.3f}, normal consistency {m.normal_consistency:.3f}, "
                 f"F-score@0.01 {m.f_score:.3f} (the shape spans [-1, 1])")  # fmt: skip
    save_figure(fig, args.out)


if __name__ == "__main__":
    main()

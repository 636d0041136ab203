"""Run by tests/test_distributed.py in a fresh process with several forced CPU devices.

    XLA_FLAGS=--xla_force_host_platform_device_count=4 \
        python tests/_multidevice.py DATA OUT DIR PART

Trains, fits and renders on meshes of 1, 2 and 4 devices and writes the
largest differences between them (and the errors raised) to ``OUT`` as JSON;
the test process asserts on them.  One process per part (``core``, or the
slow ``extended``): the forced device count is fixed at start-up, and
compiling is most of the time.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import jax
import numpy as np

import inr
import inr.shapes
from inr.checkpoint import open_manager
from inr.loop import split_batch

TINY = dict(features=(8, 16), latent=8, hidden=16, blocks=1, pos_frequencies=2)
STEPS = 8
RUN = dict(batch_size=8)


def recipe(steps: int, **kw) -> inr.TrainConfig:
    """The runs' recipe: 64 points per image, the default schedule at a peak rate of 1e-2."""
    examples = inr.restorator.Examples(points_per_image=64)
    optimizer = inr.restorator.restorator_optimizer(steps, 1e-2)
    return inr.TrainConfig(examples, steps=steps, optimizer=optimizer, **{**RUN, **kw})


def diff(a, b) -> float:
    pairs = zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True)
    return max(float(np.max(np.abs(np.asarray(x) - np.asarray(y)))) for x, y in pairs)


def train(data, mesh, checkpoints=None, **kw):
    config = inr.RestoratorConfig(**TINY, task="colorize", input_size=16, **kw.pop("config", {}))
    run = recipe(kw.pop("steps", inr.TrainConfig.steps), **kw)
    return inr.train_restorator(
        data, config, run, checkpoints=checkpoints, mesh=mesh, progress=False
    )


def error(fn) -> str:
    try:
        fn()
    except ValueError as exc:
        return str(exc)
    return ""


def core(data, work: Path) -> dict:
    """Replicated training, renders and batched fits: 4 devices against 1."""
    out = {"devices": jax.device_count()}
    # Every run is STEPS long (the schedule is part of the program), so later
    # runs reuse these programs from the compilation cache.
    one = train(data, 1, steps=STEPS)
    out["train_4_vs_1"] = diff(one.params, train(data, 4, steps=STEPS).params)
    net = inr.restorator.RestoratorNet(one.config)
    args = (np.zeros((1, 16, 16, 1)), np.zeros((1, 64, 2)), np.ones((1, 2)))
    # Jitted: eagerly, every operation of the initialisation compiles alone.
    out["train_moved"] = diff(one.params, jax.jit(net.init)(jax.random.PRNGKey(0), *args))
    out["batch_error"] = error(lambda: train(data, 4, steps=1, batch_size=6))

    # Rendering: points split over 4 devices; odd sizes leave a ragged last share.
    gray = inr.rgb_to_gray(data[0])
    kw = dict(size=(37, 29))
    out["render_4_vs_1"] = diff(one.restore(gray, mesh=1, **kw), one.restore(gray, mesh=4, **kw))
    region = dict(size=(19, 23), region=(0.1, 0.2, 0.7, 0.9))
    out["render_region_4_vs_1"] = diff(
        one.restore(gray, mesh=1, **region), one.restore(gray, mesh=4, **region)
    )
    out["render_chunked_4_vs_1"] = diff(
        one.restore(gray, mesh=1, **kw), one.restore(gray, mesh=4, chunk=50, **kw)
    )

    # Batched fits: three images (not a multiple of 4) split over the devices.
    images = data[:3, :16, :16]
    f1 = inr.fit_images(images, model=inr.Siren(16, 1, 3), steps=20, mesh=1)
    f4 = inr.fit_images(images, model=inr.Siren(16, 1, 3), steps=20, mesh=4)
    out["fit_params_4_vs_1"] = diff(f1.params, f4.params)
    out["fit_history_4_vs_1"] = diff(f1.history["loss"], f4.history["loss"])
    out["fit_shapes"] = [list(f4.history["loss"].shape), list(f4.render(8, 8).shape)]
    out["fit_render_4_vs_1"] = diff(f1.render(33, 31, mesh=1), f1.render(33, 31, mesh=4))
    out["fit_gradient_4_vs_1"] = diff(f1.gradient(9, 7, mesh=1), f1.gradient(9, 7, mesh=4))
    single = inr.fit_image(images[0], model=inr.Siren(16, 1, 3), steps=20)
    out["fit_single_vs_batched"] = diff(single.params, f4[0].params)

    # One fit's random points split over the devices (data parallel): the same fit.
    clip = (data[:4, :8, :8] * 255).astype(np.uint8)
    kw = dict(model=inr.Siren(16, 1, 3), steps=10, points=64)
    s1, s4 = inr.fit_signal(clip, mesh=1, **kw), inr.fit_signal(clip, mesh=4, **kw)
    out["signal_params_4_vs_1"] = diff(s1.params, s4.params)

    out["splits"], out["split_error"] = declared_splits(data)

    # Functa latents: five faces (not a multiple of 4) split over the devices.
    model = inr.meta.ModulatedSiren(16, 1, 3, latent_features=4)
    config = inr.meta.MetaConfig(inner_steps=2, batch_size=2, steps=2)
    functa = inr.meta.meta_train(images, model=model, config=config)
    faces = data[:5, :16, :16]
    z1 = inr.meta.fit_latents(faces, functa, mesh=1)
    out["latents_4_vs_1"] = diff(z1, inr.meta.fit_latents(faces, functa, mesh=4))
    return out


def _objectives(data) -> dict:
    """One small objective of every kind the library has."""
    from inr import nerf, pde, tomography

    image, rng = data[0, :16, :16], np.random.default_rng(0)
    p = rng.normal(size=(200, 3))
    cameras = inr.Camera.stack([inr.Camera.look_at((0.0, 0.0, 4.0 + i), size=(8, 8))
                                for i in range(2)])  # fmt: skip
    geometry = tomography.ParallelBeam.create(np.linspace(0, 180, 6, endpoint=False), 16)
    square = lambda x: x[:, 0] ** 2  # noqa: E731
    config = inr.meta.MetaConfig(inner_steps=1, batch_size=4, steps=1)
    samples, layout = inr.signal.as_signal(data[:6, :8, :8], batched=True)
    return {
        "values": inr.SignalValues.create(image, points=64),
        "gradients": inr.ImageGradients.create(image),
        "laplacian": inr.ImageLaplacian.create(image),
        "sdf": inr.shapes.SDFObjective.create(p, p, points=64),
        "radiance": nerf.RadianceObjective.create(
            np.zeros((2, 8, 8, 4), np.uint8), cameras, rays=64
        ),  # fmt: skip
        "sinogram": tomography.SinogramObjective.create(
            np.ones(geometry.shape), geometry, rays=64, tv_points=32
        ),  # fmt: skip
        "helmholtz": pde.HelmholtzObjective(pde.Helmholtz(), points=92, near=8),
        "wave": pde.WaveObjective(pde.Wave(), points=64, initial=32),
        "poisson": pde.PoissonObjective(square, square, points=64, boundary=32),
        "meta": inr.meta.objective.MetaObjective.create(samples, layout, config),
    }


def declared_splits(data) -> tuple[dict, str]:
    """Each objective's declared batch rows as 4 devices hold them: ``[rows, rows on one]``."""
    sharding = inr.distributed.data_sharding(inr.distributed.make_mesh(4))
    key, out = jax.random.PRNGKey(0), {}
    for name, objective in _objectives(data).items():
        batch = jax.jit(lambda o: split_batch(o, o.draw(key, 0), sharding))(objective)
        flags = jax.tree.leaves(jax.tree.map(lambda f, b: jax.tree.map(lambda _: f, b),
                                             objective.split(batch), batch))  # fmt: skip
        leaves = [x for f, x in zip(flags, jax.tree.leaves(batch), strict=True) if f]
        out[name] = [[x.shape[0], x.addressable_shards[0].data.shape[0]] for x in leaves]
    odd = inr.pde.HelmholtzObjective(inr.pde.Helmholtz(), points=90, near=1)
    return out, error(lambda: inr.fit(odd, model=inr.Siren(8, 1, 2), steps=1, mesh=4))


def every_fit_takes_a_mesh(data) -> dict:
    """A gradient fit, a shape and meta-learning: the same on 4 devices as on 1."""
    out, image = {}, data[0, :16, :16]
    kw = dict(model=inr.Siren(16, 1, 3), steps=5, target="gradients")
    g1, g4 = inr.fit_image(image, mesh=1, **kw), inr.fit_image(image, mesh=4, **kw)
    out["gradients_4_vs_1"] = diff(g1.params, g4.params)
    p = np.random.default_rng(0).normal(size=(200, 3))
    kw = dict(model=inr.Siren(16, 1, 1), steps=5, points=64)
    d1, d4 = inr.shapes.fit_sdf(p, p, mesh=1, **kw), inr.shapes.fit_sdf(p, p, mesh=4, **kw)
    out["sdf_4_vs_1"] = diff(d1.params, d4.params)
    config = inr.meta.MetaConfig(inner_steps=1, batch_size=4, steps=2)
    kw = dict(model=inr.Siren(16, 1, 3), config=config)
    m1, m4 = (inr.meta.meta_train(data[:6, :8, :8], mesh=n, **kw) for n in (1, 4))
    out["meta_4_vs_1"] = diff(m1.params, m4.params)
    return out


def extended(data, work: Path) -> dict:
    """Sharded parameters, the diffusion restorator, resuming on other meshes, every fit's mesh."""
    out = every_fit_takes_a_mesh(data)
    one = train(data, 1, steps=STEPS)
    fsdp = train(data, 4, steps=STEPS, shard_params=True)
    out["train_fsdp_4_vs_1"] = diff(one.params, fsdp.params)
    tree = {"wide": np.zeros((6, 8)), "odd": np.zeros(3), "scalar": np.zeros(())}
    specs = inr.distributed.state_sharding(tree, inr.distributed.make_mesh(4), True)
    out["fsdp_specs"] = {k: str(v.spec) for k, v in specs.items()}

    diffusion = dict(config=dict(decoding="diffusion"), steps=STEPS)
    d1 = train(data, 1, **diffusion)
    out["diffusion_4_vs_1"] = diff(d1.params, train(data, 4, **diffusion).params)
    gray = inr.rgb_to_gray(data[0])
    sampler = dict(size=(21, 17), sampler=inr.diffusion.SamplerConfig(stride=4), seed=3)
    out["diffusion_render_4_vs_1"] = diff(
        d1.restore(gray, mesh=1, **sampler), d1.restore(gray, mesh=4, **sampler)
    )

    # Checkpoints: saved on 4 devices, resumed on 1 and on 2 from the middle.
    ckpt = work / "ckpt4"
    whole = train(data, 4, inr.Checkpoints(ckpt, save_every=STEPS // 2), steps=STEPS)
    for n in (1, 2):
        copy = work / f"resume{n}"
        shutil.copytree(ckpt, copy)
        manager = open_manager(copy)
        manager.delete(STEPS)
        manager.close()
        resumed = train(data, n, inr.Checkpoints(copy, save_every=STEPS // 2), steps=STEPS)
        out[f"resume_on_{n}_vs_4"] = diff(whole.params, resumed.params)
        out[f"resume_on_{n}_steps"] = open_manager(copy).all_steps()
    return out


PARTS = {"core": core, "extended": extended}


def main(data_path: str, out_path: str, work: str, part: str) -> None:
    out = PARTS[part](np.load(data_path), Path(work))
    Path(out_path).write_text(json.dumps(out))


if __name__ == "__main__":
    main(*sys.argv[1:5])

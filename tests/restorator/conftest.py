import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import inr
from inr.restorator import RestoratorConfig
from inr.restorator.step import INIT_COMPILER_OPTIONS, init_state

# A model small enough that a training step takes milliseconds on CPU.
TINY = dict(input_size=16, features=(8, 16), latent=8, hidden=16, blocks=1, pos_frequencies=2)


@pytest.fixture
def tiny():
    return RestoratorConfig(**TINY)


@pytest.fixture(scope="session")
def colour_images():
    return make_colour_images()


def make_colour_images():
    """Eight 48x40 colour images: random ramps through one fixed palette.

    The colour is a function of the brightness, so gray-to-colour is learnable.
    """
    rng = np.random.default_rng(1)
    y, x = np.mgrid[0:48, 0:40] / 48.0
    out = []
    for _ in range(8):
        a, b, c = rng.uniform(-1, 1, 3)
        t = np.clip(0.5 + 0.6 * (a * x + b * y) + 0.2 * c, 0, 1)
        out.append(np.stack([t, t**2, 1 - t], axis=-1).astype(np.float32))
    return np.stack(out)


_CONFIG_FIELDS = {f.name for f in dataclasses.fields(RestoratorConfig)}
_EXAMPLE_FIELDS = {f.name for f in dataclasses.fields(inr.restorator.Examples)} - {
    "task",
    "input_size",
}
_CHECKPOINT_FIELDS = {"directory", "save_every", "keep", "resume"}


def _pop(settings: dict, names) -> dict:
    return {k: settings.pop(k) for k in list(settings) if k in names}


def recipe(**settings) -> inr.TrainConfig:
    """A ``TrainConfig`` from flat settings: example fields, loss terms, ``lr`` (the schedule)."""
    examples = inr.restorator.Examples(**_pop(settings, _EXAMPLE_FIELDS))
    terms = _pop(settings, {"perceptual", "adversarial"})
    settings["loss"] = inr.restorator.Loss(settings.get("loss", "l1"), **terms)
    lr = settings.pop("lr", None)
    if lr is not None:
        steps = settings.get("steps", inr.TrainConfig.steps)
        settings["optimizer"] = inr.restorator.restorator_optimizer(steps, lr)
    return inr.TrainConfig(examples, **settings)


def train_tiny(data, **settings):
    """``train_restorator`` on the TINY colorizer; each setting goes to the object that owns it."""
    config = dict(TINY, task="colorize")
    config.update(_pop(settings, _CONFIG_FIELDS))
    saving = _pop(settings, _CHECKPOINT_FIELDS)
    checkpoints = inr.Checkpoints(**saving) if saving else None
    validation = settings.pop("validation", None)
    init = settings.pop("init", None)
    progress = settings.pop("progress", False)
    settings = {**dict(batch_size=2, points_per_image=64, lr=3e-3), **settings}
    return inr.train_restorator(
        data,
        RestoratorConfig(**config),
        recipe(**settings),
        init=init,
        checkpoints=checkpoints,
        validation=validation,
        progress=progress,
    )


def compile_unoptimised(fn, *args):
    """``jit(fn)`` compiled as ``train_restorator`` compiles its initialisation.

    Parameter initialisation spends its compile time on one threefry hash
    per parameter: about 15 s optimised on a 2-core CPU, 2 s not (see
    ``inr.restorator.step``), and eagerly every operation compiles alone.
    """
    lowered = jax.jit(fn).lower(*args)
    return lowered.compile(compiler_options=INIT_COMPILER_OPTIONS)(*args)


def untrained(config, scale: float = 0.0):
    """A restorator straight from ``init``; ``scale`` randomises its zero output layer.

    With the output layer at zero a model is bicubic whatever it is fed, so
    a random one is what shows the reference reaching the colours.
    """
    net = inr.restorator.RestoratorNet(config)

    def make(key):
        params = init_state(net, optax.sgd(0.1), key, 4)["params"]
        leaves, tree = jax.tree.flatten(params)
        keys = jax.random.split(jax.random.PRNGKey(1), len(leaves))
        noise = [jax.random.normal(k, x.shape) for x, k in zip(leaves, keys, strict=True)]
        return jax.tree.unflatten(tree, [x + scale * z for x, z in zip(leaves, noise, strict=True)])

    params = compile_unoptimised(make, jax.random.PRNGKey(0))
    return inr.Restorator(params=params, config=config)


def random_params(net, config, key=0, scale=0.3):
    """Initialised parameters with the (zero-initialised) output layer made random."""
    x = jnp.zeros((1, config.input_size, config.input_size, config.in_channels))
    args = (jax.random.PRNGKey(key), x, jnp.zeros((1, 4, 2)), jnp.ones((1, 2)))

    def make(*args):
        leaves, tree = jax.tree.flatten(net.init(*args))
        keys = jax.random.split(jax.random.PRNGKey(key + 1), len(leaves))
        leaves = [
            jnp.where(leaf == 0, scale * jax.random.normal(k, leaf.shape), leaf)
            for leaf, k in zip(leaves, keys, strict=True)
        ]
        return jax.tree.unflatten(tree, leaves)

    # One program: eagerly, every leaf's shape would compile its own draw.
    return compile_unoptimised(make, *args)

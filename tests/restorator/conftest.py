import numpy as np
import pytest

from inr.restorator import RestoratorConfig

# A model small enough that a training step takes milliseconds on CPU.
TINY = dict(input_size=16, features=(8, 16), latent=8, hidden=16, blocks=1, pos_frequencies=2)


@pytest.fixture
def tiny():
    return RestoratorConfig(**TINY)


@pytest.fixture(scope="session")
def colour_images():
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

import numpy as np
import pytest

import inr


@pytest.fixture(scope="session")
def camera64():
    """The built-in cameraman, anti-aliased to 64x64, float32 in [0, 1]."""
    return inr.resize(inr.sample_image("camera"), (64, 64), "bilinear")


@pytest.fixture(scope="session")
def astronaut64():
    return inr.resize(inr.sample_image("astronaut"), (64, 64), "bilinear")


@pytest.fixture
def rng():
    return np.random.default_rng(0)

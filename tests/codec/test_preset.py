"""Presets: the configuration of each side of the handover, and the file says which was used."""

import numpy as np
import pytest

from inr import codec

pytest.importorskip("constriction")

LOW = codec.CodecConfig(latents=(1, 1, 1), hidden=(4,), context=4, steps=5)
HIGH = codec.CodecConfig(latents=(1, 1, 1), hidden=(6, 6), context=4, steps=5)


def test_a_preset_hands_over_at_its_quality_and_its_rate():
    preset = codec.Preset(LOW, HIGH, quality=40, bpp=0.5)
    assert preset.at(39.9) is LOW and preset.at(40) is HIGH and preset.at() is HIGH  # 50
    assert preset.at(bpp=0.49) is LOW and preset.at(bpp=0.5) is HIGH
    quick = preset.replace(steps=2)
    assert (quick.low.hidden, quick.high.hidden) == ((4,), (6, 6))
    assert quick.low.steps == quick.high.steps == 2 and quick.quality == 40


def test_the_shipped_presets_go_narrow_below_quality_25():
    for name, steps in (("default", 1200), ("slow", 8000)):
        preset = codec.PRESETS[name]
        assert preset.at(24).hidden == (16,) and preset.at(25).hidden == (24, 24)
        assert preset.at(bpp=0.1).hidden == (16,) and preset.at(bpp=0.5).hidden == (24, 24)
        assert preset.at(0).steps == preset.at(100).steps == steps


def test_an_encode_uses_its_sides_configuration():
    photo = np.random.default_rng(0).uniform(size=(8, 12, 3)).astype(np.float32)
    preset = codec.Preset(LOW, HIGH, quality=40, bpp=0.5)
    for kw, hidden in (({"quality": 10}, [4]), ({"quality": 60}, [6, 6]), ({"bpp": 8.0}, [6, 6])):
        data = codec.encode(photo, preset=preset, **kw)
        assert codec.info(data)["hidden"] == hidden
        assert codec.decode(data).shape == photo.shape


def test_bad_presets_are_named():
    with pytest.raises(ValueError, match="Preset.low"):
        codec.Preset({"hidden": (16,)}, HIGH)
    with pytest.raises(ValueError, match="Preset.quality"):
        codec.Preset(LOW, HIGH, quality=101)
    with pytest.raises(ValueError, match="inr.codec.Preset or one of"):
        codec.encode(np.zeros((4, 4, 3)), preset=HIGH)

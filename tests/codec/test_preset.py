"""Presets: the configuration of each side of the handover, and the file says which was used."""

import numpy as np
import pytest

from inr import codec

pytest.importorskip("constriction")

LOW = codec.CodecConfig(latents=(1,), hidden=(4,), context=4, steps=5)
HIGH = codec.CodecConfig(latents=(1,), hidden=(6, 6), context=4, steps=5)


def test_a_preset_hands_over_at_its_quality_and_its_rate():
    preset = codec.Preset(LOW, HIGH, quality=40, bpp=0.5)
    assert preset.at(39.9) is LOW and preset.at(40) is HIGH and preset.at() is HIGH  # 50
    assert preset.at(bpp=0.49) is LOW and preset.at(bpp=0.5) is HIGH
    quick = preset.replace(steps=2)
    assert (quick.low.hidden, quick.high.hidden) == ((4,), (6, 6))
    assert quick.low.steps == quick.high.steps == 2 and quick.quality == 40


def test_a_preset_of_presets_is_a_ladder_of_handovers():
    middle = codec.CodecConfig(latents=(1, 1, 1), hidden=(5,), context=4, steps=5)
    ladder = codec.Preset(codec.Preset(LOW, middle, quality=20, bpp=0.2), HIGH, quality=40, bpp=0.5)
    picked = [ladder.at(q) for q in (0, 19.9, 20, 39.9, 40, 100)]
    assert picked == [LOW, LOW, middle, middle, HIGH, HIGH]
    assert [ladder.at(bpp=b) for b in (0.1, 0.2, 0.49, 0.5)] == [LOW, middle, middle, HIGH]
    quick = ladder.replace(steps=2)
    assert [quick.at(q).steps for q in (0, 30, 60)] == [2, 2, 2]
    assert [quick.at(q).hidden for q in (0, 30, 60)] == [(4,), (5,), (6, 6)]


def test_the_shipped_presets_widen_with_the_rate():
    for name, steps in (("default", 1200), ("slow", 8000)):
        preset = codec.PRESETS[name]
        assert preset.at(24).hidden == (16,) and preset.at(25).hidden == (24, 24)
        assert preset.at(bpp=0.1).hidden == (16,) and preset.at(bpp=0.5).hidden == (24, 24)
        assert preset.at(0).steps == preset.at(100).steps == steps
    small = codec.PRESETS["small"]
    widths = [small.at(q).hidden for q in (0, 24, 25, 59, 60, 100)]
    assert widths == [(16,), (16,), (24,), (24,), (24, 24), (24, 24)]
    assert [small.at(bpp=b).hidden for b in (0.1, 0.5, 2.0)] == [(16,), (24,), (24, 24)]
    assert small.at(0).steps == small.at(100).steps == 1200


def test_an_encode_uses_its_sides_configuration():
    photo = np.random.default_rng(0).uniform(size=(8, 12, 3)).astype(np.float32)
    preset = codec.Preset(LOW, HIGH, quality=40, bpp=0.5)
    for kw, hidden in (({"quality": 10}, [4]), ({"quality": 60}, [6, 6]), ({"bpp": 8.0}, [6, 6])):
        data = codec.encode(photo, preset=preset, **kw)
        assert codec.info(data)["hidden"] == hidden
        assert codec.decode(data).shape == photo.shape


def test_bad_presets_are_named():
    with pytest.raises(ValueError, match="Preset.low must be a CodecConfig or a Preset"):
        codec.Preset({"hidden": (16,)}, HIGH)
    with pytest.raises(ValueError, match="Preset.quality"):
        codec.Preset(LOW, HIGH, quality=101)
    with pytest.raises(ValueError, match="inr.codec.Preset or one of"):
        codec.encode(np.zeros((4, 4, 3)), preset=HIGH)

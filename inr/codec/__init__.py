"""Fields as files: a neural codec that writes real bytes and decodes at any resolution.

``data = inr.codec.encode(photo, quality=50)`` fits a field of latent grids
and a small pointwise network to the signal (:mod:`inr.codec.field`),
quantized and entropy coded (:mod:`inr.codec.entropy`,
:mod:`inr.codec.bitstream`, with ``constriction``'s range coder: the
``codec`` extra); ``inr.codec.decode(data, size=(2048, 3072))`` renders
it at any size or region.  Images, audio and volumes alike.  Guide:
``docs/codec.md``; command line: ``python -m inr.codec``.
"""

from inr.codec.api import PRESETS, decode, encode, field, info, weight_of
from inr.codec.bitstream import MAGIC, VERSION
from inr.codec.field import LatentField
from inr.codec.objective import CodecConfig, CodecObjective
from inr.codec.preset import Preset

__all__ = [
    "MAGIC",
    "PRESETS",
    "VERSION",
    "CodecConfig",
    "CodecObjective",
    "LatentField",
    "Preset",
    "decode",
    "encode",
    "field",
    "info",
    "weight_of",
]

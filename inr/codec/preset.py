"""Presets: a codec configuration for each side of a rate.

The synthesis's weights are paid in every file, a near-fixed few hundred
bytes whatever the rate, while the fit's objective counts only the
latents.  In the smallest files those bytes are a large part of the file,
and a narrow synthesis (one hidden layer of 16) costs less than the better
pictures of a wide one (two of 24) are worth; higher up the wide one is as
good or better.  A :class:`Preset` holds both and the quality (or, for an encode aimed
at a size, the bits per sample) where one hands over to the other.  The
decoder never needs to know: a file's header gives its own widths.
"""

from __future__ import annotations

import dataclasses

from inr._validate import as_number
from inr.codec.objective import CodecConfig

__all__ = ["Preset"]


@dataclasses.dataclass(frozen=True)
class Preset:
    """``low`` below a handover, ``high`` from it.

    Attributes:
      low: the configuration of qualities below ``quality`` (and of ``bpp`` goals below ``bpp``).
      high: the configuration from there up.
      quality: the handover's quality (0 to 100).
      bpp: the handover's bits per sample, for an encode aimed at a size (photos at
        quality 25 land a little above it; a volume's rates lie far below it).
    """

    low: CodecConfig
    high: CodecConfig
    quality: float = 25.0
    bpp: float = 0.2

    def __post_init__(self):
        for name, config in (("low", self.low), ("high", self.high)):
            if not isinstance(config, CodecConfig):
                raise ValueError(f"Preset.{name} must be a CodecConfig; got {config!r}")
        as_number(self.quality, "Preset.quality", 0.0, 100.0)
        as_number(self.bpp, "Preset.bpp", 0.0)

    def at(self, quality: float | None = None, bpp: float | None = None) -> CodecConfig:
        """The configuration of an encode at ``quality`` (default 50) or aimed at ``bpp``."""
        if bpp is not None:
            return self.low if bpp < self.bpp else self.high
        return self.low if (50.0 if quality is None else quality) < self.quality else self.high

    def replace(self, **changes) -> Preset:
        """Both configurations with ``changes`` (``steps=100`` for a quick look)."""
        return dataclasses.replace(self, low=dataclasses.replace(self.low, **changes),
                                   high=dataclasses.replace(self.high, **changes))  # fmt: skip

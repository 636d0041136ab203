"""Presets: a codec configuration for each range of rates.

The synthesis's weights are paid in every file, a near-fixed few hundred
bytes whatever the rate, while the fit's objective counts only the
latents.  In the smallest files those bytes are a large part of the file,
and a narrow synthesis costs less than the better pictures of a wide one
are worth; higher up the wide one is as good or better.  A :class:`Preset`
holds the configuration below a handover and the one from it, at a
quality (or, for an encode aimed at a size, at bits per sample); either
side may be a preset itself, so that a few handovers make a ladder of
synthesis widths.  The decoder never needs to know: a file's header gives
its own widths.
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
      low: the configuration (or a :class:`Preset`) of qualities below ``quality`` (and of
        ``bpp`` goals below ``bpp``).
      high: the configuration (or a :class:`Preset`) from there up.
      quality: the handover's quality (0 to 100).
      bpp: the handover's bits per sample, for an encode aimed at a size (photos at
        the handover's quality land near it; a volume's rates lie far below it).
    """

    low: CodecConfig | Preset
    high: CodecConfig | Preset
    quality: float = 25.0
    bpp: float = 0.2

    def __post_init__(self):
        for name, config in (("low", self.low), ("high", self.high)):
            if not isinstance(config, (CodecConfig, Preset)):
                raise ValueError(f"Preset.{name} must be a CodecConfig or a Preset; "
                                 f"got {config!r}")  # fmt: skip
        as_number(self.quality, "Preset.quality", 0.0, 100.0)
        as_number(self.bpp, "Preset.bpp", 0.0)

    def at(self, quality: float | None = None, bpp: float | None = None) -> CodecConfig:
        """The configuration of an encode at ``quality`` (default 50) or aimed at ``bpp``."""
        if bpp is not None:
            side = self.low if bpp < self.bpp else self.high
        else:
            side = self.low if (50.0 if quality is None else quality) < self.quality else self.high
        return side.at(quality, bpp) if isinstance(side, Preset) else side

    def replace(self, **changes) -> Preset:
        """Every configuration with ``changes`` (``steps=100`` for a quick look)."""

        def changed(side):
            if isinstance(side, Preset):
                return side.replace(**changes)
            return dataclasses.replace(side, **changes)

        return dataclasses.replace(self, low=changed(self.low), high=changed(self.high))

"""Model cards: the record a trained model carries (what it is, its data, its licence).

A card is a plain dict, static data of the model object.  The one rule the
library applies to it: weights whose licence restricts their use say so
wherever the model is shown.
"""

from __future__ import annotations

__all__ = ["terms_note"]


def terms_note(card: dict) -> str:
    """``", non-commercial use only"`` for a card whose licence says so, else ``""``."""
    return ", non-commercial use only" if "non-commercial" in card.get("licence", "") else ""

"""Player name normalization shared by the registry and the lookups against it."""

from __future__ import annotations

import re
import unicodedata

_NON_LETTERS = re.compile(r"[^a-z]")
# Values that are no identity: the entity ids `FailureRecord` refuses as placeholders.
PLACEHOLDER_IDS = ("unknown", "none", "nan", "null")


def fold_accents(name: str) -> str:
    return unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")


def player_lookup(name: str) -> str:
    """'Nikola Jokić' -> 'nikolajokic', 'P.J. Tucker' -> 'pjtucker': the feed's own `player_lookup` rule."""
    return _NON_LETTERS.sub("", fold_accents(name).lower())

"""What the matcher needs besides the listings: organizations, weights, synonyms, today."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from matching.text import TextModel, model_for
from matching.types import Enterprise, Provider
from matching.weights import Weights


@dataclass(frozen=True)
class Context:
    """Everything a ranking reads apart from the listings themselves.

    ``providers`` / ``enterprises`` are keyed by organization id (an offering's or a
    need's ``org_id``); a missing provider counts as unverified with no response
    record, a missing enterprise as of unknown size and industry. ``excluded`` holds
    ``(need_id, offering_id)`` pairs never to return (marked 不相关).

    ``text`` is the text model (synonym folding, vocabulary, idf, feature cache).
    Left ``None``, one shared model per synonym list is used, so repeated calls in a
    process reuse its cache; ``recompute_all`` fits its idf on the whole pool, after
    which single-listing rankings score exactly as the full recompute did.
    """

    providers: Mapping[int, Provider]
    enterprises: Mapping[int, Enterprise]
    weights: Weights
    synonyms: tuple[tuple[str, ...], ...] = ()
    today: date = field(default_factory=date.today)
    excluded: frozenset[tuple[int, int]] = frozenset()
    text: TextModel | None = None

    @property
    def model(self) -> TextModel:
        """The text model in use (``text`` or the shared one for ``synonyms``)."""
        return self.text if self.text is not None else model_for(tuple(map(tuple, self.synonyms)))

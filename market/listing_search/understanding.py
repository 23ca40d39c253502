"""Query understanding for the app: search/understand.py fed with the concept map,
the places people name and the index's own vocabulary.

Places are the provinces (full and short names, English), the cities of
seed_data/search/cities.json (each filters to its province) and the parks in the
database (filter to the park). The understander is built once per concept map and
set of parks (building it loads the map's terms into the word cutter) and rebuilt
when either changes, so an admin's new synonym or a new park applies at the next
search in every worker, without a restart.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from flask import Flask, current_app
from sqlalchemy import select

from market.core.extensions import db
from market.core.reference import REFERENCE_DIR, SEED_DIR
from market.listing_search import indexing
from market.models import Park
from search.concepts import ConceptMap
from search.errors import SearchError
from search.listings import INDEXES, listing_settings
from search.types import Eq, Filter, Range
from search.understand import PlaceName, Understander, Understanding

CITIES_FILE = SEED_DIR / "search" / "cities.json"
EXTENSION = "market_understanding"


@cache
def fixed_places() -> tuple[PlaceName, ...]:
    """Provinces and cities (read once per process)."""
    out: list[PlaceName] = []
    rows: list[dict[str, str]] = json.loads(
        (REFERENCE_DIR / "provinces.json").read_text(encoding="utf-8")
    )
    for row in rows:
        name = row["name"]
        for text in dict.fromkeys((name, row.get("short", ""), row.get("en", ""))):
            if len(text) >= 2:
                out.append(PlaceName(text, "province", name, name))
    cities: dict[str, list[str]] = json.loads(CITIES_FILE.read_text(encoding="utf-8"))["cities"]
    for province, names in cities.items():
        for city in names:
            for text in dict.fromkeys((city, city if city.endswith("市") else city + "市")):
                out.append(PlaceName(text, "province", province, province))
    return tuple(out)


def _parks() -> tuple[PlaceName, ...]:
    rows = db.session.execute(select(Park.ref, Park.name).order_by(Park.ref))
    return tuple(PlaceName(name, "park", str(ref), name) for ref, name in rows if name)


@dataclass
class _State:
    key: tuple[Any, ...] | None = None
    understander: Understander | None = None
    synonyms: tuple[tuple[str, ...], ...] | None = None  # last given to the engine
    lock: threading.Lock = field(default_factory=threading.Lock)


def understander(app: Flask | None = None) -> Understander:
    """The understander for the current concept map and parks (cached per app)."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    concepts: ConceptMap = indexing.concept_map(app)
    parks = _parks()
    state: _State = app.extensions.setdefault(EXTENSION, _State())
    key = (id(concepts), parks)
    with state.lock:
        if state.understander is None or state.key != key:
            state.understander = Understander(concepts, (*fixed_places(), *parks))
            state.key = key
            _push_synonyms(app, state, concepts)
        return state.understander


def _push_synonyms(app: Flask, state: _State, concepts: ConceptMap) -> None:
    """Give the engine the map's synonym groups when they changed (Meilisearch
    expands synonyms itself; the embedded engine only stores them, since it gets
    every spelling in the understood query)."""
    groups = concepts.synonym_groups()
    if groups == state.synonyms:
        return
    settings = listing_settings(groups)
    backend = indexing.backend(app)
    for name in INDEXES:
        outcome = backend.configure(name, settings)
        if not outcome.ok:
            raise SearchError(f"cannot update the {name} index's synonyms: {outcome.error}")
    state.synonyms = groups


@dataclass(frozen=True)
class _Vocabulary:
    index: str

    def frequencies(self, terms: Any) -> list[int]:
        return indexing.backend().frequencies(self.index, list(terms))


def understand(index: str, q: str, *, correct: bool = True) -> Understanding:
    """What ``q`` means on ``index`` (corrections checked against that index).

    Raises:
        IndexUnavailable: the search engine cannot be reached (corrections need it).
    """
    return understander().understand(q, _Vocabulary(index), correct=correct, index=index)


def engine_filters(understood: Understanding) -> list[Filter]:
    """The places and the budget a query named, as engine filters."""
    out: list[Filter] = []
    for place in understood.places:
        out.append(Eq("regions" if place.kind == "province" else "parks", place.value))
    budget = understood.budget
    if budget is not None:
        # A listing fits when its price range reaches into the budget.
        if budget.lte is not None:
            out.append(Range("price_min", lte=budget.lte))
        if budget.gte is not None:
            out.append(Range("price_max", gte=budget.gte))
    return out

"""The application's search backend: one per app, created on first use, never at start-up.

``backend()`` is the only way the app reaches ``search``: it builds the backend
that ``SEARCH_BACKEND`` names (embedded in ``SEARCH_DIR`` by default, Meilisearch
at ``MEILI_URL``) and gives both listing indexes their settings and the synonym
groups of the concept map (``concept_map()``) the first time it is asked. Because
the embedded backend is always there, no caller ever checks whether search is
configured.

``concept_map()`` is the one reading of the domain concept map for the whole app:
search settings, query understanding, the empty-result hints and the matcher's
text model all take it from here.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from flask import Flask, current_app, has_app_context

from market.core.reference import SEED_DIR
from market.listing_search import concept_entries
from search import SearchBackend, create_backend
from search.concepts import ConceptMap, load_concepts
from search.errors import SearchError
from search.listings import INDEXES, listing_settings

EXTENSION = "market_search"
CONCEPTS_DIR = SEED_DIR / "concepts"


@dataclass
class _SearchState:
    """What ``app.extensions["market_search"]`` holds."""

    backend: SearchBackend | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


def backend_options(app: Flask) -> dict[str, Any]:
    """The options the configured backend is created with."""
    if str(app.config.get("SEARCH_BACKEND") or "embedded").strip().lower() == "meilisearch":
        options: dict[str, Any] = {
            "url": app.config.get("MEILI_URL"),
            "api_key": app.config.get("MEILI_KEY"),
        }
        if app.config.get("MEILI_INDEX_PREFIX"):
            options["index_prefix"] = app.config["MEILI_INDEX_PREFIX"]
        return options
    return {"path": str(Path(app.config["SEARCH_DIR"]))}


@lru_cache(maxsize=4)
def file_concepts(directory: Path = CONCEPTS_DIR) -> ConceptMap:
    """The concept map of the versioned files (read once per process).

    Raises:
        ConceptMapError: the files are not a valid map.
    """
    return load_concepts(directory)


def concept_map(app: Flask | None = None) -> ConceptMap:
    """The domain concept map in use: the files' map (cached per process) with the
    admins' synonyms and problem phrases from the database merged in.

    Everything that needs synonyms, English terms or problem phrases asks here,
    at the moment it needs them, so a change shows without a restart: the merge
    (``concept_entries.merged``) checks a cheap stamp of the admins' table every few
    seconds, so an addition made through one worker reaches every worker's next
    search. ``CONCEPTS_DIR`` (tests) names other concept files; outside an
    application (benches) the map is the files' alone.
    """
    if app is None and not has_app_context():
        return file_concepts()
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    return concept_entries.merged(concept_files(app), app)


def concept_files(app: Flask | None = None) -> ConceptMap:
    """The files' map alone (``CONCEPTS_DIR`` when set): what admins cannot change."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    directory = app.config.get("CONCEPTS_DIR")
    return file_concepts(Path(directory)) if directory else file_concepts()


def synonyms(app: Flask | None = None) -> tuple[tuple[str, ...], ...]:
    """The synonym groups of the concept map (what both backends and the matcher load)."""
    return concept_map(app).synonym_groups()


def _configured(app: Flask) -> SearchBackend:
    backend = create_backend(app.config.get("SEARCH_BACKEND"), backend_options(app))
    settings = listing_settings(synonyms(app))
    for name in INDEXES:
        outcome = backend.configure(name, settings)
        if not outcome.ok:
            backend.close()
            raise SearchError(f"cannot configure the {name} index: {outcome.error}")
    return backend


def backend(app: Flask | None = None) -> SearchBackend:
    """The app's backend with both listing indexes configured (created on first use).

    Raises:
        IndexUnavailable: an external engine cannot be reached (try again later).
        SearchError: the engine refused the settings.
        UnknownBackend / ValueError: ``SEARCH_BACKEND`` or its options are wrong.
    """
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    state: _SearchState = app.extensions.setdefault(EXTENSION, _SearchState())
    with state.lock:
        if state.backend is None:
            state.backend = _configured(app)
        return state.backend


def reserve(app: Flask) -> None:
    """Give ``app`` its (empty) slot in ``app.extensions``; the backend comes on first use."""
    app.extensions.setdefault(EXTENSION, _SearchState())

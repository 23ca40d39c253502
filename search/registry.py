"""Which backend a configured name means: ``MARKET_SEARCH_BACKEND`` → class."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from search.backend import SearchBackend
from search.embedded import EmbeddedBackend
from search.errors import UnknownBackend
from search.meili import MeilisearchBackend

BACKENDS: dict[str, type[SearchBackend]] = {
    EmbeddedBackend.name: EmbeddedBackend,
    MeilisearchBackend.name: MeilisearchBackend,
}
DEFAULT_BACKEND = EmbeddedBackend.name


def create_backend(name: str | None, options: Mapping[str, Any]) -> SearchBackend:
    """An instance of the backend registered as ``name`` (default: embedded).

    Raises:
        UnknownBackend: no backend has that name.
        ValueError: the backend's required options are missing.
    """
    key = (name or DEFAULT_BACKEND).strip().lower()
    try:
        cls = BACKENDS[key]
    except KeyError:
        raise UnknownBackend(
            f"unknown search backend {name!r}; known: {sorted(BACKENDS)}"
        ) from None
    return cls(options)

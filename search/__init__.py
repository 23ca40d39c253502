"""Search: one port, an embedded engine (default) and a Meilisearch adapter.

Independent of Flask and of ``market``: plain documents in, plain results out.
See search/README.md.
"""

from search.backend import SearchBackend
from search.errors import IndexNotConfigured, IndexUnavailable, SearchError, UnknownBackend
from search.registry import BACKENDS, DEFAULT_BACKEND, create_backend
from search.types import (
    PUBLIC_STATUSES,
    Document,
    Eq,
    Filter,
    Hit,
    In,
    IndexSettings,
    Query,
    QueryTerm,
    Range,
    SearchableField,
    SearchResults,
    Sort,
    Suggestion,
    WriteOutcome,
)

__all__ = [
    "BACKENDS",
    "DEFAULT_BACKEND",
    "PUBLIC_STATUSES",
    "Document",
    "Eq",
    "Filter",
    "Hit",
    "In",
    "IndexNotConfigured",
    "IndexSettings",
    "IndexUnavailable",
    "Query",
    "QueryTerm",
    "Range",
    "SearchBackend",
    "SearchError",
    "SearchResults",
    "SearchableField",
    "Sort",
    "Suggestion",
    "UnknownBackend",
    "WriteOutcome",
    "create_backend",
]

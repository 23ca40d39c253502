"""Errors the search port raises."""

from __future__ import annotations


class SearchError(Exception):
    """Base class of every error raised by :mod:`search`."""


class UnknownBackend(SearchError):
    """The configured backend name is not in the registry."""


class IndexNotConfigured(SearchError):
    """An index was used before :meth:`SearchBackend.configure` gave it settings."""


class IndexUnavailable(SearchError):
    """The search service cannot be reached or answered with a server error.

    Raised by external backends on an outage so that the caller can queue the
    write and retry it later: a user's save must never be lost to an outage.
    """

"""Settings of the platform's two indexes (offerings, needs).

The app maps a listing to a document with these fields (see search/README.md);
search itself knows nothing of the app's models.
"""

from __future__ import annotations

from search.types import IndexSettings, SearchableField

SEARCHABLE = (
    SearchableField("title", 8.0),
    SearchableField("tags", 4.0),
    SearchableField("category_name", 3.0),
    SearchableField("summary", 2.0, crop=True),
    SearchableField("org_name", 1.5),
    SearchableField("description", 1.0, crop=True),
)
FILTERABLE = (
    "kind",
    "categories",
    "regions",
    "industries",
    "org_kind",
    "parks",
    "price_band",
    "price_min",
    "price_max",
    "status",
)
SORTABLE = ("published_at", "price_min")
INDEXES = ("offerings", "needs")


def listing_settings(synonyms: tuple[tuple[str, ...], ...] = ()) -> IndexSettings:
    """The settings both listing indexes use."""
    return IndexSettings(
        searchable=SEARCHABLE, filterable=FILTERABLE, sortable=SORTABLE, synonyms=synonyms
    )

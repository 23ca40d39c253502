"""Searching offerings and needs as the search page, the API and ``market search`` do.

One request shape (:class:`SearchRequest`: index, words, filters, sort, page) is read
from a page's query string (leniently: nonsense is dropped), from ``KEY=VALUE``
filter strings (strictly: an unknown key is an error) or built directly. Running
it gives the page of hits, each with its database record (only public records
are shown, whatever the index says), and facet counts.

Facets are disjunctive: the counts of a field ignore that field's own selection,
so ticking another value of it shows how many more results it would add, and a
value's count is exactly what selecting it (alone) returns.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from markupsafe import escape

from market.core.extensions import db
from market.listing_search import indexing
from market.listing_search import understanding as search_understanding
from market.listing_search.documents import PRICE_BANDS, Listing, load_by_refs
from search import Eq, Filter, In, Query, Sort
from search.listings import INDEXES
from search.understand import Understanding

# Query-string key → document field. The keys are what URLs, the API and the CLI use.
FILTER_FIELDS: dict[str, str] = {
    "kind": "kind",
    "category": "categories",
    "province": "regions",
    "industry": "industries",
    "org_kind": "org_kind",
    "price_band": "price_band",
    "park": "parks",
}
SORTS = ("relevance", "newest", "price")
QUERY_MAX = 200
VALUE_MAX = 64
VALUES_MAX = 20  # selected values per key
PER_PAGE_MAX = 100
WINDOW = 10_000  # the deepest result either backend pages to
CROP = 60
SUGGEST_LIMIT = 8

Filters = tuple[tuple[str, tuple[str, ...]], ...]


class FilterSyntaxError(ValueError):
    """A ``KEY=VALUE`` filter that cannot be used (its message says why, in English)."""


def clean_query(raw: str | None) -> str:
    """Whitespace collapsed, control characters dropped, at most :data:`QUERY_MAX` characters."""
    text = "".join(ch for ch in (raw or "") if unicodedata.category(ch) != "Cc" or ch in " \t")
    return " ".join(text.split())[:QUERY_MAX]


@dataclass(frozen=True)
class SearchRequest:
    """What to search: every part is valid (parsing drops or refuses the rest)."""

    index: str = "offerings"
    q: str = ""
    filters: Filters = ()
    sort: str = "relevance"
    page: int = 1
    per_page: int = 20
    correct: bool = True  # False: search the words as typed (「仍搜索 原词」)

    def selected(self, key: str) -> tuple[str, ...]:
        """The chosen values of filter ``key`` (empty when none)."""
        return dict(self.filters).get(key, ())

    @property
    def has_filters(self) -> bool:
        return bool(self.filters)

    def with_filter(self, key: str, values: Iterable[str]) -> SearchRequest:
        """This request with ``key`` set to ``values`` (none: removed), back on page 1."""
        chosen = tuple(dict.fromkeys(values))
        kept = [(k, v) for k, v in self.filters if k != key]
        if chosen:
            kept.append((key, chosen))
        order = list(FILTER_FIELDS)
        return replace(self, filters=tuple(sorted(kept, key=lambda kv: order.index(kv[0]))), page=1)

    def toggled(self, key: str, value: str) -> SearchRequest:
        """This request with ``value`` of ``key`` ticked if it was not, unticked if it was."""
        current = self.selected(key)
        if key == "category":
            return self.with_filter(key, _toggle_category(current, value))
        if value in current:
            return self.with_filter(key, [v for v in current if v != value])
        return self.with_filter(key, [*current, value])

    def url_args(self, **changes: Any) -> dict[str, Any]:
        """Query-string arguments for ``url_for`` (lists repeat the key); defaults left out."""
        req = replace(self, **changes) if changes else self
        args: dict[str, Any] = {}
        if req.index != "offerings":
            args["index"] = req.index
        if req.q:
            args["q"] = req.q
        for key, values in req.filters:
            args[key] = list(values)
        if req.sort != "relevance":
            args["sort"] = req.sort
        if req.page != 1:
            args["page"] = req.page
        if not req.correct:
            args["correct"] = 0
        return args


def _toggle_category(current: Sequence[str], code: str) -> list[str]:
    """The category tree drills down and up rather than adding up.

    Ticking a subcategory replaces its top level (narrower: 应用 → 智能质检); unticking
    the last ticked subcategory goes back to its top level; ticking a top level
    replaces its subcategories; unticking it drops the whole branch.
    """
    top = code.split(".", 1)[0]
    in_branch = [v for v in current if v == top or v.startswith(top + ".")]
    others = [v for v in current if v not in in_branch]
    if code == top:
        return others if code in current else [*others, top]
    if code in current:
        rest = [v for v in in_branch if v not in (code, top)]
        return [*others, *(rest or [top])]
    return [*others, *(v for v in in_branch if v != top), code]


def _page(raw: Any, per_page: int) -> int:
    try:
        page = int(str(raw or 1))
    except ValueError:
        return 1
    return page if 1 <= page <= max(1, WINDOW // per_page) else 1


def _values(raw: Iterable[Any]) -> tuple[str, ...]:
    values = [str(v).strip() for v in raw]
    return tuple(dict.fromkeys(v for v in values if v and len(v) <= VALUE_MAX))[:VALUES_MAX]


def from_args(args: Mapping[str, Any], per_page: int = 20) -> SearchRequest:
    """A request from a page's query string; anything unusable is dropped, never an error.

    ``args`` is a werkzeug MultiDict (repeated keys are several values) or a plain mapping.
    """

    def every(key: str) -> list[Any]:
        getlist = getattr(args, "getlist", None)
        if getlist is not None:
            return list(getlist(key))
        value = args.get(key)
        return (
            list(value) if isinstance(value, list | tuple) else ([] if value is None else [value])
        )

    index = str(args.get("index") or "offerings")
    sort = str(args.get("sort") or "relevance")
    filters = tuple((key, vals) for key in FILTER_FIELDS if (vals := _values(every(key))))
    return SearchRequest(
        index=index if index in INDEXES else "offerings",
        q=clean_query(str(args.get("q") or "")),
        filters=filters,
        sort=sort if sort in SORTS else "relevance",
        page=_page(args.get("page"), per_page),
        per_page=per_page,
        correct=str(args.get("correct") or "1") != "0",
    )


def parse_filters(pairs: Sequence[str]) -> Filters:
    """``["kind=solution", "province=江苏省", "kind=finance"]`` as filters (same key: any of).

    Raises:
        FilterSyntaxError: a pair has no ``=``, an unknown key, or an empty or too long value.
    """
    chosen: dict[str, list[str]] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key, value = key.strip(), value.strip()
        if not sep:
            raise FilterSyntaxError(f"filter {pair!r} is not KEY=VALUE")
        if key not in FILTER_FIELDS:
            raise FilterSyntaxError(
                f"unknown filter key {key!r}; use one of: {', '.join(FILTER_FIELDS)}"
            )
        if not value or len(value) > VALUE_MAX:
            raise FilterSyntaxError(f"filter {key!r} needs a value of 1 to {VALUE_MAX} characters")
        chosen.setdefault(key, [])
        if value not in chosen[key]:
            chosen[key].append(value)
    return tuple((key, tuple(chosen[key])) for key in FILTER_FIELDS if key in chosen)


def _engine_filters(filters: Filters, skip: str | None = None) -> list[Filter]:
    out: list[Filter] = []
    for key, values in filters:
        if key == skip:
            continue
        name = FILTER_FIELDS[key]
        out.append(Eq(name, values[0]) if len(values) == 1 else In(name, values))
    return out


def _sort(req: SearchRequest) -> Sort | None:
    if req.sort == "price":
        # Offerings: cheapest first. Needs: the biggest budget first, as on the needs list.
        return Sort("price_min", "asc" if req.index == "offerings" else "desc")
    if req.sort == "newest" or not req.q:
        return Sort("published_at", "desc")  # an empty query browses, newest first
    return None  # relevance


@dataclass(frozen=True)
class FacetValue:
    value: str
    count: int
    selected: bool


@dataclass(frozen=True)
class ResultItem:
    """One hit with its record. The ``*_html`` fields come from the search port, which
    HTML-escapes the text and adds only ``<mark>`` (templates may mark them safe)."""

    ref: str
    id: int
    score: float
    item: Listing
    title_html: str
    snippet_html: str
    tags_html: str


@dataclass(frozen=True)
class Chip:
    """A filter the words asked for (a place, a budget), shown so it can be removed:
    ``text`` as typed, ``label`` what it filters on, ``without`` the query without it."""

    kind: str  # "province" | "park" | "budget"
    text: str
    label: str
    without: str


@dataclass
class SearchOutcome:
    request: SearchRequest
    total: int
    items: list[ResultItem]
    facets: dict[str, list[FacetValue]] = field(default_factory=dict)
    understood: Understanding | None = None

    @property
    def chips(self) -> list[Chip]:
        u = self.understood
        if u is None:
            return []
        chips = [Chip(p.kind, p.text, p.label, u.without(p.text)) for p in u.places]
        if u.budget is not None:
            chips.append(Chip("budget", u.budget.text, u.budget.text, u.without(u.budget.text)))
        return chips

    @property
    def corrected(self) -> str | None:
        """The query as searched when it was corrected (「已显示 … 的结果」), else None."""
        u = self.understood
        return u.corrected if u is not None and u.corrections else None

    @property
    def pages(self) -> int:
        last = -(-self.total // self.request.per_page)
        return max(1, min(last, WINDOW // self.request.per_page))

    def category_tree(self) -> list[tuple[FacetValue, list[FacetValue]]]:
        """Top-level categories with counts, each with its subcategories once it (or
        one of them) is selected: the tree facet drills down."""
        values = self.facets.get("category", [])
        tree = []
        for top in (v for v in values if "." not in v.value):
            children = [v for v in values if v.value.startswith(top.value + ".")]
            open_ = top.selected or any(child.selected for child in children)
            tree.append((top, children if open_ else []))
        return tree


def _snippet(highlights: Mapping[str, str]) -> str:
    """The first cropped field that shows a match, else the summary, else the description."""
    for name in ("summary", "description"):
        if "<mark>" in highlights.get(name, ""):
            return highlights[name]
    return highlights.get("summary") or highlights.get("description") or ""


def _facet_values(key: str, counts: Mapping[str, int], req: SearchRequest) -> list[FacetValue]:
    chosen = req.selected(key)
    merged = dict(counts)
    for value in chosen:
        merged.setdefault(value, 0)  # a selected value stays visible (and untickable)
    if key == "price_band":
        order = {band: i for i, band in enumerate(PRICE_BANDS)}
        ranked = sorted(merged.items(), key=lambda kv: (order.get(kv[0], 99), kv[0]))
    else:
        ranked = sorted(merged.items(), key=lambda kv: (-kv[1], kv[0]))
    return [FacetValue(v, n, v in chosen) for v, n in ranked]


def _items(req: SearchRequest, hits: Sequence[Any]) -> list[ResultItem]:
    records = load_by_refs(db.session, req.index, [hit.id for hit in hits])
    items = []
    for hit in hits:
        record = records.get(hit.id)
        if record is None or not record.is_public:
            continue  # the index is behind the database: never show what is not public
        marks = hit.highlights
        items.append(
            ResultItem(
                ref=hit.id,
                id=record.id,
                score=hit.score,
                item=record,
                title_html=marks.get("title") or str(escape(record.title)),
                snippet_html=_snippet(marks),
                tags_html=marks.get("tags") or "",
            )
        )
    return items


def understand(req: SearchRequest) -> Understanding | None:
    """What the words of ``req`` mean (``None`` when there are none).

    Raises:
        IndexUnavailable: the search engine cannot be reached.
    """
    if not req.q:
        return None
    return search_understanding.understand(req.index, req.q, correct=req.correct)


def _query(understood: Understanding | None) -> Query | str:
    return understood.query if understood is not None else ""


def _filters(
    req: SearchRequest, understood: Understanding | None, skip: str | None = None
) -> list[Filter]:
    extra = search_understanding.engine_filters(understood) if understood is not None else []
    return [*_engine_filters(req.filters, skip), *extra]


def run(req: SearchRequest, *, facets: bool = True) -> SearchOutcome:
    """One page of results for ``req`` (with facet counts unless ``facets`` is False).

    The words are understood first (search/understand.py): places and a budget
    they name filter the results (the outcome's chips say so), a typo is corrected
    when the index holds the corrected word (unless ``req.correct`` is False).

    Raises:
        IndexUnavailable: the search engine cannot be reached.
        SearchError: the engine failed otherwise.
    """
    backend = indexing.backend()
    understood = understand(req)
    query = _query(understood)
    unfiltered = [key for key in FILTER_FIELDS if not req.selected(key)] if facets else []
    main = backend.search(
        req.index,
        query,
        filters=_filters(req, understood),
        facets=[FILTER_FIELDS[key] for key in unfiltered],
        sort=_sort(req),
        page=req.page,
        per_page=req.per_page,
        crop_length=CROP,
    )
    counts = {key: main.facets.get(FILTER_FIELDS[key], {}) for key in unfiltered}
    if facets:
        for key, _values in req.filters:
            name = FILTER_FIELDS[key]
            res = backend.search(
                req.index,
                query,
                filters=_filters(req, understood, skip=key),
                facets=[name],
                per_page=1,
            )
            counts[key] = res.facets.get(name, {})
    return SearchOutcome(
        request=req,
        total=main.total,
        items=_items(req, main.hits),
        facets={
            key: _facet_values(key, counts[key], req) for key in FILTER_FIELDS if key in counts
        },
        understood=understood,
    )


def count(req: SearchRequest) -> int:
    """How many results ``req`` has (no facets, no records loaded)."""
    understood = understand(req)
    res = indexing.backend().search(
        req.index, _query(understood), filters=_filters(req, understood), per_page=1
    )
    return res.total

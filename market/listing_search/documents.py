"""Offerings and needs as search documents (the fields search/README.md lists).

``search`` knows nothing of the models; this module is the one place that says
what a listing looks like to it. A record that is not public maps to a document
whose ``status`` is not public, which every backend treats as a delete.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, scoped_session, selectinload

from market.core import reference
from market.models import Need, Offering

Listing = Offering | Need
DbSession = Session | scoped_session[Any]  # a worker's own session, or db.session
INDEX_MODELS: dict[str, type[Offering] | type[Need]] = {"offerings": Offering, "needs": Need}
# Rows loaded per query while streaming a whole table into the index.
BATCH = 1000
PRICE_BANDS = ("<5万", "5-20万", "20-100万", ">100万", "面议")


def index_of(item: Listing) -> str:
    """``offerings`` or ``needs``: the index a listing lives in."""
    return "offerings" if isinstance(item, Offering) else "needs"


def price_band(price: int | None) -> str:
    """The price band facet value of a (minimum) price in yuan; 面议 when there is none."""
    if price is None:
        return "面议"
    if price < 50_000:
        return "<5万"
    if price < 200_000:
        return "5-20万"
    if price < 1_000_000:
        return "20-100万"
    return ">100万"


def category_path(code: str) -> tuple[list[str], str]:
    """The category codes of the tree facet (top, then leaf) and their names joined.

    ``application.quality`` gives (["application", "application.quality"], "应用 智能质检"):
    the names make 应用 or 质检 find the listing, the codes drive the facet.
    """
    top = code.split(".", 1)[0]
    codes = list(dict.fromkeys([top, code]))
    names = [reference.categories()[c].name for c in codes if c in reference.categories()]
    return codes, " ".join(names)


def _regions(item: Offering) -> list[str]:
    """Provinces an offering serves: its regions, its parks' provinces, else its org's.

    全国 stands for every province, so filtering on 江苏省 also finds nationwide
    offerings and the facet count matches what the filter returns.
    """
    regions = list(dict.fromkeys([*item.regions, *(p.province for p in item.parks)]))
    if reference.NATIONWIDE in regions:
        regions = list(dict.fromkeys([*regions, *reference.provinces()]))
    if not regions and item.org.province:
        regions = [item.org.province]
    return regions


def _common(item: Listing) -> dict[str, Any]:
    codes, names = category_path(item.category)
    published = item.published_at
    return {
        "id": item.ref,
        "kind": item.kind,
        "title": item.title,
        "description": item.description or "",
        "tags": list(item.tags or []),
        "org_name": item.org.name,
        "org_kind": item.org.kind,
        "category_name": names,
        "categories": codes,
        "industries": list(item.industries or []),
        "published_at": int(published.timestamp()) if published is not None else None,
        # Public records keep their live status; anything else (draft, pending,
        # expired …) is not public, so a backend removes it instead of indexing it.
        "status": item.status if item.is_public else item.display_status,
    }


def offering_document(item: Offering) -> dict[str, Any]:
    """An offering as a document of the ``offerings`` index."""
    low = item.price_min
    return {
        **_common(item),
        "summary": item.summary or "",
        "regions": _regions(item),
        "parks": [p.ref for p in item.parks if p.ref],
        "price_min": low,
        "price_max": item.price_max,
        "price_band": price_band(low if low is not None else item.price_max),
    }


def need_document(item: Need) -> dict[str, Any]:
    """A need as a document of the ``needs`` index (its budget is the price)."""
    low = item.budget_min
    province = item.park.province if item.park is not None else item.org.province
    return {
        **_common(item),
        "summary": "",
        "regions": [province] if province else [],
        "parks": [item.park.ref] if item.park is not None and item.park.ref else [],
        "price_min": low,
        "price_max": item.budget_max,
        "price_band": price_band(low if low is not None else item.budget_max),
    }


def document(item: Listing) -> dict[str, Any]:
    """The search document of an offering or a need."""
    return offering_document(item) if isinstance(item, Offering) else need_document(item)


def _loaded(index: str) -> Any:
    model = INDEX_MODELS[index]
    related = (Offering.org, Offering.parks) if model is Offering else (Need.org, Need.park)
    return select(model).options(*(selectinload(rel) for rel in related))


def load_by_refs(session: DbSession, index: str, refs: Sequence[str]) -> dict[str, Listing]:
    """The listings of ``index`` with these refs (any status), keyed by ref."""
    model = INDEX_MODELS[index]
    found: dict[str, Listing] = {}
    for start in range(0, len(refs), BATCH):
        chunk = list(refs[start : start + BATCH])
        for item in session.scalars(_loaded(index).where(model.ref.in_(chunk))):
            found[str(item.ref)] = item
    return found


def public_documents(session: DbSession, index: str) -> Iterator[dict[str, Any]]:
    """Every public listing of ``index`` as a document, streamed in batches by id."""
    model = INDEX_MODELS[index]
    last = 0
    while True:
        stmt = (
            _loaded(index)
            .where(model.public_clause(), model.id > last)
            .order_by(model.id)
            .limit(BATCH)
        )
        rows: list[Listing] = list(session.scalars(stmt))
        if not rows:
            return
        for item in rows:
            yield document(item)
        last = rows[-1].id
        # Keep memory flat over a million rows: this batch is not needed any more
        # (organizations and parks stay: there are few of them and they repeat).
        for item in rows:
            session.expunge(item)


def public_count(session: DbSession, index: str) -> int:
    """How many public listings ``index`` should hold."""
    model = INDEX_MODELS[index]
    return int(session.scalar(select(func.count()).where(model.public_clause())) or 0)


def public_refs(session: DbSession, index: str) -> set[str]:
    """The refs of every public listing of ``index``."""
    model = INDEX_MODELS[index]
    return {str(r) for r in session.scalars(select(model.ref).where(model.public_clause()))}

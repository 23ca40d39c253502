"""How catalogue entries read: the edition's label, the columns of each side, live links.

The web page, XLSX, CSV and PDF all take their columns from here, so every format
says the same thing about an entry.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from market.catalogue.compile import ordered_sections
from market.core.extensions import db
from market.core.i18n import category_label, locale_code, money, province_label
from market.models import CatalogueEdition, CatalogueEntry, Need, Offering
from market.parks import service as park_service

CHUNK = 500
TEXT_MAX = 500

SIDE_LABELS: dict[str, Any] = {"supply": _l("供给"), "demand": _l("需求")}
STATUS_LABELS: dict[str, Any] = {
    "draft": _l("草稿"),
    "scheduled": _l("定时发布"),
    "published": _l("已发布"),
    "withdrawn": _l("已撤回"),
}
TRAINING_MODE_LABELS: dict[str, Any] = {
    "online": _l("线上"),
    "offline": _l("线下"),
    "hybrid": _l("线上+线下"),
}


@dataclass(frozen=True)
class Column:
    key: str
    header: Any  # lazy string
    width: int  # characters, for XLSX; PDF widths are relative to these


SUPPLY_COLUMNS = (
    Column("position", _l("序号"), 6),
    Column("ref", _l("编号"), 12),
    Column("title", _l("名称"), 36),
    Column("category", _l("类别"), 16),
    Column("org", _l("提供方"), 28),
    Column("regions", _l("服务地区"), 20),
    Column("terms", _l("参考价格/条件"), 24),
    Column("summary", _l("简介"), 50),
)
DEMAND_COLUMNS = (
    Column("position", _l("序号"), 6),
    Column("ref", _l("编号"), 12),
    Column("title", _l("需求名称"), 36),
    Column("category", _l("类别"), 16),
    Column("org", _l("需求方"), 28),
    Column("park", _l("所在园区"), 20),
    Column("terms", _l("预算"), 24),
    Column("deadline", _l("截止日期"), 12),
    Column("summary", _l("需求描述"), 50),
)


def columns(side: str) -> tuple[Column, ...]:
    return SUPPLY_COLUMNS if side == "supply" else DEMAND_COLUMNS


def label(edition: CatalogueEdition) -> str:
    """「2026 年第 3 期」 for a published edition, 草稿 for one that has no number yet."""
    if edition.number is None or edition.year is None:
        return _("草稿")
    return _("%(year)d 年第 %(number)d 期", year=edition.year, number=edition.number)


def status_label(status: str) -> str:
    return str(STATUS_LABELS.get(status, status))


def side_label(side: str) -> str:
    return str(SIDE_LABELS.get(side, side))


def _short(text: str, limit: int = TEXT_MAX) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Formatter:
    """Turns entries into cells. Labels, translations and amounts are looked up once per
    formatter, not once per cell: a 10,000-entry edition has 80,000 cells, and Babel's
    locale lookup and number formatting cost more than everything else together."""

    def __init__(self) -> None:
        self.zh = locale_code().startswith("zh")
        self._categories: dict[str, str] = {}
        self._provinces: dict[str, str] = {}
        self._money: dict[float, str] = {}
        self.t_amount = _("额度 %(amount)s")
        self.t_rate = _("年利率 %(rate)s")
        self.t_term_max = _("期限 %(n)d 个月以内")
        self.t_starts = _("%(day)s 开课")
        self.t_financing = _("融资 %(amount)s")
        self.t_term = _("期限 %(n)d 个月")
        self.negotiable = _("面议")
        self.modes = {k: str(v) for k, v in TRAINING_MODE_LABELS.items()}

    def category(self, code: str) -> str:
        label = self._categories.get(code)
        if label is None:
            label = self._categories[code] = category_label(code)
        return label

    def province(self, name: str) -> str:
        label = self._provinces.get(name)
        if label is None:
            label = self._provinces[name] = province_label(name)
        return label

    def money(self, value: float) -> str:
        text = self._money.get(value)
        if text is None:
            if self.zh:
                # What i18n.money writes for Chinese ('#,##0.##' 万元 / '#,##0' 元), without Babel.
                if abs(value) >= 10_000:
                    text = f"{value / 10_000:,.2f}".rstrip("0").rstrip(".") + " 万元"
                else:
                    text = f"{round(value):,} 元"
            else:
                text = money(value)
            self._money[value] = text
        return text

    def money_range(self, low: float | None, high: float | None) -> str:
        if low is None and high is None:
            return ""
        if low is None:
            return f"≤ {self.money(high)}"  # type: ignore[arg-type]
        if high is None:
            return f"≥ {self.money(low)}"
        return self.money(low) if low == high else f"{self.money(low)} – {self.money(high)}"

    def supply_terms(self, record: dict[str, Any]) -> str:
        parts = []
        price = self.money_range(record.get("price_min"), record.get("price_max"))
        if price:
            unit = record.get("price_unit")
            parts.append(price + ("/" + unit.split("/", 1)[-1] if unit and "/" in unit else ""))
        amount = self.money_range(record.get("amount_min"), record.get("amount_max"))
        if amount:
            parts.append(self.t_amount % {"amount": amount})
        low, high = record.get("rate_min"), record.get("rate_max")
        if low is not None or high is not None:
            rate = "–".join(f"{v:g}%" for v in dict.fromkeys((low, high)) if v is not None)
            parts.append(self.t_rate % {"rate": rate})
        if record.get("term_months_max"):
            parts.append(self.t_term_max % {"n": record["term_months_max"]})
        if record.get("starts_on"):
            parts.append(self.t_starts % {"day": record["starts_on"]})
        if record.get("mode"):
            parts.append(self.modes.get(record["mode"], record["mode"]))
        return "；".join(parts) or self.negotiable

    def demand_terms(self, record: dict[str, Any]) -> str:
        parts = []
        budget = self.money_range(record.get("budget_min"), record.get("budget_max"))
        if budget:
            parts.append(budget)
        if record.get("amount"):
            parts.append(self.t_financing % {"amount": self.money(record["amount"])})
        if record.get("term_months"):
            parts.append(self.t_term % {"n": record["term_months"]})
        return "；".join(parts) or self.negotiable

    def values(self, entry: CatalogueEntry, text_max: int = TEXT_MAX) -> dict[str, str]:
        """The entry's cells, keyed like ``columns(entry.side)``."""
        record = entry.record or {}
        parks = {str(p.get("ref")): str(p.get("name", "")) for p in entry.parks or []}
        common = {
            "position": str(entry.position),
            "ref": entry.listing_ref,
            "title": entry.title,
            "category": self.category(entry.category),
            "org": entry.org_name,
        }
        if entry.side == "supply":
            regions = [self.province(r) for r in record.get("regions", [])]
            regions += [parks.get(ref, ref) for ref in record.get("parks", [])]
            summary = record.get("summary") or record.get("description", "")
            return {
                **common,
                "regions": "、".join(regions),
                "terms": self.supply_terms(record),
                "summary": _short(summary, text_max),
            }
        return {
            **common,
            "park": parks.get(str(record.get("park")), str(record.get("park", ""))),
            "terms": self.demand_terms(record),
            "deadline": str(record.get("deadline", "")),
            "summary": _short(record.get("description", ""), text_max),
        }


def values(entry: CatalogueEntry, text_max: int = TEXT_MAX) -> dict[str, str]:
    """The entry's cells, keyed like ``columns(entry.side)`` (one entry: see Formatter)."""
    return Formatter().values(entry, text_max)


def table(
    entries: Iterable[CatalogueEntry], side: str, text_max: int = TEXT_MAX
) -> list[list[str]]:
    """The side's rows as lists of cells in column order."""
    keys = [c.key for c in columns(side)]
    fmt = Formatter()
    return [
        [cells[k] for k in keys]
        for cells in (fmt.values(e, text_max) for e in entries if e.side == side)
    ]


@dataclass
class Section:
    """One category section of one side: its top-level code and its entries in order."""

    side: str
    code: str
    entries: list[CatalogueEntry]

    @property
    def anchor(self) -> str:
        return f"{self.side}-{self.code}"


def sections(entries: Sequence[CatalogueEntry], order: Sequence[str]) -> list[Section]:
    """Entries grouped by side (supply first) and top-level category in ``order``."""
    groups: dict[tuple[str, str], list[CatalogueEntry]] = {}
    for entry in entries:
        groups.setdefault((entry.side, entry.section), []).append(entry)
    out = []
    for side in ("supply", "demand"):
        for code in order:
            if (side, code) in groups:
                out.append(Section(side, code, groups[(side, code)]))
        for (s, code), items in groups.items():
            if s == side and code not in order:
                out.append(Section(side, code, items))
    return out


def section_order(edition: CatalogueEdition) -> list[str]:
    """The edition's section order, cleaned (unknown codes out, missing ones appended)."""
    return ordered_sections(edition.section_order or [])


def live_refs(entries: Iterable[CatalogueEntry]) -> set[str]:
    """Refs of the entries whose listing is still public (linked; the rest read 已下架)."""
    offering_refs = sorted({e.listing_ref for e in entries if e.side == "supply"})
    need_refs = sorted({e.listing_ref for e in entries if e.side == "demand"})
    live: set[str] = set()
    for model, refs in ((Offering, offering_refs), (Need, need_refs)):
        for start in range(0, len(refs), CHUNK):
            chunk = refs[start : start + CHUNK]
            stmt = select(model.ref).where(model.ref.in_(chunk), model.public_clause())
            live.update(str(ref) for ref in db.session.scalars(stmt))
    return live


def top_label(code: str) -> str:
    return category_label(park_service.top_category(code))

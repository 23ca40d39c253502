"""Plain data the matcher reads and the results it returns.

``market`` adapts its models to these records (see ``market/recommendations/records.py``);
nothing here knows about Flask, SQLAlchemy or the database.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class Provider:
    """The organization behind an offering."""

    id: int
    kind: str  # solution_provider | financial_institution | training_body | park_operator
    verified: bool
    province: str | None = None
    # Share (0..1) of docking requests it answered (accepted or declined) within 7 days;
    # None when it has received fewer than 3 requests (no record to judge).
    response_rate: float | None = None


@dataclass(frozen=True, slots=True)
class Enterprise:
    """The organization behind a need."""

    id: int
    size: str | None  # large | medium | small | micro
    province: str | None
    park_id: int | None
    industries: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class OfferingRecord:
    id: int
    ref: str
    org_id: int
    kind: str  # solution | finance | training
    category: str  # a leaf code or a top-level code
    title: str
    text: str  # summary + description
    tags: tuple[str, ...] = ()
    industries: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()  # provinces or ("全国",)
    park_ids: frozenset[int] = frozenset()
    price_min: int | None = None
    price_max: int | None = None
    amount_min: int | None = None  # finance
    amount_max: int | None = None
    eligible_sizes: tuple[str, ...] = ()  # finance; empty = every size
    starts_on: date | None = None  # training
    public: bool = True  # published and not expired
    published_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class NeedRecord:
    id: int
    ref: str
    org_id: int
    park_id: int
    province: str  # the park's province
    kind: str  # solution | finance | training
    category: str
    title: str
    text: str  # description
    tags: tuple[str, ...] = ()
    industries: tuple[str, ...] = ()
    budget_min: int | None = None
    budget_max: int | None = None
    amount: int | None = None  # finance: the financing sought
    term_months: int | None = None
    open: bool = True  # open and not past its deadline
    published_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Part:
    """One rule's contribution to a score, with what a reason sentence needs to say why.

    ``params`` holds plain JSON values only (str, int, float, bool, lists of them),
    so parts can be stored as JSON and rendered in any language later.
    """

    rule: str
    points: float
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Match:
    need_id: int
    offering_id: int
    score: float  # 0..100, the sum of the parts' points, rounded to one decimal
    parts: tuple[Part, ...]

"""The five record types of the data format, keys in the order data-format.md lists
them, and the rules that look at several keys of one record."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Collection, Mapping
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from market.core import reference
from market.dataset.records import (
    _FINANCE,
    _TRAINING,
    MAX_TERM_MONTHS,
    NEED_STATUSES,
    OFFERING_STATUSES,
    TAGS_MAX,
    Field,
    Integer,
    Invalid,
    RecordError,
    Validated,
    boolean,
    category,
    email,
    industry,
    integer,
    iso_date,
    list_of,
    one_of,
    province,
    rate,
    ref,
    region,
    social_credit_code,
    tag,
    text,
)
from market.models.listing import OFFERING_KINDS, TRAINING_MODES
from market.models.organization import ORG_KINDS, ORG_SIZES, PARK_BOUND_KINDS
from market.models.park import PARK_LEVELS, ZONE_TYPES
from market.models.user import ROLES

# --- the five record types, keys in the order data-format.md lists them ---------
# (``status`` last: the format describes it after the finance and training keys.)

SCHEMAS: dict[str, tuple[Field, ...]] = {
    "parks": (
        Field("ref", ref, required=True),
        Field("name", text(200), required=True),
        Field("province", province, required=True),
        Field("city", text(64)),
        Field("level", one_of(PARK_LEVELS), required=True),
        Field("zone_type", one_of(ZONE_TYPES), required=True),
        Field("industries", list_of(industry), "list"),
        Field("description", text(5000, multiline=True)),
    ),
    "organizations": (
        Field("ref", ref, required=True),
        Field("name", text(200), required=True),
        Field("kind", one_of(ORG_KINDS), required=True),
        Field("credit_code", social_credit_code),
        Field("province", province),
        Field("city", text(64)),
        Field("park", ref),
        Field("size", one_of(ORG_SIZES)),
        Field("industries", list_of(industry), "list"),
        Field("description", text(5000, multiline=True)),
        Field("verified", boolean, "bool"),
    ),
    "offerings": (
        Field("ref", ref, required=True),
        Field("org", ref, required=True),
        Field("kind", one_of(OFFERING_KINDS), required=True),
        Field("category", category, required=True),
        Field("title", text(200), required=True),
        Field("summary", text(500, multiline=True)),
        Field("description", text(20000, multiline=True)),
        Field("tags", list_of(tag, max_items=TAGS_MAX), "list"),
        Field("industries", list_of(industry), "list"),
        Field("regions", list_of(region, unique=True), "list"),
        Field("parks", list_of(ref, unique=True), "list"),
        Field("price_min", integer, "integer"),
        Field("price_max", integer, "integer"),
        Field("price_unit", text(32)),
        Field("amount_min", integer, "integer", kinds=_FINANCE),
        Field("amount_max", integer, "integer", kinds=_FINANCE),
        Field("rate_min", rate, "number", kinds=_FINANCE),
        Field("rate_max", rate, "number", kinds=_FINANCE),
        Field("term_months_max", Integer(1, MAX_TERM_MONTHS), "integer", kinds=_FINANCE),
        Field("eligible_sizes", list_of(one_of(ORG_SIZES), unique=True), "list", kinds=_FINANCE),
        Field("mode", one_of(TRAINING_MODES), kinds=_TRAINING),
        Field("starts_on", iso_date, "date", kinds=_TRAINING),
        Field("capacity", Integer(1), "integer", kinds=_TRAINING),
        Field("certificate", text(200), kinds=_TRAINING),
        Field("status", one_of(OFFERING_STATUSES)),
    ),
    "needs": (
        Field("ref", ref, required=True),
        Field("org", ref, required=True),
        Field("park", ref, required=True),
        Field("kind", one_of(OFFERING_KINDS), required=True),
        Field("category", category, required=True),
        Field("title", text(200), required=True),
        Field("description", text(20000, multiline=True)),
        Field("tags", list_of(tag, max_items=TAGS_MAX), "list"),
        Field("industries", list_of(industry), "list"),
        Field("budget_min", integer, "integer"),
        Field("budget_max", integer, "integer"),
        Field("deadline", iso_date, "date"),
        Field("amount", integer, "integer", kinds=_FINANCE),
        Field("term_months", Integer(1, MAX_TERM_MONTHS), "integer", kinds=_FINANCE),
        Field("status", one_of(NEED_STATUSES)),
    ),
    "users": (
        Field("ref", ref, required=True),
        Field("email", email, required=True),
        Field("name", text(100), required=True),
        Field("org", ref),
        Field("role", one_of(ROLES)),
        Field("password", text(256)),
    ),
}

# (low key, high key, message) pairs that must satisfy low <= high.
RANGES: dict[str, tuple[tuple[str, str, Any], ...]] = {
    "offerings": (
        ("price_min", "price_max", _l("最低价格不能高于最高价格")),
        ("amount_min", "amount_max", _l("最低额度不能高于最高额度")),
        ("rate_min", "rate_max", _l("最低利率不能高于最高利率")),
    ),
    "needs": (("budget_min", "budget_max", _l("最低预算不能高于最高预算")),),
}

_KIND_ONLY = {
    "finance": _l("仅金融类（finance）条目可以填写此项"),
    "training": _l("仅培训类（training）条目可以填写此项"),
}


def keys(file: str) -> tuple[str, ...]:
    """The keys of ``file``'s records in the order export writes them."""
    return tuple(f.key for f in SCHEMAS[file])


def shape(file: str, key: str) -> str:
    """What a cell for ``key`` holds: text, integer, number, date, bool or list."""
    return field_of(file, key).shape


def field_of(file: str, key: str) -> Field:
    """The schema's entry for ``key`` of ``file``; raises KeyError for an unknown key."""
    for spec in SCHEMAS[file]:
        if spec.key == key:
            return spec
    raise KeyError(f"{file} has no key {key!r}")


def check(file: str, key: str, value: Any) -> Any:
    """``value`` checked and normalised by the rule for ``key`` of ``file``.

    The forms and the listing services call this, the import and bulk upload call
    ``validate``: one rule each way. Raises Invalid (with the message) when it fails.
    """
    return field_of(file, key).check(value)


def label(record: Any, position: int | None) -> str | None:
    """How errors name a record: its ref, else its position in the file."""
    value = record.get("ref") if isinstance(record, Mapping) else None
    if isinstance(value, str) and value:
        return value
    return _("第 %(n)d 条", n=position) if position is not None else None


def validate(
    file: str, record: Any, *, position: int | None = None, required: Collection[str] = ()
) -> Validated:
    """Check one record of ``file`` (parks, organizations, offerings, needs, users).

    ``required`` names keys the caller demands beyond the format's own (bulk upload
    wants a description). Returns the keys that passed, normalised (dates as
    ``date``, codes upper-case), and every error found; never raises for bad input.
    """
    name = f"{file}.json"
    where = label(record, position)
    result = Validated()

    def error(key: str | None, message: Any) -> None:
        result.errors.append(RecordError(name, where, key, str(message)))

    if not isinstance(record, Mapping):
        error(None, _("每条记录应为 JSON 对象（{…}）"))
        return result
    schema = SCHEMAS[file]
    known = {f.key for f in schema}
    for key in record:
        if key not in known:
            error(str(key), _unknown_key(str(key), known))
    for spec in schema:
        value = record.get(spec.key)
        # An empty optional value means "not given": it must not, say, store "" as
        # a credit code (unique) or trip the finance-only rule.
        if _is_empty(value):
            if spec.required or spec.key in required:
                error(spec.key, _("必填项不能为空"))
            continue
        try:
            result.clean[spec.key] = spec.check(value)
        except Invalid as exc:
            error(spec.key, exc.message)
    for rule in _RULES.get(file, ()):
        for key, message in rule(result.clean, record):
            error(key, message)
    return result


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _unknown_key(key: str, known: Collection[str]) -> str:
    close = difflib.get_close_matches(key, list(known), n=1)
    if close:
        return _("未知字段（是否应为 %(key)s？）", key=close[0])
    return _("未知字段")


# --- rules that look at several keys of one record --------------------------------

Rule = Callable[[dict[str, Any], Mapping[str, Any]], list[tuple[str, str]]]


def _ranges(file: str) -> Rule:
    def rule(clean: dict[str, Any], _record: Mapping[str, Any]) -> list[tuple[str, str]]:
        out = []
        for low, high, message in RANGES[file]:
            if (
                clean.get(low) is not None
                and clean.get(high) is not None
                and clean[low] > clean[high]
            ):
                out.append((low, str(message)))
        return out

    return rule


def _kind_matches_category(
    clean: dict[str, Any], _record: Mapping[str, Any]
) -> list[tuple[str, str]]:
    kind, code = clean.get("kind"), clean.get("category")
    if kind is None or code is None:
        return []
    wanted = reference.category_kind(code)
    if wanted is not None and wanted != kind:
        return [
            (
                "kind",
                _(
                    "类型 %(kind)s 与分类 %(code)s 不符（该分类应为 %(wanted)s）",
                    kind=kind,
                    code=code,
                    wanted=wanted,
                ),
            )
        ]
    return []


def _kind_only_keys(file: str) -> Rule:
    def rule(clean: dict[str, Any], record: Mapping[str, Any]) -> list[tuple[str, str]]:
        kind = clean.get("kind")
        if kind is None:
            return []
        return [
            (spec.key, str(_KIND_ONLY[next(iter(spec.kinds))]))
            for spec in SCHEMAS[file]
            if spec.kinds and kind not in spec.kinds and not _is_empty(record.get(spec.key))
        ]

    return rule


def _park_bound(clean: dict[str, Any], record: Mapping[str, Any]) -> list[tuple[str, str]]:
    if clean.get("kind") in PARK_BOUND_KINDS and _is_empty(record.get("park")):
        return [("park", _("园区企业和园区运营机构必须填写所属园区"))]
    return []


def _user_org(clean: dict[str, Any], record: Mapping[str, Any]) -> list[tuple[str, str]]:
    if clean.get("role", "member") != "admin" and _is_empty(record.get("org")):
        return [("org", _("除平台管理员外，用户必须属于一个机构"))]
    return []


_RULES: dict[str, tuple[Rule, ...]] = {
    "organizations": (_park_bound,),
    "offerings": (_ranges("offerings"), _kind_matches_category, _kind_only_keys("offerings")),
    "needs": (_ranges("needs"), _kind_matches_category, _kind_only_keys("needs")),
    "users": (_user_org,),
}

"""Listing values from form data, read, normalised and checked (see below)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from market.core import reference
from market.core.errors import DomainError
from market.core.extensions import db
from market.dataset import records, schema
from market.dataset.records import split_tags
from market.models import Need, Organization, Park, utcnow
from market.models.listing import TRAINING_MODES
from market.models.organization import ORG_SIZES

# --- Creating and editing listings from form data -------------------------------------------
#
# The views hand over ``form.data``; the rules are checked here again so that every
# caller (web form, upload, API) gets the same answer. Values are validated in full
# before anything is assigned, so a rejected edit leaves the record untouched.

TAG_MAX_LENGTH = records.TAG_MAX_LENGTH
TAGS_MAX = records.TAGS_MAX
TITLE_MAX_LENGTH = 200
ORG_SIZES_SET = frozenset(ORG_SIZES)
FINANCE_FIELDS = (
    "amount_min",
    "amount_max",
    "rate_min",
    "rate_max",
    "term_months_max",
    "eligible_sizes",
)
TRAINING_FIELDS = ("mode", "starts_on", "capacity", "certificate")


def _text(data: Mapping[str, Any], key: str) -> str:
    return str(data.get(key) or "").strip()


def _number(data: Mapping[str, Any], key: str, kind: type[int] | type[float]) -> Any:
    value = data.get(key)
    if value is None or value == "":
        return None
    try:
        return kind(value)
    except (TypeError, ValueError):
        raise DomainError(_("“%(value)s”不是有效的数字。", value=value)) from None


def _int(data: Mapping[str, Any], key: str) -> int | None:
    number: int | None = _number(data, key, int)
    return number


def _float(data: Mapping[str, Any], key: str) -> float | None:
    number: float | None = _number(data, key, float)
    return number


def _date(data: Mapping[str, Any], key: str, message: str) -> date | None:
    value = data.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, date):
        raise DomainError(message)
    return value


def _non_negative(*values: float | None) -> None:
    if any(v is not None and v < 0 for v in values):
        raise DomainError(_("金额、利率和数量不能为负数。"))


def _check_range(low: float | None, high: float | None, message: str) -> None:
    """Raise DomainError with ``message`` when low > high (or either is negative)."""
    _non_negative(low, high)
    if low is not None and high is not None and low > high:
        raise DomainError(message)


def _codes(
    data: Mapping[str, Any], key: str, valid: Callable[[str], bool], message: str
) -> list[str]:
    """The distinct codes under ``key``; raises DomainError naming the first invalid one."""
    raw = data.get(key) or []
    values: list[str] = []
    for value in [raw] if isinstance(raw, str) else raw:
        if not valid(value):
            raise DomainError(message % {"value": value})
        if value not in values:
            values.append(value)
    return values


def _category(data: Mapping[str, Any]) -> str:
    category = _text(data, "category")
    if category not in reference.categories():
        raise DomainError(_("请选择一个有效的类别。"))
    return category


def _title(data: Mapping[str, Any]) -> str:
    title = _text(data, "title")
    if not title:
        raise DomainError(_("请填写标题。"))
    if len(title) > TITLE_MAX_LENGTH:
        raise DomainError(_("标题不超过 %(n)d 个字。", n=TITLE_MAX_LENGTH))
    return title


def parks_by_ref(refs: Iterable[str]) -> list[Park]:
    wanted = list(dict.fromkeys(refs))
    if not wanted:
        return []
    found = {p.ref: p for p in db.session.scalars(select(Park).where(Park.ref.in_(wanted)))}
    missing = [ref for ref in wanted if ref not in found]
    if missing:
        raise DomainError(_("园区不存在：%(ref)s", ref=missing[0]))
    return [found[ref] for ref in wanted]


def _common_values(data: Mapping[str, Any]) -> dict[str, Any]:
    """Fields offerings and needs share: title, category, description, tags, industries."""
    return {
        "title": _title(data),
        "category": _category(data),
        "description": _text(data, "description"),
        "tags": split_tags(data.get("tags")),
        "industries": _codes(
            data, "industries", reference.industries().__contains__, _("未知的行业代码：%(value)s")
        ),
    }


def offering_values(org: Organization, data: Mapping[str, Any]) -> dict[str, Any]:
    """Validated column values for an offering of ``org``; raises DomainError on the first fault."""
    values = _common_values(data)
    kind = _text(data, "kind") or reference.category_kind(values["category"]) or ""
    if kind not in org.offering_kinds:
        raise DomainError(_("本机构不能发布这一类型的供给。"))
    if reference.category_kind(values["category"]) != kind:
        raise DomainError(_("所选类别与供给类型不一致。"))
    values.update(
        kind=kind,
        summary=_text(data, "summary"),
        regions=_codes(data, "regions", reference.is_region, _("未知的地区：%(value)s")),
        price_min=_int(data, "price_min"),
        price_max=_int(data, "price_max"),
        price_unit=_text(data, "price_unit") or None,
    )
    _check_range(values["price_min"], values["price_max"], _("最低价格不能高于最高价格。"))
    values.update(_finance_values(data) if kind == "finance" else dict.fromkeys(FINANCE_FIELDS))
    values["eligible_sizes"] = values["eligible_sizes"] or []
    values.update(_training_values(data) if kind == "training" else dict.fromkeys(TRAINING_FIELDS))
    _check_format("offerings", values)
    return values


def _finance_values(data: Mapping[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {
        "amount_min": _int(data, "amount_min"),
        "amount_max": _int(data, "amount_max"),
        "rate_min": _float(data, "rate_min"),
        "rate_max": _float(data, "rate_max"),
        "term_months_max": _int(data, "term_months_max"),
        "eligible_sizes": _codes(
            data, "eligible_sizes", ORG_SIZES_SET.__contains__, _("未知的企业规模：%(value)s")
        ),
    }
    _check_range(values["amount_min"], values["amount_max"], _("最低金额不能高于最高金额。"))
    _check_range(values["rate_min"], values["rate_max"], _("最低利率不能高于最高利率。"))
    return values


def _training_values(data: Mapping[str, Any]) -> dict[str, Any]:
    mode = _text(data, "mode") or None
    if mode is not None and mode not in TRAINING_MODES:
        raise DomainError(_("未知的培训方式。"))
    starts_on = _date(data, "starts_on", _("开班日期格式应为 2026-11-24。"))
    capacity = _int(data, "capacity")
    if capacity is not None and capacity < 1:
        raise DomainError(_("招生人数至少为 1。"))
    return {
        "mode": mode,
        "starts_on": starts_on,
        "capacity": capacity,
        "certificate": _text(data, "certificate") or None,
    }


def _need_park(org: Organization, data: Mapping[str, Any], current: Need | None) -> Park:
    """The park a need is filed into: the enterprise's own for a new need, the one it is
    in when edited (park staff may have moved it, see ``move_need``). Naming another
    park is refused: the enterprise cannot fill another park's moderation queue."""
    park = current.park if current is not None else org.park
    if park is None:
        raise DomainError(_("贵机构尚未登记所在园区，请先在机构资料中填写，再发布需求。"))
    wanted = _text(data, "park")
    if wanted and wanted != park.ref:
        raise DomainError(
            _(
                "需求只能发布到本机构所在的园区（%(park)s）；如需转到其他园区，请联系园区工作人员。",
                park=park.name,
            )
        )
    return park


def need_values(org: Organization, data: Mapping[str, Any], current: Need | None) -> dict[str, Any]:
    """Validated column values for a need of ``org``; raises DomainError on the first fault.

    An unchanged deadline is accepted even if it has passed, so that an owner can fix
    a typo in an expired need without being blocked; a new deadline must be in the future.
    """
    values = _common_values(data)
    values["kind"] = reference.category_kind(values["category"]) or "solution"
    values["park"] = _need_park(org, data, current)
    values["budget_min"] = _int(data, "budget_min")
    values["budget_max"] = _int(data, "budget_max")
    _check_range(values["budget_min"], values["budget_max"], _("最低预算不能高于最高预算。"))
    deadline = _date(data, "deadline", _("截止日期格式应为 2026-11-24。"))
    unchanged = current is not None and deadline == current.deadline
    if deadline is not None and not unchanged and deadline <= utcnow().date():
        raise DomainError(_("截止日期必须晚于今天。"))
    values["deadline"] = deadline
    finance = values["kind"] == "finance"
    values["amount"] = _int(data, "amount") if finance else None
    values["term_months"] = _int(data, "term_months") if finance else None
    _non_negative(values["amount"], values["term_months"])
    _check_format("needs", values)
    return values


def _check_format(file: str, values: Mapping[str, Any]) -> None:
    """Each value by the data format's rule (``records``), as the import checks it: the
    column's range, length, no control characters. Raises DomainError on the first fault.

    The forms check the same rules field by field; this keeps other callers honest.
    """
    for key in schema.keys(file):
        value = values.get(key)
        if key in ("org", "park", "parks") or value is None or value == "" or value == []:
            continue
        try:
            schema.check(file, key, value.isoformat() if isinstance(value, date) else value)
        except records.Invalid as exc:
            raise DomainError(f"{key}: {exc.message}") from None

"""One record of a data set (data-format.md), checked and normalised.

The same validator serves ``market import`` and the offerings bulk upload, so a
listing that one accepts the other accepts too. ``validate`` never touches the
database: references between files (``org``, ``park``, ``parks``) are checked
for shape here and resolved by the caller.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from market import reference
from market.models.listing import OFFERING_KINDS, TRAINING_MODES
from market.models.organization import ORG_KINDS, ORG_SIZES, PARK_BOUND_KINDS
from market.models.park import PARK_LEVELS, ZONE_TYPES
from market.models.user import ROLES
from market.services import credit_code

FILES = ("parks", "organizations", "offerings", "needs", "users")
# Integer columns are 32-bit on PostgreSQL; a larger value must be refused here,
# with a message, rather than by the database in the middle of an import.
MAX_INTEGER = 2_147_483_647
MAX_RATE = 100
RATE_DECIMALS = 3
MAX_REF_LENGTH = 64

OFFERING_STATUSES = ("draft", "pending", "published", "archived")
NEED_STATUSES = ("draft", "pending", "open", "closed")
_FINANCE = frozenset({"finance"})
_TRAINING = frozenset({"training"})
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


class Invalid(ValueError):
    """A value that breaks the format; ``message`` says why, in Chinese."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class RecordError:
    """One problem in a data set: which file, which record, which key, and why."""

    file: str
    ref: str | None
    key: str | None
    message: str

    def __str__(self) -> str:
        where = " ".join(part for part in (self.file, self.ref) if part)
        return f"{where} {self.key}: {self.message}" if self.key else f"{where}: {self.message}"


Check = Callable[[Any], Any]


@dataclass(frozen=True)
class Field:
    """One key of a record: how to check it and which listing kinds may carry it.

    ``shape`` tells readers of untyped input (CSV and Excel cells) what to convert
    a cell to before the check: text, integer, number, date, bool or list.
    """

    key: str
    check: Check
    shape: str = "text"
    required: bool = False
    kinds: frozenset[str] | None = None


@dataclass
class Validated:
    """The outcome of ``validate``: the keys that passed, normalised, and the errors."""

    clean: dict[str, Any] = field(default_factory=dict)
    errors: list[RecordError] = field(default_factory=list)


# --- value checks: each returns the normalised value or raises Invalid ------------


def text(max_length: int | None = None) -> Check:
    def check(value: Any) -> str:
        if not isinstance(value, str):
            raise Invalid(_("应为文本"))
        if max_length is not None and len(value) > max_length:
            raise Invalid(_("不能超过 %(n)d 个字符", n=max_length))
        return value

    return check


def integer(value: Any) -> int:
    """Whole yuan, months, seats: 0 … 2147483647; 3.0 is accepted as 3."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Invalid(_("应为整数"))
    if isinstance(value, float) and not value.is_integer():
        raise Invalid(_("应为整数，不能有小数"))
    if value < 0:
        raise Invalid(_("不能为负数"))
    if value > MAX_INTEGER:
        raise Invalid(_("数值过大（不能超过 %(n)d）", n=MAX_INTEGER))
    return int(value)


def rate(value: Any) -> float:
    """An annual rate in percent, 0 … 100, with at most three decimals."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        raise Invalid(_("应为数字（年化利率，单位 %）"))
    if not 0 <= value <= MAX_RATE:
        raise Invalid(_("应在 0 到 100 之间（单位 %）"))
    exponent = Decimal(str(value)).as_tuple().exponent
    if isinstance(exponent, int) and exponent < -RATE_DECIMALS:
        raise Invalid(_("最多保留三位小数"))
    return float(value)


def iso_date(value: Any) -> date:
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        raise Invalid(_("应为日期，格式如 2026-11-24"))
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Invalid(_("日期不存在：%(v)s", v=value)) from None


def boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise Invalid(_("应为 true 或 false"))
    return value


def one_of(values: Collection[str]) -> Check:
    def check(value: Any) -> str:
        if value not in values:
            raise Invalid(
                _("无效的取值 %(v)s，可选：%(choices)s", v=_show(value), choices="、".join(values))
            )
        return str(value)

    return check


def ref(value: Any) -> str:
    """A data-set reference: it appears in URLs, so no spaces and no slashes."""
    if not isinstance(value, str) or not value:
        raise Invalid(_("应为非空文本编号"))
    if len(value) > MAX_REF_LENGTH or "/" in value or any(ch.isspace() for ch in value):
        raise Invalid(_("编号 %(v)s 无效：不能含空格或斜杠，且不超过 64 个字符", v=_show(value)))
    return value


def province(value: Any) -> str:
    if value not in reference.provinces():
        raise Invalid(_("未知的省份 %(v)s（应为省级行政区全称，如 江苏省）", v=_show(value)))
    return str(value)


def region(value: Any) -> str:
    if not isinstance(value, str) or not reference.is_region(value):
        raise Invalid(_("未知的地区 %(v)s（应为省级行政区全称，或 全国）", v=_show(value)))
    return value


def industry(value: Any) -> str:
    if value not in reference.industries():
        raise Invalid(
            _(
                "未知的行业代码 %(v)s（应为 GB/T 4754-2017 门类或大类代码，如 C 或 C36）",
                v=_show(value),
            )
        )
    return str(value)


def category(value: Any) -> str:
    if value not in reference.categories():
        raise Invalid(_("未知的分类代码 %(v)s（如 platform.equipment_cloud）", v=_show(value)))
    return str(value)


def social_credit_code(value: Any) -> str:
    if not isinstance(value, str):
        raise Invalid(_("应为文本"))
    code = credit_code.normalize(value)
    if len(code) != 18 or any(ch not in credit_code.CHARSET for ch in code):
        raise Invalid(_("统一社会信用代码应为 18 位数字或大写字母（不含 I、O、Z、S、V）"))
    if not credit_code.is_valid(code):
        raise Invalid(_("统一社会信用代码 %(v)s 校验位不正确", v=code))
    return code


def email(value: Any) -> str:
    if not isinstance(value, str) or len(value) > 254 or not _EMAIL.fullmatch(value.strip()):
        raise Invalid(_("邮箱地址无效：%(v)s", v=_show(value)))
    return value.strip().lower()


def list_of(item: Check, unique: bool = False) -> Check:
    """A JSON array whose items all pass ``item``; ``unique`` refuses repeats."""

    def check(value: Any) -> list[Any]:
        if not isinstance(value, list):
            raise Invalid(_("应为列表（JSON 数组）"))
        out: list[Any] = []
        problems: list[str] = []
        for entry in value:
            try:
                out.append(item(entry))
            except Invalid as exc:
                problems.append(exc.message)
        if problems:
            raise Invalid("；".join(dict.fromkeys(problems)))
        if unique:
            repeated = sorted({str(v) for v in out if out.count(v) > 1})
            if repeated:
                raise Invalid(_("重复的取值：%(v)s", v="、".join(repeated)))
        return out

    return check


def _show(value: Any) -> str:
    return value if isinstance(value, str) else repr(value)


def _tag(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise Invalid(_("标签应为非空文本"))
    return value


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
        Field("description", text()),
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
        Field("description", text()),
        Field("verified", boolean, "bool"),
    ),
    "offerings": (
        Field("ref", ref, required=True),
        Field("org", ref, required=True),
        Field("kind", one_of(OFFERING_KINDS), required=True),
        Field("category", category, required=True),
        Field("title", text(200), required=True),
        Field("summary", text()),
        Field("description", text()),
        Field("tags", list_of(_tag), "list"),
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
        Field("term_months_max", integer, "integer", kinds=_FINANCE),
        Field("eligible_sizes", list_of(one_of(ORG_SIZES), unique=True), "list", kinds=_FINANCE),
        Field("mode", one_of(TRAINING_MODES), kinds=_TRAINING),
        Field("starts_on", iso_date, "date", kinds=_TRAINING),
        Field("capacity", integer, "integer", kinds=_TRAINING),
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
        Field("description", text()),
        Field("tags", list_of(_tag), "list"),
        Field("industries", list_of(industry), "list"),
        Field("budget_min", integer, "integer"),
        Field("budget_max", integer, "integer"),
        Field("deadline", iso_date, "date"),
        Field("amount", integer, "integer", kinds=_FINANCE),
        Field("term_months", integer, "integer", kinds=_FINANCE),
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
    return next(f.shape for f in SCHEMAS[file] if f.key == key)


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

"""One record of a data set (data-format.md), checked and normalised.

The same validator serves ``market import`` and the offerings bulk upload, so a
listing that one accepts the other accepts too. ``validate`` never touches the
database: references between files (``org``, ``park``, ``parks``) are checked
for shape here and resolved by the caller.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _

from market.core import credit_code, reference
from market.core.errors import DomainError

FILES = ("parks", "organizations", "offerings", "needs", "users")
# Integer columns are 32-bit on PostgreSQL (and SQLite would store more, which the
# export would then write and the import refuse): every integer stays within this.
MAX_INTEGER = 2_147_483_647
MAX_RATE = 100
RATE_DECIMALS = 3
MAX_REF_LENGTH = 64
MAX_TERM_MONTHS = 600
# Dates a listing can mean (a course start, a deadline); outside this a date is a typo,
# and the report and expiry arithmetic need not reach year 1 or 9999.
EARLIEST_DATE = date(2000, 1, 1)
LATEST_DATE = date(2099, 12, 31)
TAG_MAX_LENGTH = 32
TAGS_MAX = 20
# A record is an object in an array, holding lists: anything deeper is not the format,
# and a parser asked to descend without end would fail on Python's recursion limit.
MAX_JSON_DEPTH = 8
# How much of a bad value an error message repeats.
SHOWN_LENGTH = 60

OFFERING_STATUSES = ("draft", "pending", "published", "archived")
NEED_STATUSES = ("draft", "pending", "open", "closed")
_FINANCE = frozenset({"finance"})
_TRAINING = frozenset({"training"})
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
# Line breaks and tabs are text in a description; every other control character (NUL,
# escape sequences, C1 codes) is refused, and so is half a surrogate pair, which no
# database can store as UTF-8.
_MULTILINE_OK = frozenset("\t\n\r")


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
        # The ref and key come from the file as written: shown escaped, so an error stays
        # one line whatever they hold.
        where = " ".join(
            part for part in (printable(self.file, None), printable(self.ref or "")) if part
        )
        if self.key:
            return f"{where} {printable(self.key)}: {self.message}"
        return f"{where}: {self.message}"


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


def printable(value: str, limit: int | None = SHOWN_LENGTH) -> str:
    """``value`` safe to repeat in a one-line message: control and invisible characters
    escaped (so a terminal shows ``\\x1b``, not an escape sequence), cut after ``limit``."""
    cut = value if limit is None else value[:limit]
    shown = "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in cut)
    return shown + ("…" if len(cut) < len(value) else "")


def _bad_character(value: str, multiline: bool) -> str | None:
    for ch in value:
        category = unicodedata.category(ch)
        if category == "Cs" or (category == "Cc" and not (multiline and ch in _MULTILINE_OK)):
            return ch
    return None


@dataclass(frozen=True)
class Text:
    """Text of at most ``max_length`` characters; one line unless ``multiline``."""

    max_length: int
    multiline: bool = False

    def __call__(self, value: Any) -> str:
        if not isinstance(value, str):
            raise Invalid(_("应为文本"))
        if len(value) > self.max_length:
            raise Invalid(_("不能超过 %(n)d 个字符", n=self.max_length))
        bad = _bad_character(value, self.multiline)
        if bad is not None:
            what = printable(bad)
            if self.multiline:
                raise Invalid(_("不能包含控制字符或无效字符（%(c)s）", c=what))
            raise Invalid(_("不能包含换行、控制字符或无效字符（%(c)s）", c=what))
        return value


@dataclass(frozen=True)
class Integer:
    """Whole yuan, months, seats: ``low`` … ``high``; 3.0 is accepted as 3."""

    low: int = 0
    high: int = MAX_INTEGER

    def __call__(self, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise Invalid(_("应为整数"))
        if isinstance(value, float) and not value.is_integer():
            raise Invalid(_("应为整数，不能有小数"))
        if value < self.low:
            if self.low == 0:
                raise Invalid(_("不能为负数"))
            raise Invalid(_("不能小于 %(n)d", n=self.low))
        if value > self.high:
            raise Invalid(_("数值过大（不能超过 %(n)d）", n=self.high))
        return int(value)


@dataclass(frozen=True)
class Rate:
    """An annual rate in percent, 0 … 100, with at most three decimals."""

    low: float = 0
    high: float = MAX_RATE

    def __call__(self, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
            raise Invalid(_("应为数字（年化利率，单位 %）"))
        if not self.low <= value <= self.high:
            raise Invalid(_("应在 0 到 100 之间（单位 %）"))
        exponent = Decimal(str(value)).as_tuple().exponent
        if isinstance(exponent, int) and exponent < -RATE_DECIMALS:
            raise Invalid(_("最多保留三位小数"))
        return float(value)


@dataclass(frozen=True)
class IsoDate:
    """A date written 2026-11-24, from ``low`` to ``high``."""

    low: date = EARLIEST_DATE
    high: date = LATEST_DATE

    def __call__(self, value: Any) -> date:
        if not isinstance(value, str) or not _DATE.fullmatch(value):
            raise Invalid(_("应为日期，格式如 2026-11-24"))
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise Invalid(_("日期不存在：%(v)s", v=value)) from None
        if not self.low <= day <= self.high:
            raise Invalid(
                _(
                    "日期应在 %(low)s 到 %(high)s 之间",
                    low=self.low.isoformat(),
                    high=self.high.isoformat(),
                )
            )
        return day


# The shared shapes: one line, and the longer texts.
def text(max_length: int, multiline: bool = False) -> Text:
    return Text(max_length, multiline)


integer = Integer()
rate = Rate()
iso_date = IsoDate()


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
    """A data-set reference: it appears in URLs, so no spaces, slashes or invisible characters."""
    if not isinstance(value, str) or not value:
        raise Invalid(_("应为非空文本编号"))
    if len(value) > MAX_REF_LENGTH or "/" in value or not all(ch.isprintable() for ch in value):
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
    if (
        not isinstance(value, str)
        or len(value) > 254
        or not _EMAIL.fullmatch(value.strip())
        or _bad_character(value, multiline=False) is not None
    ):
        raise Invalid(_("邮箱地址无效：%(v)s", v=_show(value)))
    return value.strip().lower()


def list_of(item: Check, unique: bool = False, max_items: int | None = None) -> Check:
    """A JSON array whose items all pass ``item``; ``unique`` refuses repeats."""

    def check(value: Any) -> list[Any]:
        if not isinstance(value, list):
            raise Invalid(_("应为列表（JSON 数组）"))
        if max_items is not None and len(value) > max_items:
            raise Invalid(_("最多 %(n)d 项", n=max_items))
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
    return printable(value if isinstance(value, str) else repr(value))


_TAG_TEXT = Text(TAG_MAX_LENGTH)


def tag(value: Any) -> str:
    """One tag: non-empty text on one line, at most TAG_MAX_LENGTH characters."""
    if not isinstance(value, str) or not value.strip():
        raise Invalid(_("标签应为非空文本"))
    return _TAG_TEXT(value)


# --- tags as typed in a form ---------------------------------------------------------------

TAG_SEPARATORS = re.compile(r"[,，、;；\n]+")


def split_tags(raw: str | Iterable[str] | None) -> list[str]:
    """Tags from "设备上云、OEE, 数据采集" (or a list): trimmed, without duplicates, in order.

    Raises DomainError when a tag is too long or there are too many.
    """
    if raw is None:
        return []
    parts = TAG_SEPARATORS.split(raw) if isinstance(raw, str) else list(raw)
    tags: list[str] = []
    for part in parts:
        tag = " ".join(str(part).split())
        if tag and tag not in tags:
            tags.append(tag)
    if any(len(tag) > TAG_MAX_LENGTH for tag in tags):
        raise DomainError(_("每个标签不超过 %(n)d 个字。", n=TAG_MAX_LENGTH))
    if len(tags) > TAGS_MAX:
        raise DomainError(_("标签最多 %(n)d 个。", n=TAGS_MAX))
    return tags

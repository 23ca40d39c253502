"""Select choices and labels shared by the offering and need forms and pages.

Built per request (not at import time) so that labels follow the visitor's language
and newly imported parks appear without a restart.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import Blueprint
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from market.core import reference
from market.core.extensions import db
from market.core.i18n import category_label, locale_code
from market.models import Park

Choices = list[tuple[str, str]]
# A None group renders its options outside any <optgroup> (the "please choose" line).
GroupedChoices = dict[str | None, Choices]

KIND_LABELS: dict[str, Any] = {
    "solution": _l("解决方案"),
    "finance": _l("金融产品"),
    "training": _l("人才培训"),
}
MODE_LABELS: dict[str, Any] = {
    "online": _l("线上"),
    "offline": _l("线下"),
    "hybrid": _l("线上线下结合"),
}
SIZE_LABELS: dict[str, Any] = {
    "large": _l("大型企业"),
    "medium": _l("中型企业"),
    "small": _l("小型企业"),
    "micro": _l("微型企业"),
}


def kind_label(code: str) -> str:
    """解决方案/金融产品/人才培训; an unknown code comes back as is."""
    return str(KIND_LABELS.get(code, code))


def mode_label(code: str | None) -> str:
    return str(MODE_LABELS.get(code or "", code or ""))


def size_label(code: str) -> str:
    return str(SIZE_LABELS.get(code, code))


def kind_choices(kinds: Iterable[str]) -> Choices:
    return [(k, kind_label(k)) for k in kinds]


def category_choices(kinds: Iterable[str] | None = None) -> GroupedChoices:
    """Categories grouped under their top level, limited to ``kinds`` (all when None).

    The top-level code itself is offered too, for a listing that spans the whole area.
    An empty first option makes the writer choose instead of keeping the first category.
    """
    allowed = set(kinds) if kinds is not None else None
    groups: GroupedChoices = {None: [("", _("请选择类别"))]}
    for top in reference.top_categories():
        if allowed is not None and top.kind not in allowed:
            continue
        name = top.label(locale_code())
        options = [(top.code, _("%(name)s（综合）", name=name))]
        options += [(code, category_label(code)) for code in top.children]
        groups[name] = options
    return groups


def industry_choices() -> GroupedChoices:
    """GB/T 4754-2017 divisions grouped by section."""
    entries = reference.industries()
    groups: GroupedChoices = {}
    for entry in entries.values():
        if entry.parent is None:
            groups[f"{entry.code} {entry.label(locale_code())}"] = [
                (code, f"{code} {entries[code].label(locale_code())}") for code in entry.children
            ]
    return groups


def province_choices() -> Choices:
    return [(name, entry.label(locale_code())) for name, entry in reference.provinces().items()]


def region_choices() -> Choices:
    """全国 first, then every province."""
    nationwide = "Nationwide" if locale_code().startswith("en") else reference.NATIONWIDE
    return [(reference.NATIONWIDE, nationwide), *province_choices()]


def park_choices() -> Choices:
    """Every park as (ref, "name（province）"), by province and name."""
    parks = db.session.scalars(select(Park).order_by(Park.province, Park.name, Park.id))
    return [(p.ref or "", f"{p.name}（{p.province}）") for p in parks]


def size_choices() -> Choices:
    return [(code, size_label(code)) for code in SIZE_LABELS]


def mode_choices() -> Choices:
    return [("", _("请选择")), *((code, mode_label(code)) for code in MODE_LABELS)]


def register_filters(bp: Blueprint) -> None:
    """Template filters for listing pages: kind_label, mode_label, size_label, action_label."""
    for func in (kind_label, mode_label, size_label, action_label):
        bp.add_app_template_filter(func, func.__name__)


ACTION_LABELS: dict[str, Any] = {
    "create": _l("创建草稿"),
    "edit": _l("编辑"),
    "submit": _l("提交审核"),
    "withdraw": _l("撤回审核"),
    "approve": _l("审核通过"),
    "reject": _l("驳回"),
    "archive": _l("下架/关闭"),
    "renew": _l("续期/重新开放"),
    "move": _l("转交其他园区"),
}


def action_label(code: str) -> str:
    """What a history line says for a ListingEvent action."""
    return str(ACTION_LABELS.get(code, code))

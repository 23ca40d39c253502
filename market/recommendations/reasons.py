"""Reason sentences for a score's parts, in the visitor's language.

The matcher stores each rule's contribution as ``{"rule", "points", "params"}``
(plain JSON); this module turns one part into one sentence such as 「同属智能质检」,
「服务江苏省」, 「预算内（报价 20 万元 – 35 万元，预算 50 万元）」 or
「行业匹配 C36 汽车制造业」, using the category, industry and province labels and
the money format of :mod:`market.core.i18n`. A rule this module does not know (a newer
matcher) or params it cannot read render as a generic sentence: never an error.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from datetime import date
from typing import Any

from flask import has_app_context
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from market.accounts.organizations import SIZE_LABELS
from market.core.extensions import db
from market.core.i18n import category_label, day, industry_label, money, money_range, province_label
from market.models import Park

log = logging.getLogger("market.matching")

# The order reasons are read in: what the offering is, where, for how much, then the rest.
ORDER = (
    "category",
    "capability",
    "region",
    "park",
    "price",
    "finance_eligibility",
    "training_dates",
    "industry",
    "verified",
    "response",
    "freshness",
)

Params = Mapping[str, Any]
Render = Callable[[Params, Mapping[int, str]], str | None]


def _park_name(params: Params, parks: Mapping[int, str]) -> str:
    name = parks.get(int(params["park_id"])) if params.get("park_id") is not None else None
    return name or _("本园区")


def _region(params: Params, parks: Mapping[int, str]) -> str:
    scope = params.get("scope")
    if scope == "park":
        return _("明确服务%(park)s", park=_park_name(params, parks))
    if scope == "nationwide":
        return _("服务全国")
    return _("服务%(province)s", province=province_label(str(params["province"])))


def _category(params: Params, parks: Mapping[int, str]) -> str:
    label = category_label(str(params["category"]))
    if params.get("level") == "branch":
        return _("同属%(category)s类", category=label)
    return _("同属%(category)s", category=label)


def _capability(params: Params, parks: Mapping[int, str]) -> str:
    terms = [str(t) for t in params.get("terms") or () if t]
    if not terms:
        return _("能力描述相近")
    return _("能力相符：%(terms)s", terms=_("、").join(terms))


def _industry(params: Params, parks: Mapping[int, str]) -> str | None:
    code = str(params.get("industry") or "")
    if not code:
        return _("行业相近")
    if params.get("level") == "section":
        return _("同属行业门类 %(industry)s", industry=industry_label(code))
    return _("行业匹配 %(industry)s", industry=industry_label(code))


def _price(params: Params, parks: Mapping[int, str]) -> str:
    position = params.get("position")
    if position == "covered":
        return _(
            "融资金额在额度内（需求 %(amount)s，额度 %(range)s）",
            amount=money(params.get("amount")),
            range=money_range(params.get("amount_min"), params.get("amount_max")),
        )
    price = money_range(params.get("price_min"), params.get("price_max"))
    budget_value = params.get("budget_max", params.get("budget_min"))
    budget = money(budget_value)
    if position == "within":
        return _("预算内（报价 %(price)s，预算 %(budget)s）", price=price, budget=budget)
    return _("报价与预算部分重合（报价 %(price)s，预算 %(budget)s）", price=price, budget=budget)


def _finance(params: Params, parks: Mapping[int, str]) -> str:
    details = []
    size = params.get("size")
    if size and params.get("eligible_sizes"):
        details.append(_("%(size)s企业可申请", size=str(SIZE_LABELS.get(str(size), size))))
    if params.get("amount_min") is not None or params.get("amount_max") is not None:
        details.append(
            _(
                "额度 %(range)s",
                range=money_range(params.get("amount_min"), params.get("amount_max")),
            )
        )
    if params.get("budget") is not None:
        details.append(_("项目预算 %(budget)s", budget=money(params["budget"])))
    if not details:
        return _("符合申请条件")
    return _("符合申请条件（%(details)s）", details=_("；").join(details))


def _training(params: Params, parks: Mapping[int, str]) -> str:
    return _("%(date)s 开课", date=day(date.fromisoformat(str(params["starts_on"]))))


def _verified(params: Params, parks: Mapping[int, str]) -> str:
    return _("提供方已认证")


def _response(params: Params, parks: Mapping[int, str]) -> str:
    return _("7 天内答复率 %(pct)d%%", pct=int(params["rate_pct"]))


def _freshness(params: Params, parks: Mapping[int, str]) -> str:
    days = params.get("days")
    if days is None:
        return _("近期发布")
    if int(days) == 0:
        return _("今日发布")
    return _("%(days)d 天前发布", days=int(days))


def _park(params: Params, parks: Mapping[int, str]) -> str:
    return _("明确服务%(park)s", park=_park_name(params, parks))


# Every rule's name in the reader's language (the weights page, and the sentence of a
# part no renderer can read).
RULE_LABELS: dict[str, Any] = {
    "category": _l("类别相同"),
    "capability": _l("能力相符（文字与标签）"),
    "industry": _l("行业匹配"),
    "park": _l("明确服务所在园区"),
    "verified": _l("提供方已认证"),
    "price": _l("报价在预算内"),
    "freshness": _l("近期发布"),
    "response": _l("对接响应记录"),
    "listing_open": _l("双方均在有效期内"),
    "kind_category": _l("类型与类别相符"),
    "region": _l("服务地区覆盖"),
    "budget": _l("价格不超预算"),
    "finance_eligibility": _l("符合申请条件"),
    "training_dates": _l("课程尚未开班"),
}

RENDERERS: dict[str, Render] = {
    "region": _region,
    "category": _category,
    "capability": _capability,
    "industry": _industry,
    "price": _price,
    "finance_eligibility": _finance,
    "training_dates": _training,
    "verified": _verified,
    "response": _response,
    "freshness": _freshness,
    "park": _park,
}


def _generic(rule: str, points: Any) -> str:
    label = RULE_LABELS.get(rule)
    name = str(label) if label is not None else _("其他匹配因素")
    try:
        pts = float(points)
    except (TypeError, ValueError):
        pts = 0.0
    if pts > 0:
        return _("%(rule)s（+%(points)s 分）", rule=name, points=f"{pts:g}")
    return str(name)


def _park_names(parts: Iterable[Mapping[str, Any]]) -> dict[int, str]:
    ids = set()
    for part in parts:
        params = part.get("params") or {}
        if isinstance(params, Mapping) and isinstance(params.get("park_id"), int):
            ids.add(params["park_id"])
    if not ids or not has_app_context():
        return {}
    rows = db.session.execute(select(Park.id, Park.name).where(Park.id.in_(sorted(ids))))
    return {pid: name for pid, name in rows}


def _as_dict(part: Any) -> dict[str, Any]:
    """A stored part (dict) or a matcher ``Part`` as a plain mapping."""
    if isinstance(part, Mapping):
        return dict(part)
    return {
        "rule": getattr(part, "rule", ""),
        "points": getattr(part, "points", 0),
        "params": dict(getattr(part, "params", {}) or {}),
    }


def reason_texts(parts: Iterable[Any]) -> list[str]:
    """One sentence per part (stored dicts or ``matching.Part``), most telling first,
    without repeats; unknown rules and unreadable params give a generic sentence."""
    items = [_as_dict(p) for p in parts or ()]
    rank = {rule: k for k, rule in enumerate(ORDER)}
    items.sort(key=lambda p: rank.get(str(p.get("rule")), len(ORDER)))
    parks = _park_names(items)
    out: list[str] = []
    for part in items:
        rule = str(part.get("rule") or "")
        params = part.get("params") or {}
        render = RENDERERS.get(rule)
        text: str | None
        try:
            if not isinstance(params, Mapping) or render is None:
                raise KeyError(rule)
            text = render(params, parks)
        except (KeyError, TypeError, ValueError, AttributeError):
            log.debug("generic reason for rule %r with params %r", rule, params)
            text = _generic(rule, part.get("points"))
        if text and text not in out:
            out.append(text)
    return out

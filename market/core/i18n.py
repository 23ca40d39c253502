"""Locale choice and display helpers: zh-CN first, English second."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import Flask, current_app, has_request_context, request, session
from flask_babel import format_date, format_decimal, get_locale
from flask_login import current_user

from market.core import reference
from market.core.extensions import babel

LOCALE_COOKIE = "lang"


def select_locale() -> str:
    """An explicit choice (cookie), then the user's saved preference, then Chinese.

    The browser's Accept-Language is deliberately not consulted: the platform is
    Chinese-first and most visitors' browsers in parks report en-US anyway.
    """
    if not has_request_context():
        # Commands and background jobs have no visitor: use the default language.
        return str(current_app.config["BABEL_DEFAULT_LOCALE"])
    supported = current_app.config["LANGUAGES"]
    chosen = request.cookies.get(LOCALE_COOKIE) or session.get(LOCALE_COOKIE)
    if chosen in supported:
        return str(chosen)
    pref = getattr(current_user, "locale", None) if current_user else None
    if pref in supported:
        return str(pref)
    return str(current_app.config["BABEL_DEFAULT_LOCALE"])


def locale_code() -> str:
    return str(get_locale() or "zh")


def money(value: int | float | None) -> str:
    """Yuan with thousands separators, shown in 万元 from ten thousand up (Chinese)."""
    if value is None:
        return ""
    if locale_code().startswith("zh") and abs(value) >= 10_000:
        return f"{format_decimal(value / 10_000, format='#,##0.##')} 万元"
    return (
        f"{format_decimal(value, format='#,##0')} 元"
        if locale_code().startswith("zh")
        else f"¥{format_decimal(value, format='#,##0')}"
    )


def money_range(low: int | None, high: int | None) -> str:
    if low is None and high is None:
        return ""
    if low is None:
        return f"≤ {money(high)}"
    if high is None:
        return f"≥ {money(low)}"
    return money(low) if low == high else f"{money(low)} – {money(high)}"


def day(value: date | datetime | None) -> str:
    """2026-11-24 in both locales: unambiguous and what park staff type into Excel."""
    if value is None:
        return ""
    return format_date(value, "yyyy-MM-dd")


def category_label(code: str) -> str:
    entry = reference.categories().get(code)
    return entry.label(locale_code()) if entry else code


def industry_label(code: str) -> str:
    entry = reference.industries().get(code)
    return f"{code} {entry.label(locale_code())}" if entry else code


def province_label(name: str) -> str:
    if name == reference.NATIONWIDE:
        return "Nationwide" if locale_code().startswith("en") else name
    entry = reference.provinces().get(name)
    return entry.label(locale_code()) if entry else name


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale)
    filters: dict[str, Any] = {
        "money": money,
        "money_range": money_range,
        "day": day,
        "category_label": category_label,
        "industry_label": industry_label,
        "province_label": province_label,
    }
    app.jinja_env.filters.update(filters)
    app.jinja_env.globals.update(locale_code=locale_code, reference=reference)

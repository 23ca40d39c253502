"""Sheet cells to record values: numbers with 元 and separators, loose dates, lists,
category names."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from market.core import reference
from market.dataset import schema

# Words people type in a sheet, mapped to the codes of the data format.
_SYNONYMS: dict[str, dict[str, str]] = {
    "mode": {"线上": "online", "线下": "offline", "混合": "hybrid", "线上线下": "hybrid"},
    "eligible_sizes": {"大型": "large", "中型": "medium", "小型": "small", "微型": "micro"},
}
_LIST_SEPARATORS = re.compile(r"[、,，;；\n]+")
_LOOSE_DATE = re.compile(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?")
_NUMBER_NOISE = re.compile(r"[,，\s元]")


# --- cells to record values ------------------------------------------------------------


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _cell_text(value: Any) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _cell_number(value: Any) -> Any:
    """A number from a cell; text that is not a number is passed on for the validator to name."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    cleaned = _NUMBER_NOISE.sub("", _cell_text(value))
    for parse in (int, float):
        try:
            return parse(cleaned)
        except ValueError:
            continue
    return _cell_text(value)


def _cell_date(value: Any) -> str:
    text = _cell_text(value)
    loose = _LOOSE_DATE.fullmatch(text)
    if loose:
        year, month, day = loose.groups()
        return f"{year}-{int(month):02d}-{int(day):02d}"
    return text


def _cell_value(key: str, value: Any) -> Any:
    shape = schema.shape("offerings", key)
    synonyms = _SYNONYMS.get(key, {})
    if shape in ("integer", "number"):
        return _cell_number(value)
    if shape == "date":
        return _cell_date(value)
    if shape == "list":
        items = [item.strip() for item in _LIST_SEPARATORS.split(_cell_text(value))]
        return [synonyms.get(item, item) for item in items if item]
    text = _cell_text(value)
    if key == "category":
        return _category_code(text)
    return synonyms.get(text, text)


def _category_code(text: str) -> str:
    """A category code, also when the sheet gives the category's Chinese name."""
    if text in reference.categories():
        return text
    by_name = {entry.name: code for code, entry in reference.categories().items()}
    return by_name.get(text, text)

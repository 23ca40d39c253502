"""WTForms validators that apply the data format's own rules (``services/records.py``).

A form field names the record key it fills (``Record("offerings", "price_max")``) and
is checked by that key's rule: the range that fits the database column, the length,
no control characters, dates within the format's years. So the web forms, the bulk
upload and ``market import`` accept exactly the same values, and whatever a form
saves, an export writes and an import reads back.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from wtforms import Field
from wtforms.validators import ValidationError

from market.core.errors import DomainError
from market.dataset import records, schema


def _html_limits(check: Any) -> dict[str, Any]:
    """The rule's bounds as HTML attributes (WTForms renders a validator's flags), so the
    browser already says what the server will."""
    if isinstance(check, records.Integer | records.Rate):
        return {"min": check.low, "max": check.high}
    if isinstance(check, records.IsoDate):
        return {"min": check.low.isoformat(), "max": check.high.isoformat()}
    if isinstance(check, records.Text):
        return {"maxlength": check.max_length}
    return {}


class Record:
    """Check a field with the rule of ``key`` in the data format's ``file`` records.

    An empty field passes (``Optional``/``DataRequired`` decide whether it may be empty).
    """

    def __init__(self, file: str, key: str) -> None:
        self.file = file
        self.key = key
        self.field_flags = _html_limits(schema.field_of(file, key).check)

    def __call__(self, form: Any, field: Field) -> None:
        value = field.data
        if value is None or value == "":
            return
        if isinstance(value, date):
            value = value.isoformat()
        try:
            schema.check(self.file, self.key, value)
        except records.Invalid as exc:
            raise ValidationError(exc.message) from None


class Tags:
    """A tag line ("设备上云、OEE") as the listing service splits it, each tag by the
    format's tag rule."""

    def __call__(self, form: Any, field: Field) -> None:
        try:
            tags = records.split_tags(field.data or "")
        except DomainError as exc:
            raise ValidationError(exc.message) from None
        for tag in tags:
            try:
                records.tag(tag)
            except records.Invalid as exc:
                raise ValidationError(exc.message) from None

"""Forms of the concept-map admin pages. Filters are GET forms without CSRF (they
change nothing); the entry form carries the CSRF token. What a term may be is checked
in one place, ``concept_entries.validate``, not here."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, SearchField, SelectField, StringField
from wtforms.validators import Length, Optional

from market.listing_search import concept_browse
from market.listing_search.concept_entries import KIND_LABELS
from market.listing_search.zero_results import INDEXES

ALL = ("", _l("全部"))
INDEX_LABELS: dict[str, Any] = {"offerings": _l("供给"), "needs": _l("需求")}


def _valid(field: Any) -> str:
    """The field's value, or "" when it was invalid: bad query parameters are ignored."""
    return "" if field.errors else str(field.data or "").strip()


class ConceptFilterForm(FlaskForm):
    class Meta:
        csrf = False

    q = SearchField(_l("筛选"), validators=[Optional(), Length(max=100)])
    area = SelectField(_l("领域"), validators=[Optional()])
    term = HiddenField(validators=[Optional(), Length(max=100)])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.area.choices = [ALL, *concept_browse.area_choices()]

    def query(self) -> str:
        return _valid(self.q)

    def area_value(self) -> str:
        return _valid(self.area)

    def term_value(self) -> str:
        return _valid(self.term)


class EntryForm(FlaskForm):
    kind = RadioField(
        _l("添加为"),
        choices=[(k, label) for k, label in KIND_LABELS.items()],
        default="problem",
        validate_choice=False,  # the service names a bad kind in the same words as the rest
    )
    term = StringField(
        _l("词语"),
        description=_l("最多 40 个字符。同义词与概念名称完全同义；问题说法是企业描述问题的说法。"),
        render_kw={"maxlength": 40, "autocomplete": "off"},
    )


class ZeroFilterForm(FlaskForm):
    class Meta:
        csrf = False

    start = StringField(_l("起始日期"), render_kw={"type": "date"})
    end = StringField(_l("截止日期"), render_kw={"type": "date"})
    index = SelectField(_l("搜索范围"), validators=[Optional()])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.index.choices = [ALL, *((i, INDEX_LABELS[i]) for i in INDEXES)]

    def index_value(self) -> str:
        return _valid(self.index)

"""Digest preference form."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectMultipleField, SubmitField
from wtforms.widgets import CheckboxInput, ListWidget

from market.models.digest import DIGEST_KINDS


class CheckboxesField(SelectMultipleField):
    """A list of checkboxes (no JavaScript needed)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form: Any) -> None:
        # Unknown values are dropped by the service rather than refused.
        pass


KIND_LABELS = {
    "recommendations": _l("新的匹配推荐"),
    "dockings": _l("等待我方回复的对接"),
    "registrations": _l("新的培训报名"),
    "catalogues": _l("园区新发布的供需目录"),
}


class PreferencesForm(FlaskForm):
    frequency = RadioField(
        _l("发送频率"),
        choices=[("weekly", _l("每周一次（周一上午）")), ("off", _l("不发送"))],
        default="weekly",
        validate_choice=False,
    )
    kinds = CheckboxesField(
        _l("包含的内容"), choices=[(kind, KIND_LABELS[kind]) for kind in DIGEST_KINDS]
    )
    language = RadioField(
        _l("邮件语言"),
        choices=[("zh", "中文"), ("en", "English")],
        default="zh",
        validate_choice=False,
    )
    submit = SubmitField(_l("保存设置"))

"""Forms of the needs blueprint: the need editor."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    Field,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Optional, ValidationError

from market.dataset.field_rules import Record, Tags
from market.listings.forms import choices
from market.listings.forms.offerings import MULTI_HINT, check_order, tags_text
from market.models import Need, Park, utcnow


class NeedForm(FlaskForm):
    """One need of a park enterprise; the financing part is shown for finance categories."""

    category = SelectField(_l("类别"), validators=[InputRequired(message=_l("请选择类别。"))])
    title = StringField(
        _l("标题"),
        validators=[DataRequired(message=_l("请填写标题。")), Record("needs", "title")],
        description=_l("一句话说清要解决的问题，如：冲压件表面缺陷视觉检测"),
    )
    description = TextAreaField(
        _l("详细描述"),
        validators=[Optional(), Record("needs", "description")],
        description=_l("现状、痛点、期望效果、现场条件等。提交审核前必须填写。"),
    )
    tags = StringField(
        _l("标签"),
        validators=[Optional(), Tags()],
        description=_l("用逗号或顿号分隔，如：机器视觉、缺陷检测"),
    )
    industries = SelectMultipleField(_l("所属行业"), description=MULTI_HINT)
    # Left out, the need belongs to the enterprise's own park (the service's default).
    park = SelectField(
        _l("所在园区"),
        validators=[Optional()],
        # Only the need's own park is offered; another one posted is refused by the
        # service with a message that names the right park, not WTForms' "not a choice".
        validate_choice=False,
        description=_l("需求发布到本机构所在的园区；如需转到其他园区，请联系园区工作人员。"),
    )
    budget_min = IntegerField(
        _l("最低预算（元）"), validators=[Optional(), Record("needs", "budget_min")]
    )
    budget_max = IntegerField(
        _l("最高预算（元）"), validators=[Optional(), Record("needs", "budget_max")]
    )
    deadline = DateField(
        _l("征集截止日期"),
        validators=[Optional(), Record("needs", "deadline")],
        format="%Y-%m-%d",
        description=_l("过了这一天，需求不再公开展示。"),
    )
    # finance
    amount = IntegerField(_l("融资金额（元）"), validators=[Optional(), Record("needs", "amount")])
    term_months = IntegerField(
        _l("融资期限（月）"),
        validators=[Optional(), Record("needs", "term_months")],
    )
    save = SubmitField(_l("保存草稿"))
    save_submit = SubmitField(_l("保存并提交审核"))

    def __init__(
        self, *args: Any, current: Need | None = None, park: Park | None = None, **kwargs: Any
    ) -> None:
        """``park`` is the enterprise's park, offered for a new need; an edited need
        offers the park it is in."""
        super().__init__(*args, **kwargs)
        self.current = current
        self.category.choices = choices.category_choices()
        self.industries.choices = choices.industry_choices()
        home = current.park if current is not None else park
        self.park.choices = [(home.ref or "", f"{home.name}（{home.province}）")] if home else []

    def validate_budget_max(self, field: Field) -> None:
        check_order(self.budget_min, field, _l("最高预算不能低于最低预算。"))

    def validate_deadline(self, field: Field) -> None:
        # An unchanged deadline may lie in the past (the owner is fixing something else).
        if field.data is None or (self.current is not None and field.data == self.current.deadline):
            return
        if field.data <= utcnow().date():
            raise ValidationError(_("截止日期必须晚于今天。"))

    @property
    def is_finance(self) -> bool:
        return str(self.category.data or "").split(".")[0] == "finance"


PLAIN_FIELDS = (
    "category",
    "title",
    "description",
    "industries",
    "budget_min",
    "budget_max",
    "deadline",
    "amount",
    "term_months",
)


def need_form_data(item: Need) -> dict[str, Any]:
    """The form's initial values for editing ``item``."""
    data: dict[str, Any] = {name: getattr(item, name) for name in PLAIN_FIELDS}
    data["tags"] = tags_text(item.tags or [])
    data["park"] = item.park.ref
    return data

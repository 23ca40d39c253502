"""Forms of the docking blueprint: starting a docking and taking its steps."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, IntegerField, SelectField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from market.docking.workflow import AMOUNT_MAX

MESSAGE = Length(max=2000, message=_l("留言不超过 2000 个字。"))
# NumberRange fills in %(max)d.
AMOUNT = NumberRange(min=1, max=AMOUNT_MAX, message=_l("请输入 1 到 %(max)d 之间的整数（元）。"))


class DockingForm(FlaskForm):
    """An enterprise's request, registration or financing application on one offering."""

    need = SelectField(
        _l("关联需求"),
        validators=[Optional()],
        description=_l("可选：选择贵机构征集中的一条需求，服务方能更快了解背景。"),
    )
    amount_sought = IntegerField(
        _l("申请金额（元）"),
        validators=[Optional(), AMOUNT],
        description=_l("须在该产品的额度范围内。"),
    )
    message = TextAreaField(
        _l("留言"),
        validators=[Optional(), MESSAGE],
        description=_l("介绍贵企业的情况和希望对方做什么，如：希望本周安排现场调研。"),
    )
    source = HiddenField()


class InterestForm(FlaskForm):
    """A provider's interest in an open need, with one of its own public offerings."""

    offering = SelectField(
        _l("用哪项供给响应"),
        validators=[InputRequired(message=_l("请选择一项贵机构已发布的供给。"))],
    )
    message = TextAreaField(
        _l("留言"),
        validators=[Optional(), MESSAGE],
        description=_l("说明贵机构能如何解决这项需求，以及方便联系的时间。"),
    )
    source = HiddenField()


class NoteForm(FlaskForm):
    """A step with an optional note (accept, decline, withdraw, negotiate, cancel)."""

    note = TextAreaField(_l("说明（可选）"), validators=[Optional(), MESSAGE])


class DealForm(FlaskForm):
    """A deal (成交) or a granted financing: the amount is required."""

    amount = IntegerField(
        _l("金额（元）"),
        validators=[InputRequired(message=_l("请填写金额（元）。")), AMOUNT],
    )
    note = TextAreaField(_l("说明（可选）"), validators=[Optional(), MESSAGE])


class NoDealForm(FlaskForm):
    """No deal: the reason is required."""

    note = TextAreaField(
        _l("未达成合作的原因"),
        validators=[DataRequired(message=_l("请说明未达成合作的原因。")), MESSAGE],
    )


class CompleteForm(FlaskForm):
    """A course registration completed, with or without a certificate."""

    certified = BooleanField(_l("已取得结业证书"))
    note = TextAreaField(_l("说明（可选）"), validators=[Optional(), MESSAGE])


ACTION_FORMS: dict[str, type[FlaskForm]] = {
    "deal": DealForm,
    "grant": DealForm,
    "no_deal": NoDealForm,
    "complete": CompleteForm,
}


def form_for(action: str) -> type[FlaskForm]:
    return ACTION_FORMS.get(action, NoteForm)

"""Forms of the park-operations blueprint."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length

from market.parkops.invitations import MESSAGE_MAX


class InviteForm(FlaskForm):
    """Invite one offering (by ref) to serve the park, with an optional note."""

    offering = StringField(
        _l("供给编号"),
        validators=[DataRequired(message=_l("请填写要邀请的供给编号。")), Length(max=64)],
        description=_l("供给页面上的编号，如 S-000123；也可以在产业链图谱的招商清单里直接邀请。"),
    )
    message = TextAreaField(
        _l("附言（可选）"),
        validators=[Length(max=MESSAGE_MAX, message=_l("附言不能超过 500 个字。"))],
        description=_l("例如园区的配套政策、联系人和电话。"),
    )
    submit = SubmitField(_l("发送邀请"))


class AnswerForm(FlaskForm):
    """Accept or decline an invitation (the buttons only; the link carries the rest)."""

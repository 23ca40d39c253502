"""Forms of the moderation blueprint."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length


class RejectForm(FlaskForm):
    """Why a listing is sent back; the owner reads this on the detail page and in mail."""

    reason = StringField(
        _l("驳回原因"),
        validators=[
            DataRequired(message=_l("驳回时请填写原因，发布方会看到它。")),
            Length(max=500, message=_l("驳回原因不超过 500 个字。")),
        ],
    )

"""Forms of the catalogue blueprint."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from market.catalogue.service import FOREWORD_MAX, REASON_MAX, TITLE_MAX


class NewEditionForm(FlaskForm):
    """Start a draft: park staff for their park; admins also for a province or everything."""

    scope = SelectField(
        _l("范围"),
        choices=[("park", _l("园区")), ("province", _l("省份")), ("platform", _l("全平台"))],
        default="park",
    )
    park = StringField(
        _l("园区编号"),
        validators=[Optional(), Length(max=64)],
        description=_l("如 P-SIP；园区工作人员可不填，默认本园区。"),
    )
    province = SelectField(_l("省份"), validators=[Optional()], choices=[])
    title = StringField(
        _l("标题（可选）"),
        validators=[Length(max=TITLE_MAX, message=_l("标题不能超过 200 个字。"))],
        description=_l("不填则为「园区名称供需目录清单」。"),
    )
    submit = SubmitField(_l("开始编制"))


class SettingsForm(FlaskForm):
    """The edition's title and foreword."""

    title = StringField(
        _l("标题"),
        validators=[
            DataRequired(message=_l("请填写目录标题。")),
            Length(max=TITLE_MAX, message=_l("标题不能超过 200 个字。")),
        ],
    )
    foreword = TextAreaField(
        _l("前言（可选）"),
        validators=[Length(max=FOREWORD_MAX, message=_l("前言不能超过 5000 个字。"))],
        description=_l("印在目录正文之前，例如编制说明、联系人和电话。"),
    )
    save = SubmitField(_l("保存"))


class ScheduleForm(FlaskForm):
    """Publish at a later time (北京时间)."""

    when = DateTimeLocalField(
        _l("发布时间（北京时间）"),
        format="%Y-%m-%dT%H:%M",
        validators=[DataRequired(message=_l("请填写发布时间，例如 2026-12-01 09:00。"))],
    )
    schedule = SubmitField(_l("定时发布"))


class WithdrawForm(FlaskForm):
    """Withdraw a published edition, saying why (kept on record and shown)."""

    reason = TextAreaField(
        _l("撤回原因"),
        validators=[
            DataRequired(message=_l("请填写撤回原因。")),
            Length(max=REASON_MAX, message=_l("撤回原因不能超过 500 个字。")),
        ],
    )
    withdraw = SubmitField(_l("撤回本期"))

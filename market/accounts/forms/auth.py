"""Account forms: sign-up, sign-in, passwords, invitations and the account page."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import (
    DataRequired,
    Email,
    EqualTo,
    InputRequired,
    Length,
)

from market.accounts import organizations
from market.accounts import service as accounts
from market.accounts.forms.orgs import BLANK, OrgFieldsForm
from market.dataset.field_rules import Record

MIN = accounts.PASSWORD_MIN_LENGTH


def _email_field() -> EmailField:
    return EmailField(
        _l("邮箱"),
        validators=[
            InputRequired(message=_l("请填写邮箱。")),
            Email(message=_l("邮箱格式不正确。")),
            Length(max=254),
        ],
    )


def _name_field() -> StringField:
    return StringField(
        _l("姓名"), validators=[InputRequired(message=_l("请填写姓名。")), Record("users", "name")]
    )


def _new_password_field(label: Any = None) -> PasswordField:
    return PasswordField(
        label or _l("密码"),
        validators=[
            InputRequired(message=_l("请设置密码。")),
            Length(min=MIN, max=128, message=_l("密码长度应为 %(min)d–128 个字符。", min=MIN)),
        ],
        description=_l("至少 %(min)d 个字符。", min=MIN),
    )


def _confirm_field(other: str = "password") -> PasswordField:
    return PasswordField(
        _l("确认密码"),
        validators=[
            InputRequired(message=_l("请再次输入密码。")),
            EqualTo(other, message=_l("两次输入的密码不一致。")),
        ],
    )


class LoginForm(FlaskForm):
    email = EmailField(
        _l("邮箱"), validators=[InputRequired(message=_l("请填写邮箱。")), Length(max=254)]
    )
    password = PasswordField(_l("密码"), validators=[InputRequired(message=_l("请填写密码。"))])
    submit = SubmitField(_l("登录"))


class SignupForm(OrgFieldsForm):
    """A person and the new organization they create (and become org_admin of)."""

    name = _name_field()
    email = _email_field()
    password = _new_password_field()
    confirm = _confirm_field()
    kind = SelectField(_l("机构类型"), validators=[DataRequired(message=_l("请选择机构类型。"))])
    submit = SubmitField(_l("注册"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kind.choices = [
            BLANK,
            *((k, organizations.KIND_LABELS[k]) for k in organizations.SIGNUP_KINDS),
        ]

    def chosen_kind(self) -> str:
        return str(self.kind.data or "")


class ConfirmSignupForm(FlaskForm):
    """The password chosen at sign-up, asked again when the mailed link is opened."""

    password = PasswordField(
        _l("注册时设置的密码"), validators=[InputRequired(message=_l("请填写密码。"))]
    )
    submit = SubmitField(_l("确认并登录"))


class InvitedSignupForm(FlaskForm):
    """The invited person's own details; the email comes from the invitation."""

    name = _name_field()
    password = _new_password_field()
    confirm = _confirm_field()
    submit = SubmitField(_l("创建账号并加入"))


class JoinForm(FlaskForm):
    submit = SubmitField(_l("加入该机构"))


class ForgotForm(FlaskForm):
    email = _email_field()
    submit = SubmitField(_l("发送重置链接"))


class ResetForm(FlaskForm):
    password = _new_password_field(_l("新密码"))
    confirm = _confirm_field()
    submit = SubmitField(_l("设置新密码"))


class PasswordForm(FlaskForm):
    current = PasswordField(
        _l("当前密码"), validators=[InputRequired(message=_l("请填写当前密码。"))]
    )
    password = _new_password_field(_l("新密码"))
    confirm = _confirm_field()
    submit = SubmitField(_l("修改密码"))


class AccountForm(FlaskForm):
    name = _name_field()
    locale = SelectField(_l("界面语言"))
    submit = SubmitField(_l("保存"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.locale.choices = list(accounts.LOCALE_LABELS.items())

"""Filter forms for the admin's lists (GET, no CSRF: they change nothing)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SearchField, SelectField
from wtforms.validators import Length, Optional

from market.accounts import organizations
from market.accounts import service as accounts
from market.models.organization import ORG_KINDS
from market.models.user import ROLES

ALL = ("", _l("全部"))


def _valid(field: Any) -> str:
    """The field's value, or "" when it was invalid: bad query parameters are ignored."""
    return "" if field.errors else str(field.data or "").strip()


class FilterForm(FlaskForm):
    class Meta:
        csrf = False

    q = SearchField(_l("搜索"), validators=[Optional(), Length(max=100)])

    def query(self) -> str:
        return _valid(self.q)


class OrgFilterForm(FilterForm):
    kind = SelectField(_l("机构类型"), validators=[Optional()])
    verified = SelectField(_l("认证状态"), validators=[Optional()])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kind.choices = [ALL, *((k, organizations.KIND_LABELS[k]) for k in ORG_KINDS)]
        self.verified.choices = [ALL, ("yes", _l("已认证")), ("no", _l("未认证"))]

    def kind_value(self) -> str | None:
        return _valid(self.kind) or None

    def verified_flag(self) -> bool | None:
        return {"yes": True, "no": False}.get(_valid(self.verified))


class UserFilterForm(FilterForm):
    role = SelectField(_l("角色"), validators=[Optional()])
    status = SelectField(_l("账号状态"), validators=[Optional()])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.role.choices = [ALL, *((r, accounts.ROLE_LABELS[r]) for r in ROLES)]
        self.status.choices = [ALL, ("active", _l("正常")), ("disabled", _l("已停用"))]

    def role_value(self) -> str | None:
        return _valid(self.role) or None

    def disabled_flag(self) -> bool | None:
        return {"active": False, "disabled": True}.get(_valid(self.status))

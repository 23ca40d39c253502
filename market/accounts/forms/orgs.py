"""Organization forms: the profile fields (shared with sign-up), members and invitations."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    EmailField,
    Field,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, InputRequired, Length, Optional, ValidationError

from market.accounts import organizations
from market.accounts import service as accounts
from market.accounts.members import ORG_ROLES
from market.core import reference
from market.core.i18n import industry_label, province_label
from market.dataset.field_rules import Record
from market.models import Organization
from market.models.organization import ORG_SIZES, PARK_BOUND_KINDS

BLANK = ("", _l("请选择"))


def province_choices() -> list[tuple[str, Any]]:
    return [BLANK, *((name, province_label(name)) for name in reference.provinces())]


def park_choices() -> list[tuple[str, Any]]:
    parks = organizations.all_parks()
    return [
        ("", _l("（不属于任何园区）")),
        *((p.ref or "", f"{p.name}（{p.city or p.province}）") for p in parks),
    ]


def size_choices() -> list[tuple[str, Any]]:
    return [("", _l("（不填）")), *((s, organizations.SIZE_LABELS[s]) for s in ORG_SIZES)]


def industry_choices() -> list[tuple[str, Any]]:
    return [(code, industry_label(code)) for code, e in reference.industries().items() if e.parent]


def role_choices() -> list[tuple[str, Any]]:
    return [(role, accounts.ROLE_LABELS[role]) for role in ORG_ROLES]


class OrgFieldsForm(FlaskForm):
    """The organization's own details; ``org`` is the one being edited (None at sign-up)."""

    org_name = StringField(
        _l("机构名称"),
        validators=[InputRequired(message=_l("请填写机构名称。")), Record("organizations", "name")],
    )
    credit_code = StringField(
        _l("统一社会信用代码"),
        validators=[Optional(), Length(max=18, message=_l("统一社会信用代码为 18 位。"))],
        description=_l("18 位，选填；平台管理员据此认证机构。"),
    )
    province = SelectField(
        _l("所在省份"), validators=[DataRequired(message=_l("请选择所在省份。"))]
    )
    city = StringField(
        _l("所在城市"),
        validators=[InputRequired(message=_l("请填写所在城市。")), Record("organizations", "city")],
    )
    park = SelectField(_l("所在园区"), description=_l("园区企业必填。"))
    size = SelectField(_l("企业规模"), validators=[Optional()])

    def __init__(self, *args: Any, org: Organization | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.org = org
        self.province.choices = province_choices()
        self.park.choices = park_choices()
        self.size.choices = size_choices()
        if org is not None and org.kind == "park_operator":
            # A park operator's park decides what its staff moderate: only admins move it.
            del self.park

    def chosen_kind(self) -> str:
        """The organization kind the park rule applies to."""
        return self.org.kind if self.org is not None else ""

    def validate_credit_code(self, field: Field) -> None:
        problem = organizations.credit_code_problem(field.data, self.org)
        if problem:
            raise ValidationError(problem)

    def validate_park(self, field: Field) -> None:
        if self.chosen_kind() in PARK_BOUND_KINDS and not field.data:
            raise ValidationError(_l("园区企业须选择所在园区。"))

    def details(self, kind: str) -> organizations.OrgDetails:
        """The typed values as the service wants them."""
        park_field = self._fields.get("park")
        return organizations.OrgDetails(
            name=self.org_name.data or "",
            kind=kind,
            province=self.province.data or "",
            city=self.city.data or "",
            credit_code=(self.credit_code.data or "").strip() or None,
            park=organizations.park_by_ref(park_field.data) if park_field is not None else None,
            size=self.size.data or None,
        )


class OrgEditForm(OrgFieldsForm):
    industries = SelectMultipleField(
        _l("所属行业"),
        validators=[Optional()],
        description=_l("按国民经济行业分类（GB/T 4754-2017）大类，可多选。"),
    )
    description = TextAreaField(
        _l("机构简介"), validators=[Optional(), Record("organizations", "description")]
    )
    submit = SubmitField(_l("保存"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.industries.choices = industry_choices()

    def details(self, kind: str) -> organizations.OrgDetails:
        details = super().details(kind)
        details.industries = list(self.industries.data or [])
        details.description = self.description.data or ""
        return details


class InviteForm(FlaskForm):
    email = EmailField(
        _l("邮箱"),
        validators=[
            InputRequired(message=_l("请填写邮箱。")),
            Email(message=_l("邮箱格式不正确。")),
            Length(max=254),
        ],
    )
    role = SelectField(_l("角色"), default="member")
    submit = SubmitField(_l("发送邀请"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.role.choices = role_choices()


class RoleForm(FlaskForm):
    role = SelectField(_l("角色"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.role.choices = role_choices()

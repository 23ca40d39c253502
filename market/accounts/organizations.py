"""Organizations: creation, profile edits, verification and the admin's list.

Functions check who may act, change rows and leave committing to the caller.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import or_, select

from market.core import credit_code, mail, permissions, reference
from market.core.errors import DomainError, NotFound
from market.core.extensions import db
from market.core.urls import absolute_url
from market.docking import queries as docking_queries
from market.models import Need, Offering, Organization, Park, User
from market.models.organization import ORG_KINDS, ORG_SIZES, PARK_BOUND_KINDS

KIND_LABELS: dict[str, LazyString] = {
    "solution_provider": _l("解决方案服务商"),
    "financial_institution": _l("金融机构"),
    "training_body": _l("培训机构"),
    "enterprise": _l("园区企业"),
    "park_operator": _l("园区运营机构"),
}
SIZE_LABELS: dict[str, LazyString] = {
    "large": _l("大型"),
    "medium": _l("中型"),
    "small": _l("小型"),
    "micro": _l("微型"),
}
# Park operators run moderation for their park, so only admins (or an import) create them.
SIGNUP_KINDS = ("solution_provider", "financial_institution", "training_body", "enterprise")


@dataclass
class OrgDetails:
    """What a person may say about their organization (sign-up and profile edit)."""

    name: str
    kind: str
    province: str
    city: str
    credit_code: str | None = None
    park: Park | None = None
    size: str | None = None
    industries: list[str] = field(default_factory=list)
    description: str = ""


def get_by_ref(ref: str) -> Organization:
    """The organization with this ref; raises NotFound."""
    org = db.session.scalar(select(Organization).where(Organization.ref == ref))
    if org is None:
        raise NotFound(_("机构不存在，或已被删除。"))
    return org


def park_by_ref(ref: str | None) -> Park | None:
    """The park with this ref, or None for an empty or unknown ref."""
    if not ref:
        return None
    return db.session.scalar(select(Park).where(Park.ref == ref))


def all_parks() -> list[Park]:
    return list(db.session.scalars(select(Park).order_by(Park.province, Park.name)))


def credit_code_problem(code: str | None, org: Organization | None = None) -> str | None:
    """Why ``code`` cannot be this organization's 统一社会信用代码, or None when it can.

    An empty code is fine (it is optional); another organization's code is not.
    """
    if not code:
        return None
    code = credit_code.normalize(code)
    if not credit_code.is_valid(code):
        return _("统一社会信用代码无效：应为 18 位，且校验位正确。")
    stmt = select(Organization.id).where(Organization.credit_code == code)
    if org is not None and org.id is not None:
        stmt = stmt.where(Organization.id != org.id)
    if db.session.scalar(stmt) is not None:
        return _("该统一社会信用代码已被其他机构使用。")
    return None


def _check(details: OrgDetails, org: Organization | None = None) -> None:
    """Raises DomainError on the first rule ``details`` breaks."""
    if not details.name.strip():
        raise DomainError(_("请填写机构名称。"))
    if details.kind not in ORG_KINDS:
        raise DomainError(_("未知的机构类型。"))
    if details.province not in reference.provinces():
        raise DomainError(_("请选择所在省份。"))
    if details.size and details.size not in ORG_SIZES:
        raise DomainError(_("未知的企业规模。"))
    if details.kind in PARK_BOUND_KINDS and details.park is None:
        raise DomainError(_("园区企业须选择所在园区。"))
    unknown = [code for code in details.industries if code not in reference.industries()]
    if unknown:
        raise DomainError(_("未知的行业代码：%(codes)s", codes="、".join(unknown)))
    problem = credit_code_problem(details.credit_code, org)
    if problem:
        raise DomainError(problem)


def check_new(details: OrgDetails) -> None:
    """Raises DomainError when ``create`` would refuse ``details``; writes nothing."""
    if details.kind not in SIGNUP_KINDS:
        raise DomainError(_("园区运营机构由平台管理员创建。"))
    _check(details)


def create(details: OrgDetails) -> Organization:
    """A new, unverified organization of a kind people may sign up as.

    Raises DomainError when a rule is broken (park operators are created by admins only).
    """
    check_new(details)
    org = Organization(verified=False)
    _apply(org, details)
    db.session.add(org)
    db.session.flush()
    return org


def _apply(org: Organization, details: OrgDetails) -> None:
    org.name = details.name.strip()
    org.kind = details.kind
    org.credit_code = credit_code.normalize(details.credit_code) if details.credit_code else None
    org.province = details.province
    org.city = details.city.strip()
    org.park = details.park
    org.size = details.size or None
    org.industries = list(details.industries)
    org.description = details.description.strip()


def update(actor: User, org: Organization, details: OrgDetails) -> bool:
    """Save an org_admin's edit; returns True when the edit cost the org its verification.

    The kind never changes here, and a park operator keeps its park (it decides
    which listings its staff moderate). Changing the name or the credit code of a
    verified organization un-verifies it: the admin verified the old ones.
    Raises PermissionDenied for anyone but the org's own org_admin, DomainError on bad data.
    """
    permissions.require(permissions.can_manage_org(actor, org))
    details.kind = org.kind
    if org.kind == "park_operator":
        details.park = org.park
    _check(details, org)
    new_code = credit_code.normalize(details.credit_code) if details.credit_code else None
    identity_changed = details.name.strip() != org.name or new_code != org.credit_code
    lost = org.verified and identity_changed
    _apply(org, details)
    if lost:
        org.verified = False
    return lost


def contacts(org: Organization) -> list[User]:
    """The people to talk to: the organization's active org admins."""
    return list(
        db.session.scalars(
            select(User)
            .where(User.org_id == org.id, User.role == "org_admin", User.disabled.is_(False))
            .order_by(User.id)
        )
    )


def contacts_for(viewer: Any, org: Organization) -> list[User] | None:
    """The contact people ``viewer`` may see (``permissions.can_see_contacts``), or None
    when their addresses are not for this viewer."""
    docked = bool(getattr(viewer, "is_authenticated", False)) and docking_queries.have_docked(
        viewer.org_id, org.id
    )
    return contacts(org) if permissions.can_see_contacts(viewer, org, docked) else None


def public_offerings(org: Organization) -> list[Offering]:
    """The organization's published offerings that have not expired, newest first."""
    return list(
        db.session.scalars(
            select(Offering)
            .where(Offering.org_id == org.id, Offering.public_clause())
            .order_by(Offering.published_at.desc(), Offering.id.desc())
        )
    )


def open_needs(org: Organization) -> list[Need]:
    """The organization's open needs whose deadline has not passed, newest first."""
    return list(
        db.session.scalars(
            select(Need)
            .where(Need.org_id == org.id, Need.public_clause())
            .order_by(Need.published_at.desc(), Need.id.desc())
        )
    )


def verify(actor: User, org: Organization) -> None:
    """Mark the organization verified and tell its org admins by mail.

    Raises PermissionDenied for non-admins and DomainError when the organization has
    no valid 统一社会信用代码 (verification is a check of that code).
    """
    permissions.require(permissions.is_admin(actor))
    if not org.credit_code or not credit_code.is_valid(org.credit_code):
        raise DomainError(_("该机构没有有效的统一社会信用代码，无法认证。"))
    if org.verified:
        return
    org.verified = True
    for person in contacts(org):
        mail.send(
            person.email,
            _("您的机构已通过认证"),
            "org_verified",
            user=person,
            org=org,
            link=absolute_url("orgs.profile", ref=org.ref),
        )


def unverify(actor: User, org: Organization) -> None:
    """Withdraw the organization's verification; raises PermissionDenied for non-admins."""
    permissions.require(permissions.is_admin(actor))
    org.verified = False


def search(
    *, kind: str | None, verified: bool | None, query: str, page: int, per_page: int
) -> Pagination:
    """One page of organizations for the admin, filtered, in ref order."""
    stmt = select(Organization)
    if kind in ORG_KINDS:
        stmt = stmt.where(Organization.kind == kind)
    if verified is not None:
        stmt = stmt.where(Organization.verified.is_(verified))
    if query:
        stmt = stmt.where(
            or_(
                Organization.name.icontains(query, autoescape=True),
                Organization.ref == query,
                Organization.credit_code == query.upper(),
            )
        )
    stmt = stmt.order_by(Organization.id)
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False)

"""Every route of the site, how to call it for one visitor, and what that visitor may do.

The acceptance tests (authorization matrix, CSRF everywhere, no server errors) walk
``app.url_map`` and look each endpoint up in ``ROUTES``; an endpoint missing here fails
them. The world they run against has two sides, each a park with an organization of
every kind and users of every role: the actors come from side "a", so side "a"'s
records are their "own" and side "b"'s are "foreign".

"Own" means the record of the actor's own organization where that organization can
hold one (an enterprise has no offerings, a provider no needs); otherwise the record of
a sibling organization on the actor's side, which the actor still may not touch.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, url_for
from flask.testing import FlaskClient
from sqlalchemy import Table, select
from werkzeug.security import generate_password_hash
from werkzeug.test import TestResponse

from market import create_app
from market.accounts import service as accounts
from market.accounts import signup
from market.core import credit_code
from market.core.extensions import db
from market.dataset.bulk_upload import TEMPLATE_COLUMNS
from market.models import Need, Offering, Organization, Park, SignupRequest, User, utcnow
from market.models.organization import ORG_KINDS, PARK_BOUND_KINDS
from tests.conftest import (
    PASSWORD,
    IsolatedClient,
    make_need,
    make_offering,
    make_org,
    make_park,
    make_user,
)

# What a visitor gets.
OK = "allowed"
FORBIDDEN = "403"
NOT_FOUND = "404"
LOGIN = "redirect-to-login"

SIDES = ("a", "b")
SCOPE_SIDE = {"own": "a", "foreign": "b"}
LISTER_KINDS = ("solution_provider", "financial_institution", "training_body", "park_operator")
OFFERING_KIND = {
    "solution_provider": "solution",
    "financial_institution": "finance",
    "training_body": "training",
    "park_operator": "training",
}
CATEGORY = {"solution": "application.quality", "finance": "finance.loan", "training": "talent"}
OFFERING_STATES = ("draft", "pending", "published", "rejected", "archived", "expired")
NEED_STATES = ("draft", "pending", "open", "rejected", "closed", "expired")
PREVIEW_STATES = ("draft", "pending", "expired")
PROVINCE = {"a": "江苏省", "b": "浙江省"}
# Static files: no records, no permissions, nothing to check.
SKIPPED_ENDPOINTS = frozenset({"static", "bootstrap.static"})
CSRF_MESSAGE = "表单已过期或缺少安全令牌，请刷新页面后重试。"


@dataclass(frozen=True)
class Actor:
    """One kind of visitor: anonymous, or a user of side "a" with an org kind and a role."""

    name: str
    kind: str | None = None
    role: str | None = None

    @property
    def signed_in(self) -> bool:
        return self.role is not None

    @property
    def lists_offerings(self) -> bool:
        return self.kind in LISTER_KINDS

    @property
    def posts_needs(self) -> bool:
        return self.kind == "enterprise"


ANON = Actor("anonymous")
ACTORS: tuple[Actor, ...] = (
    ANON,
    *(
        Actor(f"{role}@{kind}", kind, role)
        for kind in ORG_KINDS
        for role in ("member", "org_admin")
    ),
    Actor("park_staff@park_operator", "park_operator", "park_staff"),
    Actor("admin", "park_operator", "admin"),
)


def actor_named(name: str) -> Actor:
    return next(actor for actor in ACTORS if actor.name == name)


@dataclass
class World:
    """Refs of everything the tables name; the records themselves live in the database."""

    parks: dict[str, str] = field(default_factory=dict)
    orgs: dict[tuple[str, str], str] = field(default_factory=dict)
    users: dict[tuple[str, str, str], str] = field(default_factory=dict)
    emails: dict[str, str] = field(default_factory=dict)  # user ref -> email
    offerings: dict[tuple[str, str, str], str] = field(default_factory=dict)
    needs: dict[tuple[str, str], str] = field(default_factory=dict)
    targets: dict[tuple[str, str], str] = field(default_factory=dict)
    invitations: dict[tuple[str, str], str] = field(default_factory=dict)
    reset_tokens: dict[str, str] = field(default_factory=dict)

    def actor_ref(self, actor: Actor) -> str:
        assert actor.kind and actor.role
        return self.users[("a", actor.kind, actor.role)]

    def actor_email(self, actor: Actor) -> str:
        return self.emails[self.actor_ref(actor)]


# --- Building the world ----------------------------------------------------------------------

_codes = iter(range(1, 10**6))


@cache
def password_hash() -> str:
    """One hash for every user, and a cheap one: these tests sign in hundreds of times,
    and the production scrypt parameters cost 80 ms a check."""
    return generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")


def new_credit_code() -> str:
    first17 = f"91320000{next(_codes):09d}"
    return first17 + credit_code.check_digit(first17)


def new_user(org: Organization | None, role: str = "member", **fields: Any) -> User:
    return make_user(org=org, role=role, password=None, password_hash=password_hash(), **fields)


def new_org(kind: str, side: str, **fields: Any) -> Organization:
    park = _park(side) if kind in PARK_BOUND_KINDS else None
    values: dict[str, Any] = {
        "kind": kind,
        "park": park,
        "province": PROVINCE[side],
        "credit_code": new_credit_code(),
        "verified": True,
    }
    values.update(fields)
    return make_org(**values)


def _park(side: str) -> Park:
    park = db.session.scalar(select(Park).where(Park.ref == f"P-{side.upper()}"))
    assert park is not None
    return park


def new_offering(org: Organization, side: str, status: str) -> Offering:
    kind = OFFERING_KIND[org.kind]
    values: dict[str, Any] = {
        "org": org,
        "kind": kind,
        "category": CATEGORY[kind],
        "title": f"{org.name}的{status}供给",
        "regions": [PROVINCE[side]],
        "parks": [_park(side)],
        "status": "published" if status == "expired" else status,
    }
    if kind == "training":
        values["mode"] = "offline"
    if status == "expired":
        values["expires_at"] = utcnow() - timedelta(days=1)
    elif status == "published":
        values["expires_at"] = utcnow() + timedelta(days=90)
    if status == "rejected":
        values["reject_reason"] = "资料不全"
    return make_offering(**values)


def new_need(org: Organization, side: str, status: str) -> Need:
    today = utcnow().date()
    return make_need(
        org=org,
        park=_park(side),
        title=f"{org.name}的{status}需求",
        status="open" if status == "expired" else status,
        deadline=today - timedelta(days=1) if status == "expired" else today + timedelta(days=60),
        reject_reason="预算不明确" if status == "rejected" else None,
    )


def ref_of(record: Any) -> str:
    """A record's ref, which every flushed record has."""
    assert record.ref, record
    return str(record.ref)


# Functions that add a feature's records (and refs or tokens in ``world.targets``) to the
# world; each feature's block below appends its own.
WORLD_EXTENSIONS: list[Callable[[World], None]] = []


def build_world() -> World:
    """Two parks with an organization of every kind, users of every role and listings in
    every status on each side, plus targets for the admin pages and valid tokens.

    Runs inside an app context and commits.
    """
    world = World()
    for side in SIDES:
        park = make_park(
            ref=f"P-{side.upper()}", name=f"园区{side.upper()}", province=PROVINCE[side]
        )
        world.parks[side] = ref_of(park)
        for kind in ORG_KINDS:
            org = new_org(kind, side, name=f"{side.upper()}侧{kind}机构")
            world.orgs[(side, kind)] = ref_of(org)
            roles = ["member", "org_admin"]
            if kind == "park_operator":
                roles += ["park_staff"] + (["admin"] if side == "a" else [])
            for role in roles:
                user = new_user(org, role, email=f"{role}.{kind}.{side}@example.com")
                world.users[(side, kind, role)] = ref_of(user)
                world.emails[ref_of(user)] = user.email
            if kind in LISTER_KINDS:
                for status in OFFERING_STATES:
                    world.offerings[(side, kind, status)] = ref_of(new_offering(org, side, status))
            if kind == "enterprise":
                for status in NEED_STATES:
                    world.needs[(side, status)] = ref_of(new_need(org, side, status))
            token = accounts.invitation_token(
                org.id, f"invitee.{kind}.{side}@example.com", "member"
            )
            world.invitations[(side, kind)] = token
        # What the admin pages act on: an org to verify, one to unverify, users either way.
        unverified = new_org("solution_provider", side, verified=False)
        world.targets[(side, "unverified_org")] = ref_of(unverified)
        world.targets[(side, "verified_org")] = ref_of(new_org("training_body", side))
        provider = _org(world.orgs[(side, "solution_provider")])
        world.targets[(side, "enabled_user")] = ref_of(new_user(provider))
        world.targets[(side, "disabled_user")] = ref_of(new_user(provider, disabled=True))
        reset_user = new_user(provider)
        world.reset_tokens[side] = accounts.reset_token(reset_user)
    for extend in WORLD_EXTENSIONS:  # records of later features, each from its own block
        extend(world)
    db.session.commit()
    return world


# --- Disposable records: allowed writes act on these, so the world stays as built ------------


def _org(ref: str) -> Organization:
    org = db.session.scalar(select(Organization).where(Organization.ref == ref))
    assert org is not None, ref
    return org


def fresh_offering(world: World, side: str, kind: str, status: str) -> dict[str, str]:
    item = new_offering(_org(world.orgs[(side, kind)]), side, status)
    db.session.commit()
    return {"ref": item.ref or ""}


def fresh_need(world: World, side: str, status: str) -> dict[str, str]:
    item = new_need(_org(world.orgs[(side, "enterprise")]), side, status)
    db.session.commit()
    return {"ref": item.ref or ""}


def fresh_member(world: World, side: str, kind: str) -> dict[str, str]:
    org = _org(world.orgs[(side, kind)])
    user = new_user(org)
    db.session.commit()
    return {"ref": org.ref or "", "user_ref": user.ref or ""}


def fresh_target(world: World, side: str, what: str) -> dict[str, str]:
    if what == "unverified_org":
        ref = new_org("solution_provider", side, verified=False).ref
    elif what == "verified_org":
        ref = new_org("training_body", side).ref
    else:
        ref = new_user(
            _org(world.orgs[(side, "solution_provider")]), disabled=what != "enabled_user"
        ).ref
    db.session.commit()
    return {"ref": ref or ""}


# --- Form payloads that would succeed, so a missing check would show as a change -------------

Payload = Callable[[World, Actor, dict[str, str]], dict[str, Any]]


def offering_payload(kind: str) -> dict[str, Any]:
    data: dict[str, Any] = {
        "kind": kind,
        "category": CATEGORY[kind],
        "title": "越权写入的供给标题",
        "summary": "摘要",
        "description": "详细描述：任何越权请求都不应写入这段文字。",
        "tags": "测试",
        "industries": ["C36"],
        "regions": ["江苏省"],
        "save": "保存草稿",
    }
    if kind == "training":
        data["mode"] = "offline"
    return data


def new_offering_form(world: World, actor: Actor, values: dict[str, str]) -> dict[str, Any]:
    return offering_payload(OFFERING_KIND.get(actor.kind or "", "solution"))


def edit_offering_form(world: World, actor: Actor, values: dict[str, str]) -> dict[str, Any]:
    item = db.session.scalar(select(Offering).where(Offering.ref == values["ref"]))
    assert item is not None
    return offering_payload(item.kind)


def need_form(world: World, actor: Actor, values: dict[str, str]) -> dict[str, Any]:
    return {
        "category": "application.quality",
        "title": "越权写入的需求标题",
        "description": "详细描述：任何越权请求都不应写入这段文字。",
        "tags": "测试",
        "industries": ["C36"],
        "budget_min": "100000",
        "budget_max": "200000",
        "deadline": (utcnow().date() + timedelta(days=30)).isoformat(),
        "save": "保存草稿",
    }


def upload_form(world: World, actor: Actor, values: dict[str, str]) -> dict[str, Any]:
    kind = OFFERING_KIND.get(actor.kind or "", "solution")
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([header for _key, header in TEMPLATE_COLUMNS])
    row = {"title": "批量导入的供给", "category": CATEGORY[kind], "description": "批量导入的描述"}
    writer.writerow([row.get(key, "") for key, _header in TEMPLATE_COLUMNS])
    data = out.getvalue().encode("utf-8-sig")
    return {"file": (io.BytesIO(data), "offerings.csv"), "upload": "上传并导入"}


def org_form(world: World, actor: Actor, values: dict[str, str]) -> dict[str, Any]:
    org = _org(values["ref"])
    return {
        "org_name": org.name,
        "credit_code": org.credit_code or "",
        "province": org.province,
        "city": org.city,
        "park": org.park.ref if org.park else "",
        "size": org.size or "",
        "industries": list(org.industries or []),
        "description": "越权写入的机构简介",
    }


def fixed(data: dict[str, Any]) -> Payload:
    def payload(world: World, actor: Actor, values: dict[str, str]) -> dict[str, Any]:
        return dict(data)

    return payload


# --- The table ---------------------------------------------------------------------------------

Fresh = Callable[[], dict[str, str]]


@dataclass(frozen=True)
class Case:
    """One request's URL values and the answer one actor must get.

    ``fresh`` builds disposable records for a write the actor is allowed to make.
    """

    label: str
    values: dict[str, str]
    expected: str
    fresh: Fresh | None = None


class Spec:
    """How one endpoint answers each actor."""

    payload: Payload | None = None
    # An allowed write changes the database or the outbox (checked, so that "nothing
    # changed" after a refused one means the check worked, not that the form was bad).
    changes: bool = False
    # The request ends the actor's sign-in (sign in again afterwards).
    ends_session: bool = False

    def cases(self, world: World, actor: Actor) -> list[Case]:
        raise NotImplementedError


class Public(Spec):
    """Anyone, signed in or not."""

    def __init__(
        self, values: dict[str, str] | None = None, payload: Payload | None = None
    ) -> None:
        self.values = values or {}
        self.payload = payload

    def cases(self, world: World, actor: Actor) -> list[Case]:
        return [Case("-", self.values, OK)]


class SignedIn(Spec):
    """Any signed-in user; visitors are sent to the login page."""

    def __init__(
        self,
        values: dict[str, str] | None = None,
        allowed: Callable[[Actor], bool] = lambda actor: True,
        payload: Payload | None = None,
        changes: bool = False,
        ends_session: bool = False,
    ) -> None:
        self.values = values or {}
        self.allowed = allowed
        self.payload = payload
        self.changes = changes
        self.ends_session = ends_session

    def cases(self, world: World, actor: Actor) -> list[Case]:
        if not actor.signed_in:
            return [Case("-", self.values, LOGIN)]
        return [Case("-", self.values, OK if self.allowed(actor) else FORBIDDEN)]


def is_admin(actor: Actor) -> bool:
    return actor.role == "admin"


def is_moderator(actor: Actor) -> bool:
    return actor.role in ("admin", "park_staff")


def offering_owner_kind(actor: Actor) -> str:
    """The kind of organization whose offerings are the actor's "own" (or its sibling's)."""
    return actor.kind if actor.kind in LISTER_KINDS else "solution_provider"


def owns(actor: Actor, side: str, kind: str) -> bool:
    return actor.signed_in and side == "a" and actor.kind == kind


def whose(actor: Actor, scope: str, kind: str) -> str:
    """The case's label: own, foreign, or own side but another organization's record."""
    if scope == "own" and not owns(actor, "a", kind):
        return "own-side (another org's)"
    return scope


def moderates(actor: Actor, side: str) -> bool:
    """Admins moderate everything, park staff their own park (side "a")."""
    return actor.role == "admin" or (actor.role == "park_staff" and side == "a")


def public_status(model: str, status: str) -> bool:
    return status == ("published" if model == "offering" else "open")


class ListingView(Spec):
    """Detail and preview pages: public listings for all, others for owners and moderators."""

    def __init__(self, model: str, login: bool, states: tuple[str, ...] | None = None) -> None:
        self.model = model
        self.login = login
        self.states = states or (OFFERING_STATES if model == "offering" else NEED_STATES)

    def cases(self, world: World, actor: Actor) -> list[Case]:
        out = []
        for scope, side in SCOPE_SIDE.items():
            kind = offering_owner_kind(actor) if self.model == "offering" else "enterprise"
            for status in self.states:
                ref = (
                    world.offerings[(side, kind, status)]
                    if self.model == "offering"
                    else world.needs[(side, status)]
                )
                if self.login and not actor.signed_in:
                    expected = LOGIN
                elif (
                    public_status(self.model, status)
                    or owns(actor, side, kind)
                    or moderates(actor, side)
                ):
                    expected = OK
                else:
                    expected = NOT_FOUND
                out.append(Case(f"{whose(actor, scope, kind)} {status}", {"ref": ref}, expected))
        return out


class ListingWrite(Spec):
    """Edit pages and lifecycle steps: members of the owning organization only."""

    changes = True

    def __init__(self, model: str, status: str, payload: Payload | None = None) -> None:
        self.model = model
        self.status = status
        self.payload = payload

    def cases(self, world: World, actor: Actor) -> list[Case]:
        out = []
        kind = offering_owner_kind(actor) if self.model == "offering" else "enterprise"
        for scope, side in SCOPE_SIDE.items():
            if self.model == "offering":
                ref = world.offerings[(side, kind, self.status)]
            else:
                ref = world.needs[(side, self.status)]
            if not actor.signed_in:
                expected = LOGIN
            else:
                expected = OK if owns(actor, side, kind) else FORBIDDEN
            out.append(
                Case(
                    whose(actor, scope, kind),
                    {"ref": ref},
                    expected,
                    self._fresh(world, side, kind),
                )
            )
        return out

    def _fresh(self, world: World, side: str, kind: str) -> Fresh:
        if self.model == "offering":
            return lambda: fresh_offering(world, side, kind, self.status)
        return lambda: fresh_need(world, side, self.status)


class Moderate(Spec):
    """Approve and reject: admins anywhere, park staff inside their park, nobody else."""

    changes = True

    def __init__(self, item_type: str, payload: Payload | None = None) -> None:
        self.item_type = item_type
        self.payload = payload

    def cases(self, world: World, actor: Actor) -> list[Case]:
        out = []
        kind = offering_owner_kind(actor)
        for scope, side in SCOPE_SIDE.items():
            if self.item_type == "offering":
                ref = world.offerings[(side, kind, "pending")]
            else:
                ref = world.needs[(side, "pending")]
            allowed = moderates(actor, side)
            expected = (OK if allowed else FORBIDDEN) if actor.signed_in else LOGIN
            out.append(
                Case(
                    whose(actor, scope, kind),
                    {"item_type": self.item_type, "ref": ref},
                    expected,
                    self._fresh(world, side, kind),
                )
            )
        return out

    def _fresh(self, world: World, side: str, kind: str) -> Fresh:
        if self.item_type == "offering":
            return lambda: {"item_type": "offering", **fresh_offering(world, side, kind, "pending")}
        return lambda: {"item_type": "need", **fresh_need(world, side, "pending")}


class OrgRecord(Spec):
    """Organization pages: the profile is public; the rest is for the org's own org admins."""

    def __init__(
        self,
        public: bool = False,
        member: bool = False,
        payload: Payload | None = None,
        changes: bool = False,
    ) -> None:
        self.public = public
        self.member = member
        self.payload = payload
        self.changes = changes

    def cases(self, world: World, actor: Actor) -> list[Case]:
        out = []
        kind = actor.kind or "solution_provider"
        for scope, side in SCOPE_SIDE.items():
            values = {"ref": world.orgs[(side, kind)]}
            if self.member:
                values["user_ref"] = world.users[(side, kind, "member")]
            if self.public:
                expected = OK
            elif not actor.signed_in:
                expected = LOGIN
            else:
                expected = OK if actor.role == "org_admin" and side == "a" else FORBIDDEN
            fresh = None
            if self.member:
                fresh = self._fresh_member(world, side, kind)
            out.append(Case(scope, values, expected, fresh))
        return out

    @staticmethod
    def _fresh_member(world: World, side: str, kind: str) -> Fresh:
        return lambda: fresh_member(world, side, kind)


class AdminTarget(Spec):
    """Admin actions on an organization or user: platform admins only."""

    changes = True

    def __init__(self, target: str) -> None:
        self.target = target

    def cases(self, world: World, actor: Actor) -> list[Case]:
        out = []
        for scope, side in SCOPE_SIDE.items():
            expected = (OK if is_admin(actor) else FORBIDDEN) if actor.signed_in else LOGIN
            values = {"ref": world.targets[(side, self.target)]}
            out.append(Case(scope, values, expected, self._fresh(world, side)))
        return out

    def _fresh(self, world: World, side: str) -> Fresh:
        return lambda: fresh_target(world, side, self.target)


class PublicRecords(Spec):
    """Pages about one park or organization: public for everyone, own side and foreign."""

    def __init__(self, pick: Callable[[World, str], str]) -> None:
        self.pick = pick

    def cases(self, world: World, actor: Actor) -> list[Case]:
        return [
            Case(scope, {"ref": self.pick(world, side)}, OK) for scope, side in SCOPE_SIDE.items()
        ]


class ApiListing(Spec):
    """The API shows public listings only, whoever asks.

    It ignores the sign-in cookie, so it is asked as a visitor and as the most
    privileged user (an admin, who may see every draft on the site) only.
    """

    def __init__(self, model: str) -> None:
        self.model = model

    def cases(self, world: World, actor: Actor) -> list[Case]:
        if actor.signed_in and actor.role != "admin":
            return []
        out = []
        for scope, side in SCOPE_SIDE.items():
            kind = offering_owner_kind(actor)
            for status in OFFERING_STATES if self.model == "offering" else NEED_STATES:
                ref = (
                    world.offerings[(side, kind, status)]
                    if self.model == "offering"
                    else world.needs[(side, status)]
                )
                expected = OK if public_status(self.model, status) else NOT_FOUND
                out.append(Case(f"{scope} {status}", {"ref": ref}, expected))
        return out


class Token(Spec):
    """Links mailed to someone: whoever holds a valid token may open the page."""

    def __init__(self, pick: Callable[[World, Actor, str], str]) -> None:
        self.pick = pick

    def cases(self, world: World, actor: Actor) -> list[Case]:
        return [
            Case(scope, {"token": self.pick(world, actor, side)}, OK)
            for scope, side in SCOPE_SIDE.items()
        ]


def _invitation(world: World, actor: Actor, side: str) -> str:
    return world.invitations[(side, actor.kind or "solution_provider")]


def _signup_world(world: World) -> None:
    """A sign-up waiting for its mailed link on each side: the link's token."""
    for side in SCOPE_SIDE.values():
        row = SignupRequest(
            email=f"newcomer.{side}@example.com",
            name="新用户",
            password_hash=password_hash(),
            org={"name": f"新注册机构{side}", "kind": "solution_provider", "province": "江苏省"},
        )
        db.session.add(row)
        db.session.flush()
        world.targets[(side, "signup_token")] = signup.confirm_token(row)


WORLD_EXTENSIONS.append(_signup_world)


def _lang(world: World, actor: Actor, values: dict[str, str]) -> dict[str, Any]:
    return {"lang": "zh", "next": "/"}


def _move_form(world: World, actor: Actor, values: dict[str, str]) -> dict[str, Any]:
    """Hand the need to the park of the other side."""
    need = db.session.scalar(select(Need).where(Need.ref == values["ref"]))
    assert need is not None
    return {"park": world.parks["b" if need.park.ref == world.parks["a"] else "a"]}


# --- parkops: park dashboards, chain map, 招商 invitations, campaign reports ----------------


def _parkops_world(world: World) -> None:
    """An open invitation from each side's park to the other side's solution provider,
    keyed by the side of the *offering* (``own`` = the actor's side's provider)."""
    for offering_side, park_side in (("a", "b"), ("b", "a")):
        world.targets[(offering_side, "park_invitation")] = _new_park_invitation(
            world, offering_side, park_side
        )


def _new_park_invitation(world: World, offering_side: str, park_side: str) -> str:
    from market.models import ParkInvitation
    from market.parkops import invitations as park_invitations

    offering = db.session.scalar(
        select(Offering).where(
            Offering.ref == world.offerings[(offering_side, "solution_provider", "published")]
        )
    )
    assert offering is not None
    invitation = ParkInvitation(
        park=_park(park_side),
        offering=offering,
        provider_org_id=offering.org_id,
        status="sent",
        expires_at=utcnow() + timedelta(days=14),
    )
    db.session.add(invitation)
    db.session.flush()
    return park_invitations.token_for(invitation)


WORLD_EXTENSIONS.append(_parkops_world)


class ParkRun(Spec):
    """Park operations pages: admins for every park, park staff for their own (side "a")."""

    def __init__(
        self,
        values: dict[str, str] | None = None,
        payload: Payload | None = None,
        fresh: Callable[[World, str], dict[str, str]] | None = None,
    ) -> None:
        self.values = values or {}
        self.payload = payload
        self.fresh = fresh
        self.changes = fresh is not None

    def cases(self, world: World, actor: Actor) -> list[Case]:
        out = []
        for scope, side in SCOPE_SIDE.items():
            allowed = OK if moderates(actor, side) else FORBIDDEN
            expected = allowed if actor.signed_in else LOGIN
            fresh = self._fresh(world, side) if self.fresh else None
            out.append(Case(scope, {"ref": world.parks[side], **self.values}, expected, fresh))
        return out

    def _fresh(self, world: World, side: str) -> Fresh:
        assert self.fresh is not None
        make = self.fresh
        return lambda: make(world, side)


class InvitationAnswer(Spec):
    """Accept/decline a park's invitation: members of the invited offering's organization."""

    changes = True

    def cases(self, world: World, actor: Actor) -> list[Case]:
        out = []
        for scope, side in SCOPE_SIDE.items():
            allowed = OK if owns(actor, side, "solution_provider") else FORBIDDEN
            expected = allowed if actor.signed_in else LOGIN
            token = world.targets[(side, "park_invitation")]
            fresh = self._fresh(world, side)
            out.append(
                Case(whose(actor, scope, "solution_provider"), {"token": token}, expected, fresh)
            )
        return out

    @staticmethod
    def _fresh(world: World, side: str) -> Fresh:
        other = "b" if side == "a" else "a"

        def make() -> dict[str, str]:
            fresh_offering(world, side, "solution_provider", "published")
            token = _new_park_invitation(world, side, other)
            db.session.commit()
            return {"token": token}

        return make


def _park_side(world: World, ref: str) -> str:
    return next(side for side, park_ref in world.parks.items() if park_ref == ref)


def _invite_form(world: World, actor: Actor, values: dict[str, str]) -> dict[str, Any]:
    """Invite the other side's published offering (a fresh one for allowed requests)."""
    other = "b" if _park_side(world, values["ref"]) == "a" else "a"
    offering = values.get("offering") or world.offerings[(other, "solution_provider", "published")]
    return {"offering": offering, "message": "欢迎入园服务"}


def _fresh_invitee(world: World, side: str) -> dict[str, str]:
    other = "b" if side == "a" else "a"
    offering = fresh_offering(world, other, "solution_provider", "published")["ref"]
    return {"ref": world.parks[side], "offering": offering}


PROVINCE_A = {"province": PROVINCE["a"]}
CHAIN_SEGMENT = {"division": "C36", "segment": "quality"}


# --- docking: 对接 requests, interest, registrations, financing -------------------------------

# World dockings per side, by target name: (kind, status, provider org kind).
DOCKING_TARGETS = {
    "requested": ("request", "requested", "solution_provider"),
    "accepted": ("request", "accepted", "solution_provider"),
    "negotiating": ("request", "negotiating", "solution_provider"),
    "registered": ("registration", "registered", "training_body"),
}


def _new_docking(world: World, side: str, target: str, offering_ref: str | None = None) -> str:
    """A docking between the side's enterprise and the side's provider, in the target's
    status, on the provider's world offering (or ``offering_ref``)."""
    from market.models.docking import Docking, DockingEvent

    kind, status, provider_kind = DOCKING_TARGETS[target]
    ref = offering_ref or world.offerings[(side, provider_kind, "published")]
    offering = db.session.scalar(select(Offering).where(Offering.ref == ref))
    enterprise = _org(world.orgs[(side, "enterprise")])
    assert offering is not None
    docking = Docking(
        kind=kind,
        offering=offering,
        enterprise_org_id=enterprise.id,
        provider_org_id=offering.org_id,
        initiator_org_id=enterprise.id,
        park_id=enterprise.park_id,
        message="权限矩阵用的对接",
        status=status,
        source="listing",
    )
    db.session.add(docking)
    db.session.flush()
    db.session.add(DockingEvent(docking=docking, status=status, actor_org_id=enterprise.id))
    db.session.flush()
    return ref_of(docking)


def _docking_world(world: World) -> None:
    for side in SIDES:
        for target in DOCKING_TARGETS:
            world.targets[(side, f"docking:{target}")] = _new_docking(world, side, target)


WORLD_EXTENSIONS.append(_docking_world)


def _fresh_docking(world: World, side: str, target: str) -> dict[str, str]:
    """A docking of its own for an allowed step (on a fresh offering: no duplicates)."""
    provider_kind = DOCKING_TARGETS[target][2]
    offering = fresh_offering(world, side, provider_kind, "published")["ref"]
    ref = _new_docking(world, side, target, offering)
    db.session.commit()
    return {"ref": ref}


class DockingStart(Spec):
    """The docking form on a public offering (of another side's provider): enterprises."""

    changes = True

    def __init__(self) -> None:
        self.payload = fixed({"message": "权限矩阵：希望对接"})

    def cases(self, world: World, actor: Actor) -> list[Case]:
        expected = LOGIN if not actor.signed_in else OK if actor.kind == "enterprise" else FORBIDDEN
        offering = world.offerings[("b", "solution_provider", "published")]
        return [Case("public offering", {"offering": offering}, expected, self._fresh(world))]

    @staticmethod
    def _fresh(world: World) -> Fresh:
        def make() -> dict[str, str]:
            return {"offering": fresh_offering(world, "b", "solution_provider", "published")["ref"]}

        return make


def _interest_form(world: World, actor: Actor, values: dict[str, str]) -> dict[str, Any]:
    """The actor's own published offering (any lister's), on the need in the URL."""
    kind = actor.kind if actor.kind in LISTER_KINDS else "solution_provider"
    return {"offering": world.offerings[("a", kind, "published")], "message": "我们可以做"}


class DockingInterest(Spec):
    """表达意向 on an open need of another side's enterprise: organizations that list."""

    changes = True

    def __init__(self) -> None:
        self.payload = _interest_form

    def cases(self, world: World, actor: Actor) -> list[Case]:
        expected = LOGIN if not actor.signed_in else OK if actor.lists_offerings else FORBIDDEN
        need = world.needs[("b", "open")]
        return [Case("public need", {"need": need}, expected, self._fresh(world))]

    @staticmethod
    def _fresh(world: World) -> Fresh:
        return lambda: {"need": fresh_need(world, "b", "open")["ref"]}


class DockingRecord(Spec):
    """One docking's page or step: the parties named (each an org kind on the docking's
    side) may; others get 403; ``viewers`` adds park staff of that park and admins."""

    def __init__(
        self,
        target: str,
        parties: tuple[str, ...],
        viewers: bool = False,
        payload: Payload | None = None,
    ) -> None:
        self.target = target
        self.parties = parties
        self.viewers = viewers
        self.payload = payload
        self.changes = not viewers

    def cases(self, world: World, actor: Actor) -> list[Case]:
        out = []
        for scope, side in SCOPE_SIDE.items():
            allowed = any(owns(actor, side, kind) for kind in self.parties)
            if self.viewers:
                allowed = allowed or moderates(actor, side)
            expected = (OK if allowed else FORBIDDEN) if actor.signed_in else LOGIN
            values = {"ref": world.targets[(side, f"docking:{self.target}")]}
            fresh = None if self.viewers else self._fresh(world, side)
            out.append(Case(whose(actor, scope, self.parties[0]), values, expected, fresh))
        return out

    def _fresh(self, world: World, side: str) -> Fresh:
        return lambda: _fresh_docking(world, side, self.target)


class Roster(Spec):
    """A course's registration roster: the training body's members, and admins."""

    def __init__(self, values: dict[str, str] | None = None) -> None:
        self.values = values or {}

    def cases(self, world: World, actor: Actor) -> list[Case]:
        out = []
        for scope, side in SCOPE_SIDE.items():
            allowed = owns(actor, side, "training_body") or actor.role == "admin"
            expected = (OK if allowed else FORBIDDEN) if actor.signed_in else LOGIN
            ref = world.offerings[(side, "training_body", "published")]
            out.append(
                Case(whose(actor, scope, "training_body"), {"ref": ref, **self.values}, expected)
            )
        return out


BOTH = ("enterprise", "solution_provider")
COURSE = ("enterprise", "training_body")


# --- match-app: 不相关 feedback on recommendations, the admins' weights and feedback list ---


def _need_feedback_form(world: World, actor: Actor, values: dict[str, str]) -> dict[str, Any]:
    return {"partner": world.offerings[("a", "solution_provider", "published")], "reason": "无关"}


def _offering_feedback_form(world: World, actor: Actor, values: dict[str, str]) -> dict[str, Any]:
    return {"partner": world.needs[("a", "open")], "reason": "不做这个行业"}


MATCH_WEIGHTS = {"threshold": "35", "category": "25", "capability": "35", "industry": "10"}
MATCH_WEIGHTS.update({"park": "5", "verified": "5", "price": "10", "freshness": "5"})
MATCH_WEIGHTS["response"] = "5"


# --- catalogue: 供需目录清单 (compile, publish, withdraw; public editions and downloads) -----


def _new_catalogue_edition(side: str, status: str) -> str:
    """An edition of the side's park: a draft, a scheduled draft or a published edition."""
    from market.catalogue import compile as catalogue_compile
    from market.catalogue import service as catalogue_service

    edition = catalogue_service.new_edition(catalogue_compile.park_scope(_park(side)), None)
    if status == "scheduled":
        catalogue_service.schedule(edition, utcnow() + timedelta(days=7))
    elif status == "published":
        catalogue_service.publish(edition, None)
    db.session.flush()
    return ref_of(edition)


def _catalogue_world(world: World) -> None:
    for side in SIDES:
        for status in ("draft", "scheduled", "published"):
            world.targets[(side, f"catalogue_{status}")] = _new_catalogue_edition(side, status)


WORLD_EXTENSIONS.append(_catalogue_world)


class CatalogueRun(Spec):
    """Compiling a park's edition: the park's staff (side "a") and admins; 403 for others."""

    def __init__(self, status: str, payload: Payload | None = None, write: bool = False) -> None:
        self.status = status
        self.payload = payload
        self.changes = write

    def cases(self, world: World, actor: Actor) -> list[Case]:
        out = []
        for scope, side in SCOPE_SIDE.items():
            allowed = OK if moderates(actor, side) else FORBIDDEN
            expected = allowed if actor.signed_in else LOGIN
            ref = world.targets[(side, f"catalogue_{self.status}")]
            fresh = self._fresh(side) if self.changes else None
            out.append(Case(scope, {"ref": ref}, expected, fresh))
        return out

    def _fresh(self, side: str) -> Fresh:
        status = self.status

        def make() -> dict[str, str]:
            ref = _new_catalogue_edition(side, status)
            db.session.commit()
            return {"ref": ref}

        return make


class CatalogueRead(Spec):
    """Published editions for everyone; drafts for their compilers only (404 otherwise)."""

    def __init__(self, values: dict[str, str] | None = None, drafts: bool = True) -> None:
        self.values = values or {}
        self.drafts = drafts

    def cases(self, world: World, actor: Actor) -> list[Case]:
        out = []
        for scope, side in SCOPE_SIDE.items():
            published = world.targets[(side, "catalogue_published")]
            out.append(Case(f"{scope} published", {"ref": published, **self.values}, OK))
            if self.drafts:
                draft = world.targets[(side, "catalogue_draft")]
                expected = OK if moderates(actor, side) else NOT_FOUND
                out.append(Case(f"{scope} draft", {"ref": draft, **self.values}, expected))
        return out


def _catalogue_schedule_form(world: World, actor: Actor, values: dict[str, str]) -> dict[str, Any]:
    later = utcnow() + timedelta(days=3)
    return {"when": later.strftime("%Y-%m-%dT%H:%M")}


def _catalogue_toggle_form(world: World, actor: Actor, values: dict[str, str]) -> dict[str, Any]:
    # A key of the edition's own (fresh editions start with their predecessor's exclusions).
    return {"key": "S:" + "".join(ch for ch in values["ref"] if ch.isdigit()), "include": "0"}


CATALOGUE_NEW = fixed({"scope": "park", "park": "P-A"})


# --- scheduler + digest: preferences, unsubscribe and renew links, admin pages ------------------


def _digest_world(world: World) -> None:
    """Per side: an unsubscribe link of the enterprise member, a renew link of the provider's
    published offering, a user to preview, and a failed digest row to resolve."""
    from market.core.links import unsubscribe_token

    for side in SIDES:
        member = db.session.scalar(
            select(User).where(User.ref == world.users[(side, "enterprise", "member")])
        )
        assert member is not None
        world.targets[(side, "unsubscribe_token")] = unsubscribe_token(member.id)
        world.targets[(side, "renew_token")] = _renew_link(world, side)
        world.targets[(side, "digest_user")] = ref_of(member)
        world.targets[(side, "ledger_row")] = _failed_digest(member.id)


def _renew_link(world: World, side: str) -> str:
    from market.core.links import renew_token

    ref = world.offerings[(side, "solution_provider", "published")]
    offering = db.session.scalar(select(Offering).where(Offering.ref == ref))
    assert offering is not None
    return renew_token("offering", offering.id, offering.expires_at)


_digest_weeks = iter(range(1, 53))


def _failed_digest(user_id: int) -> str:
    from market.models import DigestLedger

    row = DigestLedger(
        user_id=user_id,
        iso_week=f"2020-W{next(_digest_weeks):02d}",
        status="failed",
        error="SMTPServerDisconnected",
        cutoff_at=utcnow(),
    )
    db.session.add(row)
    db.session.flush()
    return str(row.id)


WORLD_EXTENSIONS.append(_digest_world)


class MailedLink(Spec):
    """A renew link from an expiry mail: whoever holds it may use it, signed in or not.
    Allowed writes renew a fresh listing (a used link stops working)."""

    def cases(self, world: World, actor: Actor) -> list[Case]:
        return [
            Case(
                f"link to side {side}",
                {"token": world.targets[(side, "renew_token")]},
                OK,
                self._fresh(world, side),
            )
            for side in SIDES
        ]

    @staticmethod
    def _fresh(world: World, side: str) -> Fresh:
        def make() -> dict[str, str]:
            from market.core.links import renew_token

            fresh = fresh_offering(world, side, "solution_provider", "published")["ref"]
            offering = db.session.scalar(select(Offering).where(Offering.ref == fresh))
            assert offering is not None
            return {"token": renew_token("offering", offering.id, offering.expires_at)}

        return make


class DigestAdmin(Spec):
    """Admin digest pages about one user (or one ledger row) per side: admins only."""

    def __init__(self, target: str, key: str, write: bool = False) -> None:
        self.target = target
        self.key = key
        self.changes = write
        self.payload = fixed({"action": "resend"}) if write else None
        self.write = write

    def cases(self, world: World, actor: Actor) -> list[Case]:
        out = []
        for scope, side in SCOPE_SIDE.items():
            expected = (OK if is_admin(actor) else FORBIDDEN) if actor.signed_in else LOGIN
            fresh = self._fresh(world, side) if self.write else None
            values = {self.key: world.targets[(side, self.target)]}
            out.append(Case(scope, values, expected, fresh))
        return out

    def _fresh(self, world: World, side: str) -> Fresh:
        def make() -> dict[str, str]:
            member = db.session.scalar(
                select(User).where(User.ref == world.users[(side, "enterprise", "member")])
            )
            assert member is not None
            row_id = _failed_digest(member.id)
            db.session.commit()
            return {self.key: row_id}

        return make


# --- concept map: admins' synonyms and problem phrases, the zero-result list ------------------


def _concept_id() -> str:
    """A concept of the map in use (its files; the first id, so every run picks the same)."""
    from market.listing_search.indexing import file_concepts

    return sorted(file_concepts().concepts)[0]


def _new_concept_entry(term: str) -> str:
    from market.models import ConceptEntry

    entry = ConceptEntry(concept=_concept_id(), kind="problem", term=term)
    db.session.add(entry)
    db.session.flush()
    return ref_of(entry)


def _concepts_world(world: World) -> None:
    from market.models import ZeroResultQuery

    world.targets[("a", "concept_entry")] = _new_concept_entry("世界里的问题说法")
    searched = ZeroResultQuery(index="offerings", query="越权标记的搜索词", day=utcnow().date())
    db.session.add(searched)


WORLD_EXTENSIONS.append(_concepts_world)
_entry_terms = iter(range(1, 10**6))


def _concept_entry_form(world: World, actor: Actor, values: dict[str, str]) -> dict[str, Any]:
    # A new term each time: the same term twice is refused as already there.
    return {"kind": "problem", "term": f"越权添加的说法{next(_entry_terms)}"}


class ConceptAdmin(Spec):
    """The concept-map admin pages: platform admins only; ``what`` names the URL values."""

    def __init__(self, what: str = "", payload: Payload | None = None, write: bool = False) -> None:
        self.what = what
        self.payload = payload
        self.changes = write

    def _values(self, world: World) -> dict[str, str]:
        if self.what == "concept":
            return {"concept_id": _concept_id()}
        if self.what == "entry":
            return {"ref": world.targets[("a", "concept_entry")]}
        return {}

    def cases(self, world: World, actor: Actor) -> list[Case]:
        expected = (OK if is_admin(actor) else FORBIDDEN) if actor.signed_in else LOGIN
        fresh = self._fresh if self.what == "entry" else None
        return [Case("-", self._values(world), expected, fresh)]

    @staticmethod
    def _fresh() -> dict[str, str]:
        ref = _new_concept_entry(f"可删除的说法{next(_entry_terms)}")
        db.session.commit()
        return {"ref": ref}


DIGEST_PREFERENCES = fixed({"frequency": "weekly", "kinds": ["dockings"], "language": "en"})


ROUTES: dict[str, Spec] = {
    "main.home": Public(),
    "main.set_language": Public(payload=_lang),
    "main.healthz": Public(),
    # auth
    "auth.signup": Public(),
    "auth.signup_sent": Public(),
    "auth.confirm": Token(lambda world, actor, side: world.targets[(side, "signup_token")]),
    "auth.login": Public(),
    "auth.logout": SignedIn(ends_session=True),
    "auth.account": SignedIn(),
    "auth.sessions_revoke": SignedIn(),
    "auth.password": SignedIn(),
    "auth.forgot": Public(),
    "auth.reset": Token(lambda world, actor, side: world.reset_tokens[side]),
    "auth.accept_invite": Token(_invitation),
    # parks
    "parks.index": Public(),
    "parks.detail": PublicRecords(lambda world, side: world.parks[side]),
    # organizations
    "orgs.profile": OrgRecord(public=True),
    "orgs.edit": OrgRecord(payload=org_form, changes=True),
    "orgs.members": OrgRecord(),
    "orgs.invite": OrgRecord(
        payload=fixed({"email": "newcomer@example.com", "role": "member"}), changes=True
    ),
    "orgs.member_role": OrgRecord(member=True, payload=fixed({"role": "org_admin"}), changes=True),
    "orgs.member_remove": OrgRecord(member=True, changes=True),
    # offerings
    "offerings.index": Public(),
    "offerings.detail": ListingView("offering", login=False),
    # The preview shares the detail page's loader: the telling states are enough there.
    "offerings.preview": ListingView("offering", login=True, states=PREVIEW_STATES),
    "offerings.mine": SignedIn(allowed=lambda actor: actor.lists_offerings),
    "offerings.new": SignedIn(
        allowed=lambda actor: actor.lists_offerings, payload=new_offering_form, changes=True
    ),
    "offerings.upload": SignedIn(
        allowed=lambda actor: actor.lists_offerings, payload=upload_form, changes=True
    ),
    "offerings.upload_template": SignedIn(values={"fmt": "csv"}),
    "offerings.edit": ListingWrite("offering", "published", payload=edit_offering_form),
    "offerings.submit": ListingWrite("offering", "draft"),
    "offerings.withdraw": ListingWrite("offering", "pending"),
    "offerings.archive": ListingWrite("offering", "published"),
    "offerings.renew": ListingWrite("offering", "archived"),
    # needs
    "needs.index": Public(),
    "needs.detail": ListingView("need", login=False),
    "needs.preview": ListingView("need", login=True, states=PREVIEW_STATES),
    "needs.mine": SignedIn(allowed=lambda actor: actor.posts_needs),
    "needs.new": SignedIn(allowed=lambda actor: actor.posts_needs, payload=need_form, changes=True),
    "needs.edit": ListingWrite("need", "open", payload=need_form),
    "needs.submit": ListingWrite("need", "draft"),
    "needs.withdraw": ListingWrite("need", "pending"),
    "needs.close": ListingWrite("need", "open"),
    "needs.reopen": ListingWrite("need", "closed"),
    # search (public: published offerings and open needs only)
    "search.index": Public(),
    "search.suggest": Public(),
    # moderation
    "moderation.queue": SignedIn(allowed=is_moderator),
    "moderation.approve": Moderate("offering"),
    "moderation.reject": Moderate("need", payload=fixed({"reason": "资料不全，请补充。"})),
    "moderation.move_need": Moderate("need", payload=_move_form),
    # platform administration
    "admin.index": SignedIn(allowed=is_admin),
    "admin.orgs": SignedIn(allowed=is_admin),
    "admin.users": SignedIn(allowed=is_admin),
    "admin.verify_org": AdminTarget("unverified_org"),
    "admin.unverify_org": AdminTarget("verified_org"),
    "admin.disable_user": AdminTarget("enabled_user"),
    "admin.enable_user": AdminTarget("disabled_user"),
    # JSON API (read-only, public data only)
    "api-docs.openapi_json": Public(),
    "api.CategoryList": Public(),
    "api.ParkList": Public(),
    "api.OfferingList": Public(),
    "api.NeedList": Public(),
    "api.Search": Public(),
    "api.ParkResource": PublicRecords(lambda world, side: world.parks[side]),
    "api.OrganizationResource": PublicRecords(
        lambda world, side: world.orgs[(side, "solution_provider")]
    ),
    "api.OfferingResource": ApiListing("offering"),
    "api.NeedResource": ApiListing("need"),
    # parkops: dashboards, chain map, invitations, reports (API: public aggregates)
    "parkops.index": SignedIn(allowed=is_moderator),
    "parkops.dashboard": ParkRun(),
    "parkops.chart_csv": ParkRun({"name": "funnel"}),
    "parkops.report": ParkRun(),
    "parkops.report_download": ParkRun({"fmt": "xlsx"}),
    "parkops.chain": ParkRun(),
    "parkops.shortlist": ParkRun(CHAIN_SEGMENT),
    "parkops.shortlist_export": ParkRun({**CHAIN_SEGMENT, "fmt": "csv"}),
    "parkops.invitations": ParkRun(),
    "parkops.invite": ParkRun(payload=_invite_form, fresh=_fresh_invitee),
    "parkops.province": SignedIn(PROVINCE_A, allowed=is_admin),
    "parkops.province_chart_csv": SignedIn({**PROVINCE_A, "name": "month"}, allowed=is_admin),
    "parkops.province_report": SignedIn(PROVINCE_A, allowed=is_admin),
    "parkops.province_report_download": SignedIn({**PROVINCE_A, "fmt": "xlsx"}, allowed=is_admin),
    "parkops.invitation": Token(
        lambda world, actor, side: world.targets[(side, "park_invitation")]
    ),
    "parkops.invitation_accept": InvitationAnswer(),
    "parkops.invitation_decline": InvitationAnswer(),
    "api.ParkReport": PublicRecords(lambda world, side: world.parks[side]),
    "api.ProvinceReport": Public(PROVINCE_A),
    # docking: 对接 (park staff and admins read dockings of their park, never act)
    "docking.new": DockingStart(),
    "docking.interest": DockingInterest(),
    "docking.inbox": SignedIn(),
    "docking.park": SignedIn(allowed=is_moderator),
    "docking.detail": DockingRecord("requested", BOTH, viewers=True),
    "docking.accept": DockingRecord("requested", ("solution_provider",)),
    "docking.decline": DockingRecord("requested", ("solution_provider",)),
    "docking.withdraw": DockingRecord("requested", ("enterprise",)),
    "docking.negotiate": DockingRecord("accepted", BOTH),
    "docking.deal": DockingRecord(
        "negotiating", BOTH, payload=fixed({"amount": "320000", "note": "签约"})
    ),
    "docking.no_deal": DockingRecord("negotiating", BOTH, payload=fixed({"note": "预算不足"})),
    "docking.cancel": DockingRecord("registered", COURSE),
    "docking.complete": DockingRecord(
        "registered", ("training_body",), payload=fixed({"certified": "y"})
    ),
    "docking.roster": Roster(),
    "docking.roster_export": Roster({"fmt": "xlsx"}),
    # match-app: recommendations (feedback by the listing's own side; admins tune weights)
    "matching.need_feedback": ListingWrite("need", "open", payload=_need_feedback_form),
    "matching.offering_feedback": ListingWrite(
        "offering", "published", payload=_offering_feedback_form
    ),
    "matching.admin_weights": SignedIn(
        allowed=is_admin, payload=fixed(MATCH_WEIGHTS), changes=True
    ),
    "matching.admin_weights_reset": SignedIn(allowed=is_admin, changes=True),
    "matching.admin_recompute": SignedIn(allowed=is_admin, changes=True),
    "matching.admin_feedback": SignedIn(allowed=is_admin),
    "matching.admin_feedback_csv": SignedIn(allowed=is_admin),
    "api.NeedMatches": ApiListing("need"),
    "api.OfferingMatches": ApiListing("offering"),
    # catalogue: 供需目录清单 (the park's staff and admins compile; editions are public)
    "catalogue.index": Public(),
    "catalogue.park": PublicRecords(lambda world, side: world.parks[side]),
    "catalogue.feed": PublicRecords(lambda world, side: world.parks[side]),
    "catalogue.detail": CatalogueRead(),
    "catalogue.changes": CatalogueRead(),
    "catalogue.download": CatalogueRead({"fmt": "csv"}, drafts=False),
    "catalogue.manage": SignedIn(allowed=is_moderator),
    "catalogue.new": SignedIn(allowed=is_moderator, payload=CATALOGUE_NEW, changes=True),
    "catalogue.compile": CatalogueRun("draft"),
    "catalogue.preview": CatalogueRun("draft"),
    "catalogue.settings": CatalogueRun(
        "draft", payload=fixed({"title": "越权修改的目录标题", "foreword": "前言"}), write=True
    ),
    "catalogue.toggle": CatalogueRun("draft", payload=_catalogue_toggle_form, write=True),
    "catalogue.move": CatalogueRun(
        "draft", payload=fixed({"code": "finance", "step": "up"}), write=True
    ),
    "catalogue.publish": CatalogueRun("draft", write=True),
    "catalogue.schedule": CatalogueRun("draft", payload=_catalogue_schedule_form, write=True),
    "catalogue.unschedule": CatalogueRun("scheduled", write=True),
    "catalogue.withdraw": CatalogueRun(
        "published", payload=fixed({"reason": "越权撤回"}), write=True
    ),
    # scheduler + digest: preferences, unsubscribe/renew links (tokens), admin pages
    "digest.preferences": SignedIn(payload=DIGEST_PREFERENCES, changes=True),
    "digest.unsubscribe": Token(
        lambda world, actor, side: world.targets[(side, "unsubscribe_token")]
    ),
    "digest.renew": MailedLink(),
    "digest_admin.jobs": SignedIn(allowed=is_admin),
    "digest_admin.lookup": SignedIn(allowed=is_admin),
    "digest_admin.preview": DigestAdmin("digest_user", "ref"),
    "digest_admin.preview_mail": DigestAdmin("digest_user", "ref"),
    "digest_admin.resolve": DigestAdmin("ledger_row", "row_id", write=True),
    # concept map (admins): browse, add and remove entries, the zero-result list
    "concepts_admin.concepts": ConceptAdmin(),
    "concepts_admin.concept": ConceptAdmin("concept"),
    "concepts_admin.add_entry": ConceptAdmin("concept", payload=_concept_entry_form, write=True),
    "concepts_admin.remove_entry": ConceptAdmin("entry", write=True),
    "concepts_admin.zero_list": ConceptAdmin(),
    "concepts_admin.zero_csv": ConceptAdmin(),
    "concepts_admin.mark_handled": ConceptAdmin(
        payload=fixed({"index": "offerings", "query": "越权标记的搜索词"}), write=True
    ),
}

WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def routed_endpoints(app: Flask) -> Iterator[tuple[str, tuple[str, ...]]]:
    """(endpoint, methods) for every rule of the URL map a visitor can reach."""
    for rule in sorted(app.url_map.iter_rules(), key=lambda rule: rule.endpoint):
        if rule.endpoint in SKIPPED_ENDPOINTS:
            continue
        methods = tuple(sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}))
        yield rule.endpoint, methods


def missing_from_table(app: Flask) -> list[str]:
    return [
        f"route {endpoint} is missing from the authorization matrix"
        for endpoint, _methods in routed_endpoints(app)
        if endpoint not in ROUTES
    ]


# --- Running requests ----------------------------------------------------------------------


def build_url(app: Flask, endpoint: str, values: dict[str, Any]) -> str:
    with app.test_request_context():
        return url_for(endpoint, **values)


def outcome(response: TestResponse) -> str:
    """What the visitor got, in the table's terms; anything else is its HTTP status."""
    status = response.status_code
    if status in (301, 302, 303, 307, 308):
        target = urlsplit(response.headers.get("Location", "")).path
        return LOGIN if target == "/auth/login" else OK
    if status == 401:
        return LOGIN
    if status == 403:
        return FORBIDDEN
    if status == 404:
        return NOT_FOUND
    return OK if status < 400 else f"HTTP {status}"


CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(client: FlaskClient) -> str:
    """The token the site hands this client (every page carries one in its language form)."""
    page = client.get("/").get_data(as_text=True)
    found = CSRF_INPUT.search(page)
    assert found, "no csrf_token on the home page"
    return found.group(1)


def sign_in(app: Flask, client: FlaskClient, email: str) -> None:
    """Sign in through the real login form (with a CSRF token when the app checks them)."""
    data = {"email": email, "password": PASSWORD}
    if app.config.get("WTF_CSRF_ENABLED"):
        data["csrf_token"] = csrf_token(client)
    response = client.post("/auth/login", data=data)
    assert response.status_code == 302, f"could not sign in {email}"


class Visitors:
    """One test client per actor, signed in on first use."""

    def __init__(self, app: Flask, world: World) -> None:
        self.app = app
        self.world = world
        self.clients: dict[str, FlaskClient] = {}

    def client(self, actor: Actor) -> FlaskClient:
        if actor.name not in self.clients:
            client = self.app.test_client()
            if actor.signed_in:
                sign_in(self.app, client, self.world.actor_email(actor))
            self.clients[actor.name] = client
        return self.clients[actor.name]

    def forget(self, actor: Actor) -> None:
        """Drop the actor's client (its session ended); the next use signs in afresh."""
        self.clients.pop(actor.name, None)


def _snapshot_sql(table: Table, dialect: str) -> str:
    """SQL that reads one table whole, in primary key order: the raw rows on SQLite, their
    checksum computed by the server on PostgreSQL (one value per table to fetch and
    compare instead of every row; to_jsonb so equal JSON values read the same)."""
    name = f'"{table.name}"'
    keys = ", ".join(f't."{column.name}"' for column in table.primary_key.columns) or "t"
    if dialect == "postgresql":
        rows = f"string_agg(to_jsonb(t)::text, E'\\n' ORDER BY {keys})"
        return f"SELECT '{table.name}', md5(coalesce({rows}, '')) FROM {name} AS t"  # noqa: S608
    return f"SELECT * FROM {name} AS t ORDER BY {keys}"  # noqa: S608


def snapshot(app: Flask) -> dict[str, Any]:
    """Every committed row of every table, and the outbox's file names.

    The rows are compared for equality only, so they are read the cheapest way that
    still sees every value: raw from SQLite (no type conversion), and as a checksum per
    table on PostgreSQL (one query for all tables).
    """
    state: dict[str, Any] = {}
    with app.app_context(), db.engine.connect() as conn:
        dialect = conn.dialect.name
        tables = db.metadata.sorted_tables
        if dialect == "postgresql":
            query = " UNION ALL ".join(_snapshot_sql(table, dialect) for table in tables)
            state.update((name, digest) for name, digest in conn.exec_driver_sql(query).all())
        else:
            raw = conn.connection.driver_connection
            assert raw is not None
            raw.execute("BEGIN")  # one read transaction: every table as of the same moment
            try:
                for table in tables:
                    state[table.name] = raw.execute(_snapshot_sql(table, dialect)).fetchall()
            finally:
                raw.execute("ROLLBACK")
    outbox = Path(app.config["OUTBOX_DIR"])
    state["outbox"] = sorted(p.name for p in outbox.glob("*.eml")) if outbox.exists() else []
    return state


def differences(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    return [name for name in after if before.get(name) != after[name]]


def first_allowed(world: World, endpoint: str, signed_in: bool | None = None) -> tuple[Actor, Case]:
    """The first actor (and case) the table lets through ``endpoint``.

    ``signed_in`` limits the choice to visitors (False) or users (True).
    """
    spec = ROUTES[endpoint]
    for actor in ACTORS:
        if signed_in is not None and actor.signed_in != signed_in:
            continue
        for case in spec.cases(world, actor):
            if case.expected == OK:
                return actor, case
    raise LookupError(f"nobody may use {endpoint}")


# --- One site per test module ---------------------------------------------------------------


@dataclass
class Site:
    """An app with the world built, its visitors, and the last snapshot known to be current."""

    app: Flask
    world: World
    visitors: Visitors
    _state: dict[str, Any] | None = None

    def state(self) -> dict[str, Any]:
        if self._state is None:
            self._state = snapshot(self.app)
        return self._state

    def changed(self, after: dict[str, Any] | None = None) -> None:
        """Record that the database may differ from the last snapshot (or is ``after``)."""
        self._state = after

    def client(self, actor: Actor) -> FlaskClient:
        """The actor's client; signing in adds a session row, so the snapshot is stale then."""
        if actor.name not in self.visitors.clients:
            self.changed()
        return self.visitors.client(actor)

    def in_app(self, func: Callable[[], Any]) -> Any:
        """Run ``func`` in an app context of its own (factories, fresh records, payloads)."""
        with self.app.app_context():
            try:
                return func()
            finally:
                db.session.remove()


@contextmanager
def open_site(tmp_path: Path, database_url: str | None, **config: Any) -> Iterator[Site]:
    """A fresh app and world; no app context stays open, so every request gets its own
    session and ``g``, as in production."""
    settings: dict[str, Any] = {
        "TESTING": True,
        "INSTANCE": str(tmp_path / "instance"),
        "SECRET_KEY": "test-secret",
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "SERVER_NAME": None,
    }
    if database_url:
        settings["DATABASE_URL"] = database_url
    settings.update(config)
    app = create_app(settings)
    app.test_client_class = IsolatedClient
    with app.app_context():
        db.drop_all()
        db.create_all()
        world = build_world()
        db.session.remove()
    try:
        yield Site(app, world, Visitors(app, world))
    finally:
        with app.app_context():
            db.session.remove()
            db.drop_all()
            db.engine.dispose()

"""Who sees whose contact e-mails, and where an enterprise may file a need.

The probe found every signed-in user could read org admins' addresses on any profile,
and an enterprise could file a need into any park's moderation queue.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from market.core.extensions import db
from market.models import Need, Organization
from tests.conftest import Auth, make_need, make_offering, make_org, make_park, make_user
from tests.parkops.factories import make_docking

PROVIDER_MAIL = "boss@provider.example.com"
ENTERPRISE_MAIL = "boss@enterprise.example.com"
HIDDEN_NOTE = "联系方式仅向与该机构有对接往来的机构和园区工作人员显示"


class World:
    """Two parks; an enterprise of park A with an org admin; a provider that docked with
    it; and bystanders of every kind."""

    def __init__(self) -> None:
        self.park_a = make_park(ref="P-A", name="甲园区")
        self.park_b = make_park(ref="P-B", name="乙园区")
        self.enterprise = make_org(kind="enterprise", park=self.park_a, name="甲园区制造厂")
        self.provider = make_org(kind="solution_provider", name="智检科技")
        make_user(org=self.enterprise, role="org_admin", email=ENTERPRISE_MAIL)
        make_user(org=self.provider, role="org_admin", email=PROVIDER_MAIL)
        self.enterprise_member = make_user(org=self.enterprise)
        self.provider_member = make_user(org=self.provider)
        # A docking between the two: each is the other's party.
        offering = make_offering(org=self.provider)
        docking = make_docking(self.park_a, offering=offering)
        docking.enterprise_org_id = self.enterprise.id
        docking.initiator_org_id = self.enterprise.id
        # Bystanders: an enterprise and a provider with no docking, staff of both parks.
        self.stranger_enterprise = make_user(org=make_org(kind="enterprise", park=self.park_a))
        self.stranger_provider = make_user(org=make_org(kind="solution_provider"))
        self.staff_a = make_user(
            org=make_org(kind="park_operator", park=self.park_a), role="park_staff"
        )
        self.staff_b = make_user(
            org=make_org(kind="park_operator", park=self.park_b), role="park_staff"
        )
        self.admin = make_user(org=make_org(kind="park_operator"), role="admin")
        db.session.commit()


@pytest.fixture
def world(app: Flask) -> World:
    return World()


def _profile(client: FlaskClient, org: Organization) -> str:
    response = client.get(f"/orgs/{org.ref}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


VIEWERS = {
    # viewer -> (sees the enterprise's address, sees the provider's address)
    "enterprise_member": (True, True),  # own org; docked with the provider
    "provider_member": (True, True),  # docked with the enterprise; own org
    "stranger_enterprise": (False, False),
    "stranger_provider": (False, False),
    "staff_a": (True, True),  # the enterprise's park; providers are invited by any park
    "staff_b": (False, True),
    "admin": (True, True),
}


@pytest.mark.parametrize("viewer", VIEWERS)
def test_contact_addresses_only_for_docking_parties_and_staff(
    client: FlaskClient, auth: Auth, world: World, viewer: str
) -> None:
    auth.login(getattr(world, viewer))
    sees_enterprise, sees_provider = VIEWERS[viewer]
    for org, address, sees in (
        (world.enterprise, ENTERPRISE_MAIL, sees_enterprise),
        (world.provider, PROVIDER_MAIL, sees_provider),
    ):
        page = _profile(client, org)
        assert (address in page) is sees, f"{viewer} on {org.name}"
        assert (HIDDEN_NOTE in page) is not sees


def test_visitors_are_asked_to_sign_in_and_see_no_address(
    client: FlaskClient, world: World
) -> None:
    page = _profile(client, world.provider)
    assert PROVIDER_MAIL not in page and "登录后查看联系方式" in page


def _need_form(park: str) -> dict[str, Any]:
    return {
        "category": "application.quality",
        "title": "冲压件表面划痕检测",
        "description": "人工目检漏检率高。",
        "park": park,
        "save": "保存草稿",
    }


def _park_options(page: str) -> list[str]:
    select_html = re.search(r'<select[^>]*name="park".*?</select>', page, re.S)
    assert select_html, "the form has a park field"
    return re.findall(r'<option[^>]*value="([^"]*)"', select_html.group(0))


def _park_of(need: Need) -> str:
    """The park the need is in now, as committed."""
    db.session.rollback()
    row = db.session.get(Need, need.id)
    assert row is not None
    return str(row.park.ref)


def _needs() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count(Need.id))) or 0


def test_the_need_form_offers_only_the_enterprise_s_park(
    client: FlaskClient, auth: Auth, world: World
) -> None:
    auth.login(world.enterprise_member)
    assert _park_options(client.get("/needs/new").get_data(as_text=True)) == ["P-A"]


def test_a_need_posted_into_another_park_is_refused_and_nothing_is_saved(
    client: FlaskClient, auth: Auth, world: World
) -> None:
    auth.login(world.enterprise_member)
    response = client.post("/needs/new", data=_need_form("P-B"))
    assert response.status_code == 200
    assert "需求只能发布到本机构所在的园区（甲园区）" in response.get_data(as_text=True)
    assert _needs() == 0
    assert client.post("/needs/new", data=_need_form("P-A")).status_code == 302
    assert _needs() == 1


def test_editing_a_need_cannot_move_it_to_another_park(
    client: FlaskClient, auth: Auth, world: World
) -> None:
    need = make_need(org=world.enterprise, park=world.park_a, status="draft")
    db.session.commit()
    auth.login(world.enterprise_member)
    response = client.post(f"/needs/{need.ref}/edit", data=_need_form("P-B"))
    assert "需求只能发布到本机构所在的园区（甲园区）" in response.get_data(as_text=True)
    assert _park_of(need) == "P-A"


def _pending_need(world: World) -> Need:
    need = make_need(org=world.enterprise, park=world.park_a, status="pending")
    db.session.commit()
    return need


def test_park_staff_move_a_pending_need_to_another_park(
    client: FlaskClient, auth: Auth, world: World
) -> None:
    need = _pending_need(world)
    auth.login(world.staff_a)
    page = client.get(f"/needs/{need.ref}").get_data(as_text=True)
    assert f"/moderation/need/{need.ref}/move" in page
    response = client.post(
        f"/moderation/need/{need.ref}/move", data={"park": "P-B"}, follow_redirects=True
    )
    assert "已转交乙园区审核" in response.get_data(as_text=True)
    assert _park_of(need) == "P-B"
    assert db.session.get(Need, need.id).status == "pending"  # type: ignore[union-attr]
    # The owner may now edit it in its new park (its park, not the org's, is kept).
    auth.logout()
    auth.login(world.enterprise_member)
    form = {**_need_form("P-B"), "title": "改过的标题"}
    assert client.post(f"/needs/{need.ref}/edit", data=form).status_code == 302
    assert _park_of(need) == "P-B"


@pytest.mark.parametrize("who", ["staff_b", "enterprise_member", "stranger_provider"])
def test_others_cannot_move_a_need(client: FlaskClient, auth: Auth, world: World, who: str) -> None:
    need = _pending_need(world)
    auth.login(getattr(world, who))
    response = client.post(f"/moderation/need/{need.ref}/move", data={"park": "P-B"})
    assert response.status_code == 403
    assert _park_of(need) == "P-A"


def test_moving_to_an_unknown_park_says_so(client: FlaskClient, auth: Auth, world: World) -> None:
    need = _pending_need(world)
    auth.login(world.admin)
    response = client.post(
        f"/moderation/need/{need.ref}/move", data={"park": "P-NOPE"}, follow_redirects=True
    )
    assert "园区不存在：P-NOPE" in response.get_data(as_text=True)
    assert _park_of(need) == "P-A"

"""The catalogue's pages: staff compile and publish, the public reads, only staff act."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook

from market.catalogue import service
from market.core.extensions import db
from market.models import CatalogueEdition, utcnow
from tests.catalogue.factories import ParkSetup, make_edition, make_park_setup, publish_edition
from tests.conftest import Auth, make_org, make_park, make_user
from tests.parkops.factories import make_docking


@pytest.fixture
def setup(app: Flask) -> ParkSetup:
    built = make_park_setup()
    db.session.commit()
    return built


def page(response: Any) -> str:
    return response.get_data(as_text=True)


def test_staff_compile_exclude_preview_and_publish(
    client: FlaskClient, auth: Auth, setup: ParkSetup
) -> None:
    auth.login(setup.staff)
    response = client.post("/catalogue/new", data={"scope": "park", "title": ""})
    assert response.status_code == 302
    edition = db.session.query(CatalogueEdition).one()
    assert response.headers["Location"].endswith(f"/catalogue/{edition.ref}/compile")
    compile_page = page(client.get(f"/catalogue/{edition.ref}/compile"))
    assert "冲压件表面缺陷视觉检测" in compile_page and "车间5G专网覆盖" in compile_page
    assert "浙江专属方案" not in compile_page and "已下架的方案" not in compile_page
    offering = setup.offerings[0]
    response = client.post(
        f"/catalogue/{edition.ref}/entries", data={"key": f"S:{offering.id}", "include": "0"}
    )
    assert response.status_code == 302
    response = client.post(
        f"/catalogue/{edition.ref}/settings",
        data={"title": "2026年四季度供需目录", "foreword": "欢迎对接。"},
    )
    assert response.status_code == 302
    preview = page(client.get(f"/catalogue/{edition.ref}/preview"))
    assert "2026年四季度供需目录" in preview and "欢迎对接。" in preview
    assert "冲压件表面缺陷视觉检测" not in preview
    assert "注塑机设备上云与OEE分析" in preview
    response = client.post(f"/catalogue/{edition.ref}/publish")
    assert response.status_code == 302
    detail = page(client.get(response.headers["Location"]))
    assert f"{edition.year} 年第 1 期" in detail
    assert "注塑机设备上云与OEE分析" in detail and "冲压件表面缺陷视觉检测" not in detail
    # Published editions cannot be compiled any more.
    again = client.post(f"/catalogue/{edition.ref}/entries", data={"key": f"S:{offering.id}"})
    assert again.status_code == 409


def test_public_edition_page_links_live_listings_and_marks_archived_ones(
    client: FlaskClient, setup: ParkSetup
) -> None:
    edition = publish_edition(setup.park)
    setup.offerings[1].status = "archived"
    db.session.commit()
    html = page(client.get(f"/catalogue/{edition.ref}"))
    assert f'href="/offerings/{setup.offerings[0].ref}"' in html
    assert f'href="/offerings/{setup.offerings[1].ref}"' not in html
    assert "已下架" in html
    assert "一、供给目录" in html and "二、需求目录" in html
    park_list = page(client.get(f"/catalogue/parks/{setup.park.ref}"))
    assert edition.title in park_list
    assert 'type="application/atom+xml"' in park_list


def test_changes_page_lists_what_changed(client: FlaskClient, setup: ParkSetup) -> None:
    publish_edition(setup.park)
    setup.offerings[1].title = "注塑机设备上云与OEE分析（升级版）"
    db.session.commit()
    second = publish_edition(setup.park)
    html = page(client.get(f"/catalogue/{second.ref}/changes"))
    assert "注塑机设备上云与OEE分析（升级版）" in html
    assert "原名称：注塑机设备上云与OEE分析" in html


def test_downloads_serve_the_stored_files(client: FlaskClient, setup: ParkSetup) -> None:
    edition = publish_edition(setup.park)
    response = client.get(f"/catalogue/{edition.ref}/download/xlsx")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    wb = load_workbook(io.BytesIO(response.data))
    assert wb.sheetnames == ["供给", "需求"]
    assert client.get(f"/catalogue/{edition.ref}/download/docx").status_code == 404


def test_withdraw_needs_a_reason_and_hides_the_entries_from_the_public(
    client: FlaskClient, auth: Auth, setup: ParkSetup
) -> None:
    edition = publish_edition(setup.park)
    auth.login(setup.staff)
    response = client.post(f"/catalogue/{edition.ref}/withdraw", data={"reason": ""})
    assert response.status_code == 400
    assert "请填写撤回原因。" in page(response)
    response = client.post(f"/catalogue/{edition.ref}/withdraw", data={"reason": "价格有误"})
    assert response.status_code == 302
    auth.logout()
    html = page(client.get(f"/catalogue/{edition.ref}"))
    assert "撤回原因：价格有误" in html
    assert "注塑机设备上云与OEE分析" not in html
    assert client.get(f"/catalogue/{edition.ref}/download/pdf").status_code == 404


def test_schedule_form_keeps_bad_input_and_accepts_a_future_time(
    client: FlaskClient, auth: Auth, setup: ParkSetup
) -> None:
    edition = make_edition(setup.park)
    db.session.commit()
    auth.login(setup.staff)
    bad = client.post(f"/catalogue/{edition.ref}/schedule", data={"when": "下周一"})
    assert bad.status_code == 400
    assert "下周一" in page(bad)
    past = client.post(f"/catalogue/{edition.ref}/schedule", data={"when": "2001-01-01T09:00"})
    assert past.status_code == 400 and "必须晚于现在" in page(past)
    later = (utcnow() + timedelta(days=2)).astimezone(service.LOCAL_TZ).strftime("%Y-%m-%dT%H:%M")
    ok = client.post(f"/catalogue/{edition.ref}/schedule", data={"when": later})
    assert ok.status_code == 302
    db.session.expire_all()
    assert edition.status == "scheduled"
    assert client.post(f"/catalogue/{edition.ref}/unschedule").status_code == 302


def test_only_the_parks_staff_and_admins_compile(
    client: FlaskClient, auth: Auth, setup: ParkSetup
) -> None:
    draft = make_edition(setup.park)
    published = publish_edition(setup.park)
    other_staff = make_user(org=make_org(kind="park_operator", park=make_park()), role="park_staff")
    enterprise_user = make_user(org=setup.enterprise, role="org_admin")
    db.session.commit()
    assert client.get(f"/catalogue/{draft.ref}").status_code == 404
    assert client.post(f"/catalogue/{draft.ref}/publish").status_code == 302  # to login
    for user in (other_staff, enterprise_user):
        auth.login(user)
        assert client.get(f"/catalogue/{draft.ref}/compile").status_code == 403
        assert client.post(f"/catalogue/{draft.ref}/publish").status_code == 403
        assert (
            client.post(f"/catalogue/{published.ref}/withdraw", data={"reason": "x"}).status_code
            == 403
        )
        assert client.get(f"/catalogue/{draft.ref}").status_code == 404
        auth.logout()
    db.session.expire_all()
    assert draft.status == "draft" and published.status == "published"
    auth.login(other_staff)
    refused = client.post("/catalogue/new", data={"scope": "park", "park": setup.park.ref})
    assert refused.status_code == 403
    refused = client.post("/catalogue/new", data={"scope": "platform"})
    assert refused.status_code == 400  # not a choice for park staff
    auth.logout()
    admin = make_user(role="admin")
    db.session.commit()
    auth.login(admin)
    assert client.post(f"/catalogue/{draft.ref}/publish").status_code == 302
    response = client.post("/catalogue/new", data={"scope": "province", "province": "江苏省"})
    assert response.status_code == 302


def test_park_page_shows_the_latest_editions_counts_and_dockings(
    client: FlaskClient, setup: ParkSetup
) -> None:
    edition = publish_edition(setup.park)
    make_docking(setup.park, offering=setup.offerings[1])
    make_docking(setup.park, offering=setup.offerings[1])
    make_docking(setup.park, need=setup.needs[0], offering=setup.offerings[2], kind="interest")
    assert edition.published_at is not None
    before = edition.published_at - timedelta(days=1)
    make_docking(setup.park, offering=setup.offerings[0], created_at=before)
    db.session.commit()
    html = page(client.get(f"/parks/{setup.park.ref}"))
    assert edition.title in html
    assert 'data-docked="3"' in html  # offerings[1], need[0] and offerings[2]
    assert 'data-catalogue-category="application"' in html


def test_new_edition_errors_are_shown_on_the_form(
    client: FlaskClient, auth: Auth, setup: ParkSetup
) -> None:
    auth.login(make_user(role="admin"))
    response = client.post("/catalogue/new", data={"scope": "park", "park": "P-NOPE"})
    assert response.status_code == 400
    assert "没有编号为 P-NOPE 的园区。" in page(response)
    response = client.post("/catalogue/new", data={"scope": "province", "province": ""})
    assert response.status_code == 400


def test_a_long_edition_shows_its_contents_and_one_section_at_a_time(
    client: FlaskClient, setup: ParkSetup, monkeypatch: pytest.MonkeyPatch
) -> None:
    from market.catalogue import views as routes

    edition = publish_edition(setup.park)
    monkeypatch.setattr(routes, "WHOLE_PAGE_MAX", 2)
    html = page(client.get(f"/catalogue/{edition.ref}"))
    assert "请从上面的目录选择栏目查看" in html
    assert "车间5G专网覆盖" not in html
    link = f"/catalogue/{edition.ref}?side=demand&amp;section=network#demand-network"
    assert link in html
    section = page(client.get(f"/catalogue/{edition.ref}?side=demand&section=network"))
    assert "车间5G专网覆盖" in section and "冲压件表面划痕检测" not in section

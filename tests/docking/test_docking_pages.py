"""对接 pages: the buttons on offering and need pages, the forms, the inbox, the history,
the steps through HTTP, who may see what, the park overview and the roster export."""

from __future__ import annotations

import csv
import io

from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import select

from market.core.extensions import db
from market.listings.forms.offerings import offering_form_data
from market.models import Park, User
from market.models.docking import Docking
from tests.conftest import (
    Auth,
    mail_text,
    make_need,
    make_org,
    make_park,
    make_user,
    read_outbox,
)
from tests.docking.factories import make_docking, make_sides


def page_of(response: object) -> str:
    return response.get_data(as_text=True)  # type: ignore[attr-defined]


def staff_of(park: Park) -> User:
    return make_user(role="park_staff", org=make_org(kind="park_operator", park=park))


def reload(docking: Docking) -> Docking:
    db.session.expire_all()
    fresh = db.session.get(Docking, docking.id)
    assert fresh is not None
    return fresh


# --- buttons on the listing pages --------------------------------------------------------------


def test_enterprise_sees_the_button_for_each_kind_of_offering(
    client: FlaskClient, auth: Auth
) -> None:
    buyer = make_user(org=make_org(kind="enterprise"))
    labels = {"solution": "申请对接", "finance": "申请融资", "training": "报名"}
    refs = {kind: make_sides(kind).offering.ref for kind in labels}
    auth.login(buyer)
    for kind, label in labels.items():
        page = page_of(client.get(f"/offerings/{refs[kind]}"))
        assert f'href="/dockings/new?offering={refs[kind]}">{label}</a>' in page


def test_visitor_is_sent_to_sign_in_by_the_offering_button(client: FlaskClient) -> None:
    sides = make_sides()
    db.session.commit()
    page = page_of(client.get(f"/offerings/{sides.offering.ref}"))
    assert "/auth/login?next=" in page and "园区企业登录后即可办理" in page


def test_a_provider_sees_no_docking_button_on_another_providers_offering(
    client: FlaskClient, auth: Auth
) -> None:
    sides = make_sides()
    auth.login(make_user(org=make_org(kind="solution_provider")))
    page = page_of(client.get(f"/offerings/{sides.offering.ref}"))
    assert "申请对接" not in page


def test_offering_page_links_to_the_open_docking_instead_of_a_second_button(
    client: FlaskClient, auth: Auth
) -> None:
    sides = make_sides()
    docking = make_docking(sides)
    auth.login(sides.buyer)
    page = page_of(client.get(f"/offerings/{sides.offering.ref}"))
    assert f"/dockings/{docking.ref}" in page and "贵机构已发起对接" in page


def test_course_owner_finds_the_roster_from_the_offering_page(
    client: FlaskClient, auth: Auth
) -> None:
    sides = make_sides("training")
    auth.login(sides.seller)
    page = page_of(client.get(f"/offerings/{sides.offering.ref}"))
    assert f"/dockings/roster/{sides.offering.ref}" in page


def test_provider_sees_express_interest_on_an_open_need(client: FlaskClient, auth: Auth) -> None:
    sides = make_sides()
    need = make_need(org=sides.enterprise)
    auth.login(sides.seller)
    page = page_of(client.get(f"/needs/{need.ref}"))
    assert f'href="/dockings/interest?need={need.ref}">表达意向</a>' in page
    auth.logout()
    auth.login(sides.buyer)
    assert "表达意向" not in page_of(client.get(f"/needs/{need.ref}"))


# --- starting a docking ------------------------------------------------------------------------


def test_docking_form_shows_the_offering_and_preselects_the_need(
    client: FlaskClient, auth: Auth
) -> None:
    sides = make_sides()
    need = make_need(org=sides.enterprise, title="冲压线表面缺陷检测")
    auth.login(sides.buyer)
    page = page_of(client.get(f"/dockings/new?offering={sides.offering.ref}&need={need.ref}"))
    assert sides.offering.title in page and sides.provider.name in page
    assert f'<option selected value="{need.ref}">冲压线表面缺陷检测</option>' in page


def test_enterprise_sends_a_request_and_the_provider_is_mailed(
    app: Flask, client: FlaskClient, auth: Auth
) -> None:
    sides = make_sides()
    need = make_need(org=sides.enterprise)
    auth.login(sides.buyer)
    response = client.post(
        f"/dockings/new?offering={sides.offering.ref}",
        data={"need": need.ref, "message": "希望本周现场调研", "source": "search"},
    )
    docking = db.session.scalar(select(Docking))
    assert docking is not None
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/dockings/{docking.ref}")
    assert (docking.need_id, docking.source, docking.status) == (need.id, "search", "requested")
    mail = read_outbox(app)[-1]
    assert mail["To"] == sides.seller.email
    assert "希望本周现场调研" in mail_text(mail)
    assert f"http://localhost/dockings/{docking.ref}" in mail_text(mail) or (
        f"/dockings/{docking.ref}" in mail_text(mail)
    )


def test_a_duplicate_request_is_refused_on_the_page_and_keeps_the_message(
    client: FlaskClient, auth: Auth
) -> None:
    sides = make_sides()
    first = make_docking(sides)
    auth.login(sides.buyer)
    response = client.post(
        f"/dockings/new?offering={sides.offering.ref}", data={"message": "第二次申请的留言"}
    )
    page = page_of(response)
    assert response.status_code == 200
    assert str(first.ref) in page and "不必重复申请" in page
    assert "第二次申请的留言" in page
    assert db.session.scalar(select(db.func.count(Docking.id))) == 1


def test_financing_form_refuses_an_ineligible_amount_and_keeps_it(
    client: FlaskClient, auth: Auth
) -> None:
    sides = make_sides("finance")
    auth.login(sides.buyer)
    url = f"/dockings/new?offering={sides.offering.ref}"
    assert "申请金额（元）" in page_of(client.get(url))
    page = page_of(client.post(url, data={"amount_sought": "9000000"}))
    assert "不在该产品的额度范围" in page
    assert 'value="9000000"' in page
    client.post(url, data={"amount_sought": "3000000"})
    docking = db.session.scalar(select(Docking))
    assert docking is not None and docking.amount_sought == 3_000_000


def test_training_registration_beyond_capacity_tells_the_waitlist_position(
    client: FlaskClient, auth: Auth
) -> None:
    sides = make_sides("training", capacity=1)
    make_docking(sides, kind="registration")
    late = make_user(org=make_org(kind="enterprise"))
    auth.login(late)
    page = page_of(
        client.post(f"/dockings/new?offering={sides.offering.ref}", follow_redirects=True)
    )
    assert "候补名单（第 1 位）" in page
    assert "候补中" in page


def test_a_provider_cannot_open_the_docking_form(client: FlaskClient, auth: Auth) -> None:
    sides = make_sides()
    auth.login(sides.seller)
    assert client.get(f"/dockings/new?offering={sides.offering.ref}").status_code == 403


def test_docking_form_for_an_unknown_or_draft_offering_is_not_found(
    client: FlaskClient, auth: Auth
) -> None:
    sides = make_sides(status="draft")
    auth.login(sides.buyer)
    assert client.get(f"/dockings/new?offering={sides.offering.ref}").status_code == 404
    assert client.get("/dockings/new?offering=S-999999").status_code == 404
    assert client.get("/dockings/new").status_code == 404


def test_provider_expresses_interest_choosing_one_of_its_offerings(
    app: Flask, client: FlaskClient, auth: Auth
) -> None:
    sides = make_sides()
    need = make_need(org=sides.enterprise)
    auth.login(sides.seller)
    page = page_of(client.get(f"/dockings/interest?need={need.ref}"))
    assert sides.offering.title in page
    response = client.post(
        f"/dockings/interest?need={need.ref}",
        data={"offering": sides.offering.ref, "message": "我们做过同类项目"},
    )
    assert response.status_code == 302
    docking = db.session.scalar(select(Docking))
    assert docking is not None and (docking.kind, docking.need_id) == ("interest", need.id)
    assert read_outbox(app)[-1]["To"] == sides.buyer.email


def test_interest_form_without_public_offerings_says_to_publish_one(
    client: FlaskClient, auth: Auth
) -> None:
    need = make_need()
    auth.login(make_user(org=make_org(kind="solution_provider")))
    page = page_of(client.get(f"/dockings/interest?need={need.ref}"))
    assert "还没有已发布的供给" in page


# --- inbox, navigation and detail --------------------------------------------------------------


def test_inbox_shows_received_and_sent_with_counts_and_the_nav_badge(
    client: FlaskClient, auth: Auth
) -> None:
    sides = make_sides()
    waiting = make_docking(sides)
    answered = make_docking(sides, kind="interest", status="accepted")
    auth.login(sides.seller)
    received = page_of(client.get("/dockings/"))
    assert str(waiting.ref) in received and "待您答复" in received
    assert str(answered.ref) not in received  # the provider sent that one
    assert "1 条待答复" in received
    assert 'text-bg-warning">1<span class="visually-hidden">条待答复' in received
    sent = page_of(client.get("/dockings/?box=sent"))
    assert str(answered.ref) in sent and str(waiting.ref) not in sent


def test_inbox_filters_by_kind_and_status(client: FlaskClient, auth: Auth) -> None:
    sides = make_sides()
    requested = make_docking(sides)
    dealt = make_docking(sides, status="deal", deal_amount=500_000, need=make_need())
    auth.login(sides.seller)
    page = page_of(client.get("/dockings/?status=deal"))
    assert str(dealt.ref) in page and str(requested.ref) not in page
    assert "50 万元" in page
    assert str(requested.ref) not in page_of(client.get("/dockings/?kind=registration"))


def test_inbox_paginates_newest_first(app: Flask, client: FlaskClient, auth: Auth) -> None:
    app.config["PAGE_SIZE"] = 2
    sides = make_sides()
    refs = [str(make_docking(sides, need=make_need()).ref) for _ in range(3)]
    auth.login(sides.seller)
    first = page_of(client.get("/dockings/"))
    assert refs[2] in first and refs[1] in first and refs[0] not in first
    assert refs[0] in page_of(client.get("/dockings/?page=2"))


def test_detail_shows_both_parties_and_the_dated_history(client: FlaskClient, auth: Auth) -> None:
    sides = make_sides()
    docking = make_docking(sides)
    auth.login(sides.seller)
    page = page_of(client.get(f"/dockings/{docking.ref}"))
    for text in (sides.enterprise.name, sides.provider.name, sides.offering.title, "王工"):
        assert text in page
    assert "对接进程" in page and "待答复" in page
    assert f'action="/dockings/{docking.ref}/accept"' in page
    assert f'action="/dockings/{docking.ref}/withdraw"' not in page


def test_the_steps_through_the_pages_end_in_a_deal_both_sides_see(
    app: Flask, client: FlaskClient, auth: Auth
) -> None:
    sides = make_sides()
    docking = make_docking(sides)
    auth.login(sides.seller)
    client.post(f"/dockings/{docking.ref}/accept", data={"note": "欢迎"})
    client.post(f"/dockings/{docking.ref}/negotiate")
    page = page_of(
        client.post(
            f"/dockings/{docking.ref}/deal",
            data={"amount": "320000", "note": "合同已签"},
            follow_redirects=True,
        )
    )
    assert "已记录成交" in page and "32 万元" in page
    assert reload(docking).status == "deal"
    auth.logout()
    auth.login(sides.buyer)
    page = page_of(client.get(f"/dockings/{docking.ref}"))
    for step in ("待答复", "已接受", "洽谈中", "已成交", "合同已签"):
        assert step in page
    assert len(read_outbox(app)) == 3  # accept, negotiate, deal: each to the enterprise


def test_a_deal_without_an_amount_shows_the_error_and_keeps_the_note(
    client: FlaskClient, auth: Auth
) -> None:
    sides = make_sides()
    docking = make_docking(sides, status="negotiating")
    auth.login(sides.seller)
    response = client.post(f"/dockings/{docking.ref}/deal", data={"note": "价格谈妥"})
    page = page_of(response)
    assert "请填写金额" in page and "价格谈妥" in page
    assert reload(docking).status == "negotiating"


def test_a_step_out_of_order_is_flashed_and_changes_nothing(
    client: FlaskClient, auth: Auth
) -> None:
    sides = make_sides()
    docking = make_docking(sides, status="declined")
    auth.login(sides.seller)
    page = page_of(client.post(f"/dockings/{docking.ref}/accept", follow_redirects=True))
    assert "不能接受" in page
    assert reload(docking).status == "declined"


def test_the_wrong_side_gets_403_and_nothing_changes(client: FlaskClient, auth: Auth) -> None:
    sides = make_sides()
    docking = make_docking(sides)
    auth.login(sides.buyer)
    assert client.post(f"/dockings/{docking.ref}/accept").status_code == 403
    assert reload(docking).status == "requested"


def test_a_stranger_can_neither_see_nor_touch_a_docking(client: FlaskClient, auth: Auth) -> None:
    docking = make_docking()
    auth.login(make_user(org=make_org(kind="solution_provider")))
    assert client.get(f"/dockings/{docking.ref}").status_code == 403
    assert client.post(f"/dockings/{docking.ref}/accept").status_code == 403
    assert reload(docking).status == "requested"
    assert client.get("/dockings/K-999999").status_code == 404


def test_park_staff_see_their_parks_dockings_read_only(client: FlaskClient, auth: Auth) -> None:
    docking = make_docking()
    park = db.session.get(Park, docking.park_id)
    assert park is not None
    auth.login(staff_of(park))
    page = page_of(client.get(f"/dockings/{docking.ref}"))
    assert "只读" in page and "/accept" not in page
    assert client.post(f"/dockings/{docking.ref}/accept").status_code == 403
    assert str(docking.ref) in page_of(client.get("/dockings/park"))
    auth.logout()
    auth.login(staff_of(make_park()))
    assert client.get(f"/dockings/{docking.ref}").status_code == 403
    assert str(docking.ref) not in page_of(client.get("/dockings/park"))


def test_admin_overview_filters_by_park(client: FlaskClient, auth: Auth) -> None:
    here, there = make_docking(), make_docking()
    park = db.session.get(Park, here.park_id)
    assert park is not None
    auth.login(make_user(role="admin"))
    everything = page_of(client.get("/dockings/park"))
    assert str(here.ref) in everything and str(there.ref) in everything
    one = page_of(client.get(f"/dockings/park?park={park.ref}"))
    assert str(here.ref) in one and str(there.ref) not in one


def test_members_cannot_open_the_park_overview(client: FlaskClient, auth: Auth) -> None:
    auth.login(make_user(org=make_org(kind="enterprise")))
    assert client.get("/dockings/park").status_code == 403


# --- roster ------------------------------------------------------------------------------------


def _course_with_waitlist() -> tuple[object, list[str]]:
    sides = make_sides("training", capacity=1)
    names = []
    for status, name in (
        ("registered", "甲公司"),
        ("waitlisted", "乙公司"),
        ("waitlisted", "丙公司"),
    ):
        org = make_org(kind="enterprise", name=name)
        user = make_user(org=org)
        make_docking(
            sides,
            kind="registration",
            status=status,
            enterprise_org_id=org.id,
            initiator_org_id=org.id,
            initiator_user_id=user.id,
        )
        names.append(name)
    return sides, names


def test_roster_lists_registered_then_waitlisted_in_order(client: FlaskClient, auth: Auth) -> None:
    sides, names = _course_with_waitlist()
    auth.login(sides.seller)  # type: ignore[attr-defined]
    page = page_of(client.get(f"/dockings/roster/{sides.offering.ref}"))  # type: ignore[attr-defined]
    positions = [page.index(name) for name in names]
    assert positions == sorted(positions)
    assert "候补第 2 位" in page and "已报 1 / 1 人" in page


def test_roster_exports_open_in_excel_and_as_csv(client: FlaskClient, auth: Auth) -> None:
    sides, names = _course_with_waitlist()
    ref = sides.offering.ref  # type: ignore[attr-defined]
    auth.login(sides.seller)  # type: ignore[attr-defined]
    response = client.get(f"/dockings/roster/{ref}/export.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == ("序号", "状态", "候补顺位", "企业")
    assert [row[3] for row in rows[1:]] == names
    assert [row[1] for row in rows[1:]] == ["已报名", "候补中", "候补中"]
    assert [row[2] for row in rows[1:]] == [None, 1, 2]
    text = client.get(f"/dockings/roster/{ref}/export.csv").data.decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(text)))
    assert [line[3] for line in lines[1:]] == names
    assert client.get(f"/dockings/roster/{ref}/export.pdf").status_code == 404


def test_roster_is_only_for_the_course_provider(client: FlaskClient, auth: Auth) -> None:
    sides, _names = _course_with_waitlist()
    auth.login(sides.buyer)  # type: ignore[attr-defined]
    ref = sides.offering.ref  # type: ignore[attr-defined]
    assert client.get(f"/dockings/roster/{ref}").status_code == 403
    assert client.get(f"/dockings/roster/{ref}/export.xlsx").status_code == 403


def test_cancelling_through_the_page_promotes_the_waitlist(
    app: Flask, client: FlaskClient, auth: Auth
) -> None:
    sides = make_sides("training", capacity=1)
    seat = make_docking(sides, kind="registration")
    late_org = make_org(kind="enterprise")
    late_user = make_user(org=late_org)
    waiting = make_docking(
        sides,
        kind="registration",
        status="waitlisted",
        enterprise_org_id=late_org.id,
        initiator_org_id=late_org.id,
        initiator_user_id=late_user.id,
    )
    auth.login(sides.buyer)
    page = page_of(client.post(f"/dockings/{seat.ref}/cancel", follow_redirects=True))
    assert "自动递补" in page
    assert reload(waiting).status == "registered"
    assert any(m["To"] == late_user.email for m in read_outbox(app))


def test_raising_the_capacity_on_the_edit_page_registers_the_waitlist(
    app: Flask, client: FlaskClient, auth: Auth
) -> None:
    sides, _names = _course_with_waitlist()
    offering = sides.offering  # type: ignore[attr-defined]
    data = {k: v for k, v in offering_form_data(offering).items() if v is not None}
    data.update(capacity="2", save="保存草稿")
    auth.login(sides.seller)  # type: ignore[attr-defined]
    page = page_of(client.post(f"/offerings/{offering.ref}/edit", data=data, follow_redirects=True))
    assert "1 位候补学员已转为正式报名" in page
    statuses = db.session.scalars(
        select(Docking.status).where(Docking.offering_id == offering.id).order_by(Docking.id)
    ).all()
    assert statuses == ["registered", "registered", "waitlisted"]
    roster = page_of(client.get(f"/dockings/roster/{offering.ref}"))
    assert "已报 2 / 2 人" in roster and "候补第 1 位" in roster
    assert len(read_outbox(app)) >= 1

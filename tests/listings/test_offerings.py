"""Offerings (供给): public list and detail, the vendor's editor and pages, lifecycle, upload."""

from __future__ import annotations

from datetime import timedelta
from email import message_from_bytes, policy
from io import BytesIO
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from market.core.extensions import db
from market.models import ListingEvent, Offering, Organization, Park, User, utcnow
from tests.conftest import Auth, make_offering, make_org, make_park, make_user


def offering_form(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "kind": "solution",
        "category": "platform.equipment_cloud",
        "title": "注塑机设备上云与OEE分析",
        "summary": "设备联网、数据采集与 OEE 看板",
        "description": "为注塑车间提供设备联网、数据采集和 OEE 分析。",
        "tags": "设备上云、OEE, 数据采集",
        "industries": ["C29"],
        "regions": ["江苏省"],
        "price_min": "50000",
        "price_max": "300000",
        "price_unit": "元/项目",
        "save": "保存草稿",
    }
    data.update(overrides)
    return data


def vendor(kind: str = "solution_provider", **org_fields: Any) -> User:
    return make_user(org=make_org(kind=kind, **org_fields))


def staff_of(park: Park) -> User:
    return make_user(role="park_staff", org=make_org(kind="park_operator", park=park))


def the_offering(title: str) -> Offering:
    db.session.expire_all()
    item = db.session.scalar(select(Offering).where(Offering.title == title))
    assert item is not None
    return item


def offering_count() -> int:
    return db.session.scalar(select(func.count(Offering.id))) or 0


def outbox(app: Flask) -> list[Any]:
    folder = Path(app.config["OUTBOX_DIR"])
    files = sorted(folder.glob("*.eml")) if folder.exists() else []
    return [message_from_bytes(f.read_bytes(), policy=policy.default) for f in files]


def test_offering_goes_from_draft_to_public_after_park_staff_approval(
    app: Flask, client: FlaskClient, auth: Auth
) -> None:
    park = make_park(ref="P-SIP", name="苏州工业园区")
    seller = vendor()
    colleague = make_user(org=seller.org)
    stranger = vendor()
    staff = staff_of(park)
    auth.login(seller)

    response = client.post("/offerings/new", data=offering_form(parks=["P-SIP"]))
    item = the_offering("注塑机设备上云与OEE分析")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/offerings/{item.ref}")
    assert item.status == "draft"
    assert item.org_id == seller.org_id
    assert item.tags == ["设备上云", "OEE", "数据采集"]
    assert [p.ref for p in item.parks] == ["P-SIP"]
    assert "草稿" in client.get(f"/offerings/{item.ref}").get_data(as_text=True)

    auth.logout()
    assert client.get(f"/offerings/{item.ref}").status_code == 404
    auth.login(stranger)
    assert client.get(f"/offerings/{item.ref}").status_code == 404
    auth.logout()
    auth.login(colleague)
    assert client.get(f"/offerings/{item.ref}").status_code == 200

    assert client.post(f"/offerings/{item.ref}/submit").status_code == 302
    assert the_offering(item.title).status == "pending"

    auth.logout()
    auth.login(staff)
    queue = client.get("/moderation/").get_data(as_text=True)
    assert item.title in queue
    response = client.post(f"/moderation/offering/{item.ref}/approve")
    assert response.status_code == 302
    assert the_offering(item.title).status == "published"

    auth.logout()
    listing = client.get("/offerings/").get_data(as_text=True)
    assert item.title in listing
    assert seller.org.name in listing
    detail = client.get(f"/offerings/{item.ref}")
    assert detail.status_code == 200
    assert "苏州工业园区" in detail.get_data(as_text=True)
    subjects = [str(m["Subject"]) for m in outbox(app)]
    assert any("已通过审核" in s for s in subjects)


def test_rejection_reason_is_shown_to_owner(app: Flask, client: FlaskClient, auth: Auth) -> None:
    park = make_park()
    seller = vendor(park=park)
    item = make_offering(org=seller.org, status="pending", title="工业APP开发")
    auth.login(staff_of(park))
    client.post(f"/moderation/offering/{item.ref}/reject", data={"reason": "缺少报价依据"})
    assert the_offering("工业APP开发").status == "rejected"

    auth.logout()
    auth.login(seller)
    detail = client.get(f"/offerings/{item.ref}").get_data(as_text=True)
    assert "已驳回" in detail
    assert "缺少报价依据" in detail
    mine = client.get("/offerings/mine").get_data(as_text=True)
    assert "缺少报价依据" in mine
    mail = outbox(app)
    assert [str(m["To"]) for m in mail] == [seller.email]
    assert "缺少报价依据" in mail[0].get_body(preferencelist=("plain",)).get_content()


def test_foreign_vendor_cannot_edit_submit_or_archive(client: FlaskClient, auth: Auth) -> None:
    draft = make_offering(status="draft")
    live = make_offering(status="published")
    auth.login(vendor())
    assert client.get(f"/offerings/{draft.ref}").status_code == 404
    assert client.get(f"/offerings/{draft.ref}/edit").status_code == 403
    assert client.post(f"/offerings/{draft.ref}/edit", data=offering_form()).status_code == 403
    assert client.post(f"/offerings/{draft.ref}/submit").status_code == 403
    assert client.post(f"/offerings/{live.ref}/archive").status_code == 403
    assert client.post(f"/offerings/{live.ref}/renew").status_code == 403
    db.session.expire_all()
    assert draft.status == "draft"
    assert live.status == "published"


def test_signed_out_visitor_is_sent_to_login(client: FlaskClient) -> None:
    response = client.get("/offerings/new")
    assert response.status_code == 302
    assert "/auth/login" in response.headers["Location"]


def test_form_keeps_typed_values_when_price_min_exceeds_max(
    client: FlaskClient, auth: Auth
) -> None:
    auth.login(vendor())
    response = client.post(
        "/offerings/new",
        data=offering_form(title="视觉质检一体机", price_min="900000", price_max="100000"),
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "最高价格不能低于最低价格" in page
    assert 'value="视觉质检一体机"' in page
    assert 'value="900000"' in page
    assert offering_count() == 0


def test_category_must_match_the_kind(client: FlaskClient, auth: Auth) -> None:
    auth.login(vendor())
    response = client.post("/offerings/new", data=offering_form(category="finance.loan"))
    assert response.status_code == 200
    assert offering_count() == 0


def test_provider_cannot_list_a_kind_it_does_not_offer(client: FlaskClient, auth: Auth) -> None:
    auth.login(vendor())
    data = offering_form(kind="finance", category="finance.loan")
    assert client.post("/offerings/new", data=data).status_code == 200
    assert offering_count() == 0


def test_finance_fields_are_saved(client: FlaskClient, auth: Auth) -> None:
    auth.login(vendor("financial_institution"))
    page = client.get("/offerings/new").get_data(as_text=True)
    assert "最低年利率" in page
    assert "开班日期" not in page
    data = offering_form(
        kind="finance",
        category="finance.leasing",
        title="设备融资租赁",
        amount_min="1000000",
        amount_max="10000000",
        rate_min="3.45",
        rate_max="4.8",
        term_months_max="36",
        eligible_sizes=["small", "micro"],
        mode="online",
        capacity="30",
    )
    assert client.post("/offerings/new", data=data).status_code == 302
    item = the_offering("设备融资租赁")
    assert (item.kind, item.amount_min, item.amount_max) == ("finance", 1_000_000, 10_000_000)
    assert (item.rate_min, item.rate_max, item.term_months_max) == (3.45, 4.8, 36)
    assert item.eligible_sizes == ["small", "micro"]
    assert item.mode is None and item.capacity is None  # training fields do not stick
    detail = client.get(f"/offerings/{item.ref}").get_data(as_text=True)
    assert "3.45% – 4.8%" in detail
    assert "小型企业" in detail


def test_training_fields_are_saved(client: FlaskClient, auth: Auth) -> None:
    auth.login(vendor("training_body"))
    starts = (utcnow() + timedelta(days=30)).date()
    data = offering_form(
        kind="training",
        category="talent.certification",
        title="PLC 编程实训",
        mode="offline",
        starts_on=starts.isoformat(),
        capacity="40",
        certificate="可编程控制器系统应用编程职业技能等级证书",
    )
    assert client.post("/offerings/new", data=data).status_code == 302
    item = the_offering("PLC 编程实训")
    assert (item.kind, item.mode, item.starts_on, item.capacity) == (
        "training",
        "offline",
        starts,
        40,
    )
    assert item.certificate == "可编程控制器系统应用编程职业技能等级证书"
    detail = client.get(f"/offerings/{item.ref}").get_data(as_text=True)
    assert "线下" in detail
    assert "40 人" in detail


def test_editing_published_offering_sends_it_back_to_draft(client: FlaskClient, auth: Auth) -> None:
    seller = vendor()
    item = make_offering(org=seller.org, status="published")
    auth.login(seller)
    form = client.get(f"/offerings/{item.ref}/edit").get_data(as_text=True)
    assert item.title in form
    assert "重新提交审核" in form
    response = client.post(
        f"/offerings/{item.ref}/edit", data=offering_form(title="新标题"), follow_redirects=True
    )
    assert "需要重新提交审核" in response.get_data(as_text=True)
    item = the_offering("新标题")
    assert item.status == "draft"
    actions = db.session.scalars(
        select(ListingEvent.action).where(ListingEvent.item_id == item.id)
    ).all()
    assert "edit" in actions


def test_save_and_submit_in_one_step(client: FlaskClient, auth: Auth) -> None:
    auth.login(vendor())
    data = offering_form(save=None, save_submit="保存并提交审核")
    client.post("/offerings/new", data={k: v for k, v in data.items() if v is not None})
    assert the_offering("注塑机设备上云与OEE分析").status == "pending"


def test_incomplete_draft_is_saved_but_not_submitted(client: FlaskClient, auth: Auth) -> None:
    auth.login(vendor())
    data = {**offering_form(description=""), "save_submit": "保存并提交审核"}
    del data["save"]
    response = client.post("/offerings/new", data=data, follow_redirects=True)
    assert "尚未提交审核" in response.get_data(as_text=True)
    assert the_offering("注塑机设备上云与OEE分析").status == "draft"


def test_owner_withdraws_archives_and_renews(client: FlaskClient, auth: Auth) -> None:
    seller = vendor()
    pending = make_offering(org=seller.org, status="pending", title="待审核方案")
    live = make_offering(org=seller.org, status="published", title="在售方案")
    auth.login(seller)
    client.post(f"/offerings/{pending.ref}/withdraw")
    assert the_offering("待审核方案").status == "draft"
    client.post(f"/offerings/{live.ref}/archive")
    assert the_offering("在售方案").status == "archived"
    response = client.post(f"/offerings/{live.ref}/archive", follow_redirects=True)
    assert "已经下架" in response.get_data(as_text=True)
    client.post(f"/offerings/{live.ref}/renew")
    assert the_offering("在售方案").status == "draft"


def test_lifecycle_step_goes_back_to_a_same_site_page_only(client: FlaskClient, auth: Auth) -> None:
    seller = vendor()
    item = make_offering(org=seller.org, status="pending")
    auth.login(seller)
    response = client.post(
        f"/offerings/{item.ref}/withdraw", data={"next": "https://evil.example/"}
    )
    assert response.headers["Location"].endswith(f"/offerings/{item.ref}")


def test_expired_offering_is_hidden_from_public_list(client: FlaskClient, auth: Auth) -> None:
    seller = vendor()
    make_offering(org=seller.org, title="过期方案", expires_at=utcnow() - timedelta(days=1))
    make_offering(org=seller.org, title="有效方案", expires_at=utcnow() + timedelta(days=10))
    page = client.get("/offerings/").get_data(as_text=True)
    assert "有效方案" in page
    assert "过期方案" not in page
    auth.login(seller)
    mine = client.get("/offerings/mine?status=expired").get_data(as_text=True)
    assert "过期方案" in mine
    assert "已过期" in mine
    assert "有效方案" not in mine


def test_public_list_filters(client: FlaskClient) -> None:
    zhejiang = make_park(province="浙江省", ref="P-ZJ")
    make_offering(title="江苏的方案", regions=["江苏省"], category="platform.iiot")
    make_offering(title="全国的方案", regions=["全国"], category="security.assessment")
    make_offering(title="浙江园区方案", regions=[], parks=[zhejiang], category="platform.iiot")
    bank = make_org(kind="financial_institution")
    make_offering(
        org=bank,
        title="科技贷",
        kind="finance",
        category="finance.loan",
        regions=["江苏省"],
        price_min=None,
        price_max=None,
    )

    def titles(query: str) -> set[str]:
        page = client.get(f"/offerings/?{query}").get_data(as_text=True)
        names = ("江苏的方案", "全国的方案", "浙江园区方案", "科技贷")
        return {t for t in names if t in page}

    assert titles("province=浙江省") == {"全国的方案", "浙江园区方案"}
    assert titles("category=platform") == {"江苏的方案", "浙江园区方案"}
    assert titles("category=security.assessment") == {"全国的方案"}
    assert titles("kind=finance") == {"科技贷"}
    assert titles("park=P-ZJ") == {"全国的方案", "浙江园区方案"}
    assert titles("q=全国") == {"全国的方案"}
    assert titles("q=100%25_") == set()


def test_title_search_ignores_case(client: FlaskClient) -> None:
    make_offering(title="MES 快速实施")
    assert "MES 快速实施" in client.get("/offerings/?q=mes").get_data(as_text=True)


def test_public_list_paginates_and_sorts_by_price(app: Flask, client: FlaskClient) -> None:
    app.config["PAGE_SIZE"] = 2
    for n, price in enumerate((300, 100, 200), start=1):
        make_offering(title=f"方案{n}号", price_min=price, price_max=price)
    first = client.get("/offerings/?sort=price").get_data(as_text=True)
    assert "方案2号" in first and "方案3号" in first and "方案1号" not in first
    second = client.get("/offerings/?sort=price&page=2").get_data(as_text=True)
    assert "方案1号" in second


def test_bad_query_params_do_not_fail(client: FlaskClient) -> None:
    make_offering()
    for query in (
        "page=abc",
        "page=-3",
        "page=99999999999999999999",
        "kind=rocket",
        "province=火星",
        "park=P-NOPE",
        "sort=drop",
        "q=" + "长" * 500,
        "page=500",
        "category=finance&kind=solution&province=",
    ):
        assert client.get(f"/offerings/?{query}").status_code == 200, query
    # A NUL character cannot be stored or searched on PostgreSQL: refused with a clear 400.
    assert client.get("/offerings/?category=%00").status_code == 400


def test_unknown_offering_is_404(client: FlaskClient) -> None:
    assert client.get("/offerings/S-NOPE").status_code == 404


def test_preview_shows_public_layout_with_banner(client: FlaskClient, auth: Auth) -> None:
    seller = vendor()
    item = make_offering(org=seller.org, status="draft", title="预览中的方案")
    auth.login(seller)
    page = client.get(f"/offerings/{item.ref}/preview").get_data(as_text=True)
    assert "预览" in page
    assert "预览中的方案" in page
    assert "处理记录" not in page


def test_mine_filters_by_status(client: FlaskClient, auth: Auth) -> None:
    seller = vendor()
    make_offering(org=seller.org, status="draft", title="草稿方案")
    make_offering(org=seller.org, status="published", title="已发布方案")
    make_offering(title="别家的方案")
    auth.login(seller)
    page = client.get("/offerings/mine").get_data(as_text=True)
    assert "草稿方案" in page and "已发布方案" in page and "别家的方案" not in page
    drafts = client.get("/offerings/mine?status=draft").get_data(as_text=True)
    assert "草稿方案" in drafts and "已发布方案" not in drafts


def test_enterprise_cannot_list_offerings(client: FlaskClient, auth: Auth) -> None:
    auth.login(make_user(org=make_org(kind="enterprise")))
    assert client.get("/offerings/new").status_code == 403
    assert client.get("/offerings/mine").status_code == 403
    assert client.get("/offerings/upload").status_code == 403


def upload(client: FlaskClient, name: str, content: bytes) -> Any:
    return client.post(
        "/offerings/upload",
        data={"file": (BytesIO(content), name)},
        content_type="multipart/form-data",
    )


def csv_sheet(*rows: list[str]) -> bytes:
    from market.dataset.bulk_upload import TEMPLATE_COLUMNS

    header = ",".join(h for _key, h in TEMPLATE_COLUMNS)
    width = len(TEMPLATE_COLUMNS)
    lines = [header] + [",".join(row + [""] * (width - len(row))) for row in rows]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8-sig")


def test_upload_page_offers_templates(client: FlaskClient, auth: Auth) -> None:
    auth.login(vendor())
    page = client.get("/offerings/upload").get_data(as_text=True)
    assert "/offerings/upload/template.xlsx" in page
    assert "/offerings/upload/template.csv" in page
    xlsx = client.get("/offerings/upload/template.xlsx")
    assert xlsx.status_code == 200
    assert xlsx.data[:2] == b"PK"
    assert client.get("/offerings/upload/template.csv").status_code == 200
    assert client.get("/offerings/upload/template.pdf").status_code == 404


def test_upload_shows_row_errors_and_imports_nothing(client: FlaskClient, auth: Auth) -> None:
    auth.login(vendor())
    sheet = csv_sheet(
        ["设备上云", "platform.equipment_cloud", "", "完整的描述"],
        ["坏分类", "no.such.category", "", "描述"],
    )
    response = upload(client, "offerings.csv", sheet)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "未导入任何数据" in page
    assert "<td>3</td>" in page
    assert offering_count() == 0


def test_upload_imports_drafts(client: FlaskClient, auth: Auth) -> None:
    seller = vendor()
    auth.login(seller)
    sheet = csv_sheet(
        ["设备上云", "platform.equipment_cloud", "", "完整的描述"],
        ["数字孪生", "application.digital_twin", "", "另一条描述"],
    )
    response = upload(client, "offerings.csv", sheet)
    assert response.status_code == 302
    followed = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "已导入 2 条草稿" in followed
    rows = db.session.scalars(select(Offering).where(Offering.org_id == seller.org_id)).all()
    assert sorted(o.title for o in rows) == ["数字孪生", "设备上云"]
    assert {o.status for o in rows} == {"draft"}


def test_upload_rejects_other_file_types(client: FlaskClient, auth: Auth) -> None:
    auth.login(vendor())
    response = upload(client, "brochure.pdf", b"%PDF-1.4")
    assert response.status_code == 400
    assert ".xlsx" in response.get_data(as_text=True)
    assert offering_count() == 0


def test_unreadable_upload_says_so(client: FlaskClient, auth: Auth) -> None:
    auth.login(vendor())
    response = upload(client, "offerings.xlsx", b"not a workbook")
    assert response.status_code == 400
    assert offering_count() == 0


def test_org_name_links_to_profile(client: FlaskClient) -> None:
    item = make_offering()
    org: Organization = item.org
    db.session.commit()
    page = client.get(f"/offerings/{item.ref}").get_data(as_text=True)
    assert f"/orgs/{org.ref}" in page

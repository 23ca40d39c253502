"""Bulk upload of offerings from XLSX/CSV: template, row-and-column errors, all-or-nothing."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date, datetime
from typing import Any

import pytest
from flask import Flask
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from market.core.errors import PermissionDenied
from market.core.extensions import db
from market.core.tabular import XLSX_MIMETYPE
from market.dataset import upload_limits
from market.dataset.bulk_upload import (
    TEMPLATE_COLUMNS,
    UploadError,
    import_offerings,
)
from market.dataset.upload_template import template_file
from market.models import Offering, User
from tests.conftest import make_org, make_park, make_user

HEADERS = [header for _key, header in TEMPLATE_COLUMNS]
KEYS = [key for key, _header in TEMPLATE_COLUMNS]


def row(**values: Any) -> list[Any]:
    """One sheet row in template column order."""
    return [values.get(key) for key in KEYS]


def filled_template(rows: list[list[Any]]) -> bytes:
    """The downloaded XLSX template with ``rows`` typed in below the header."""
    content, _mime, _name = template_file("xlsx")
    book = load_workbook(io.BytesIO(content))
    sheet = book["供给"]
    for values in rows:
        sheet.append(values)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_bytes(
    rows: list[list[Any]], encoding: str = "utf-8-sig", header: list[str] | None = None
) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header or HEADERS)
    for values in rows:
        writer.writerow(["" if v is None else v for v in values])
    return out.getvalue().encode(encoding)


def offering_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Offering)) or 0


@pytest.fixture
def vendor(app: Flask) -> User:
    return make_user(org=make_org(kind="solution_provider"))


GOOD = {
    "title": "注塑机设备上云与OEE分析",
    "category": "platform.equipment_cloud",
    "summary": "设备联网",
    "description": "采集注塑机数据，提供 OEE 看板",
    "tags": "设备上云、OEE，数据采集",
    "industries": "C29、C34",
    "regions": "江苏省、浙江省",
    "price_min": 50000,
    "price_max": 300000,
    "price_unit": "元/项目",
}


# --- the template -------------------------------------------------------------------------


def test_xlsx_template_has_a_bold_frozen_header_and_an_explanation_sheet(app: Flask) -> None:
    content, mimetype, filename = template_file("xlsx")
    assert mimetype == XLSX_MIMETYPE and filename.endswith(".xlsx")
    book = load_workbook(io.BytesIO(content))
    sheet = book.worksheets[0]
    assert [c.value for c in sheet[1]] == HEADERS
    assert sheet["A1"].font.bold and sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["D"].width >= 30
    help_values = {c.value for r in book["说明"].iter_rows() for c in r}
    assert {"platform.equipment_cloud", "设备上云", "finance.loan", "标题*"} <= help_values


def test_csv_template_is_utf8_with_bom_for_excel(app: Flask) -> None:
    content, mimetype, filename = template_file("csv")
    assert content.startswith(b"\xef\xbb\xbf") and filename.endswith(".csv")
    assert "text/csv" in mimetype
    assert next(csv.reader(io.StringIO(content.decode("utf-8-sig")))) == HEADERS


def test_unknown_template_format_is_refused(app: Flask) -> None:
    with pytest.raises(ValueError):
        template_file("pdf")


# --- successful uploads --------------------------------------------------------------------


def test_filled_template_creates_draft_offerings_of_the_organization(
    app: Flask, vendor: User
) -> None:
    park = make_park(ref="P-SIP")
    data = filled_template(
        [
            row(**GOOD, parks="P-SIP"),
            row(
                title="MES 实施",
                category="生产管理（MES）",
                description="排产、报工、追溯",
                regions="全国",
                price_min="80,000",
                price_max=150000.0,
            ),
        ]
    )
    result = import_offerings(vendor.org, vendor, "我的供给.xlsx", data)
    db.session.commit()

    assert result.errors == []
    assert len(result.created) == 2
    first, second = result.created
    assert first.ref and first.org_id == vendor.org_id and first.status == "draft"
    assert first.kind == "solution" and first.tags == ["设备上云", "OEE", "数据采集"]
    assert first.industries == ["C29", "C34"] and first.regions == ["江苏省", "浙江省"]
    assert first.parks == [park] and (first.price_min, first.price_max) == (50000, 300000)
    assert second.category == "application.mes" and second.price_min == 80000
    assert second.regions == ["全国"]
    assert offering_count() == 2


def test_training_body_uploads_with_chinese_words_and_date_cells(app: Flask) -> None:
    teacher = make_user(org=make_org(kind="training_body"))
    data = filled_template(
        [
            row(
                title="PLC 编程培训",
                category="talent.lecture",
                description="西门子 S7-1200",
                mode="线下",
                starts_on=datetime(2027, 3, 1),
                capacity=40,
                certificate="结业证书",
            ),
            row(
                title="工业机器人操作",
                category="talent.certification",
                description="四级",
                mode="混合",
                starts_on="2027/4/5",
            ),
        ]
    )
    result = import_offerings(teacher.org, teacher, "t.xlsx", data)
    assert result.errors == []
    plc, robot = result.created
    assert (plc.kind, plc.mode, plc.starts_on, plc.capacity) == (
        "training",
        "offline",
        date(2027, 3, 1),
        40,
    )
    assert (robot.mode, robot.starts_on) == ("hybrid", date(2027, 4, 5))


def test_csv_with_bom_is_read(app: Flask, vendor: User) -> None:
    result = import_offerings(vendor.org, vendor, "list.csv", csv_bytes([row(**GOOD)]))
    assert result.errors == [] and result.created[0].title == GOOD["title"]


def test_gbk_csv_from_chinese_excel_is_read(app: Flask, vendor: User) -> None:
    result = import_offerings(
        vendor.org, vendor, "list.csv", csv_bytes([row(**GOOD)], encoding="gbk")
    )
    assert result.errors == []
    assert result.created[0].title == "注塑机设备上云与OEE分析"
    assert result.created[0].regions == ["江苏省", "浙江省"]


def test_headers_may_be_keys_or_short_names_in_any_order(app: Flask, vendor: User) -> None:
    header = ["description", "标题", "分类代码", "最低价格"]
    data = csv_bytes([["详细描述", "标题一", "platform.iiot", "1000"]], header=header)
    result = import_offerings(vendor.org, vendor, "x.csv", data)
    assert result.errors == []
    assert (result.created[0].title, result.created[0].price_min) == ("标题一", 1000)


def test_content_decides_the_type_not_the_name(app: Flask, vendor: User) -> None:
    result = import_offerings(vendor.org, vendor, "named-like.csv", filled_template([row(**GOOD)]))
    assert result.errors == [] and len(result.created) == 1


def test_blank_rows_are_skipped_and_row_numbers_stay_as_in_excel(app: Flask, vendor: User) -> None:
    # Rows 3 and 4 are left empty: the sheet stores no cells for them at all.
    data = filled_template([row(**GOOD), row(), row(), row(**{**GOOD, "price_min": -5})])
    result = import_offerings(vendor.org, vendor, "x.xlsx", data)
    assert [(e.row, e.column) for e in result.errors] == [(5, "最低价格（元）")]


# --- row errors: all reported, nothing created ----------------------------------------------


def test_row_errors_name_row_and_column_and_nothing_is_created(app: Flask, vendor: User) -> None:
    data = filled_template(
        [
            row(**GOOD),
            row(**{**GOOD, "price_min": 500000}),
            row(**{**GOOD, "category": "platform.nope", "regions": "江苏"}),
            row(**{**GOOD, "description": None, "industries": "C99", "parks": "P-404"}),
            row(**{**GOOD, "rate_max": 4.5}),
        ]
    )
    result = import_offerings(vendor.org, vendor, "x.xlsx", data)

    assert result.created == []
    found = {(e.row, e.column) for e in result.errors}
    assert found == {
        (3, "最低价格（元）"),
        (4, "分类代码*"),
        (4, "服务地区（省份全称，或 全国）"),
        (5, "详细描述*"),
        (5, "行业代码"),
        (5, "服务园区编号"),
        (6, "金融：最高年化利率（%）"),
    }
    price = next(e for e in result.errors if e.row == 3)
    assert "最低价格不能高于最高价格" in price.message
    assert str(price).startswith("第 3 行「最低价格（元）」")
    assert not [obj for obj in db.session.new if isinstance(obj, Offering)]
    db.session.commit()
    assert offering_count() == 0


def test_vendor_cannot_upload_a_category_its_kind_may_not_offer(app: Flask, vendor: User) -> None:
    data = filled_template([row(title="设备贷", category="finance.loan", description="贷款")])
    result = import_offerings(vendor.org, vendor, "x.xlsx", data)
    assert result.created == []
    assert [(e.row, e.column) for e in result.errors] == [(2, "分类代码*")]
    assert "金融" in result.errors[0].message


def test_member_of_another_organization_cannot_upload(app: Flask, vendor: User) -> None:
    other = make_org(kind="solution_provider")
    with pytest.raises(PermissionDenied):
        import_offerings(other, vendor, "x.xlsx", filled_template([row(**GOOD)]))


def test_enterprise_cannot_bulk_upload_offerings(app: Flask) -> None:
    worker = make_user(org=make_org(kind="enterprise"))
    with pytest.raises(PermissionDenied):
        import_offerings(worker.org, worker, "x.xlsx", filled_template([row(**GOOD)]))


# --- files that cannot be read at all ---------------------------------------------------------


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return out.getvalue()


UNREADABLE: dict[str, tuple[bytes, str]] = {
    "png named xlsx": (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "不是 Excel"),
    "pdf": (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "不是 Excel"),
    "old xls": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512, ".xlsx"),
    "word document": (_zip({"word/document.xml": b"<w/>"}), "不是 Excel 工作簿"),
    "broken zip": (b"PK\x03\x04" + b"\x00" * 100, "无法读取"),
    "empty": (b"", "空的"),
    "binary noise": (bytes(range(256)) * 4, "无法识别"),
}


@pytest.mark.parametrize("case", list(UNREADABLE), ids=list(UNREADABLE))
def test_unreadable_file_is_refused_with_a_clear_message(
    app: Flask, vendor: User, case: str
) -> None:
    content, expected = UNREADABLE[case]
    with pytest.raises(UploadError) as caught:
        import_offerings(vendor.org, vendor, "offerings.xlsx", content)
    assert expected in caught.value.message


def test_zip_bomb_is_refused_before_parsing(app: Flask, vendor: User) -> None:
    bomb = _zip(
        {
            "xl/workbook.xml": b"<workbook/>",
            "xl/worksheets/sheet1.xml": b"\x00" * (upload_limits.MAX_UNCOMPRESSED + 1),
        }
    )
    assert len(bomb) < 1_000_000
    with pytest.raises(UploadError) as caught:
        import_offerings(vendor.org, vendor, "bomb.xlsx", bomb)
    assert "过大" in caught.value.message


def test_unknown_and_missing_headers_are_named(app: Flask, vendor: User) -> None:
    with pytest.raises(UploadError) as caught:
        import_offerings(
            vendor.org, vendor, "x.csv", csv_bytes([], header=[*HEADERS, "联系人电话"])
        )
    assert "联系人电话" in caught.value.message
    with pytest.raises(UploadError) as caught:
        import_offerings(vendor.org, vendor, "x.csv", csv_bytes([["标题"]], header=["标题*"]))
    assert "分类代码*" in caught.value.message and "详细描述*" in caught.value.message


def test_sheet_without_data_rows_is_refused(app: Flask, vendor: User) -> None:
    with pytest.raises(UploadError) as caught:
        import_offerings(vendor.org, vendor, "x.xlsx", filled_template([]))
    assert "没有数据行" in caught.value.message


def test_more_rows_than_the_limit_are_refused(app: Flask, vendor: User) -> None:
    app.config["UPLOAD_MAX_ROWS"] = 3
    with pytest.raises(UploadError) as caught:
        import_offerings(vendor.org, vendor, "x.xlsx", filled_template([row(**GOOD)] * 4))
    assert "3 行" in caught.value.message
    assert offering_count() == 0


def test_uploaded_sheet_without_template_styling_is_read(app: Flask, vendor: User) -> None:
    """A workbook written by another program: plain first sheet, keys as headers."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["title", "category", "description", "price_max"])
    sheet.append(["边缘网关", "platform.data_collection", "采集 PLC 数据", 12000])
    out = io.BytesIO()
    book.save(out)
    result = import_offerings(vendor.org, vendor, "other.xlsx", out.getvalue())
    assert result.errors == [] and result.created[0].price_max == 12000

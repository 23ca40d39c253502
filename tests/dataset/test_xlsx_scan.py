"""The look inside an XLSX archive before openpyxl parses it (market/dataset/xlsx_scan.py)."""

from __future__ import annotations

import dataclasses
import io
import zipfile

import pytest
from flask import Flask

from market.dataset import xlsx_scan
from market.dataset.upload_template import template_file

LIMITS = xlsx_scan.Limits(
    uncompressed=10_000_000, members=50, rows=100, cells=1_000, strings=500, elements=20_000
)
NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


def archive(parts: dict[str, bytes]) -> zipfile.ZipFile:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in parts.items():
            out.writestr(name, data)
    return zipfile.ZipFile(buffer)


def sheet(rows: str) -> bytes:
    return f"<worksheet {NS}><sheetData>{rows}</sheetData></worksheet>".encode()


def test_the_downloaded_template_passes(app: Flask) -> None:
    with app.test_request_context():
        content, _mime, _name = template_file("xlsx")
    xlsx_scan.scan(
        zipfile.ZipFile(io.BytesIO(content)),
        dataclasses.replace(LIMITS, rows=1_000, cells=10_000, strings=5_000),
    )


def test_rows_past_the_limit_are_refused_wherever_the_sheet_lives() -> None:
    rows = "".join(f'<row r="{n}"><c><v>1</v></c></row>' for n in range(1, 102))
    for name in ("xl/worksheets/sheet1.xml", "xl/elsewhere/data.xml"):
        with pytest.raises(xlsx_scan.TooManyRows):
            xlsx_scan.scan(archive({name: sheet(rows)}), LIMITS)


def test_a_row_numbered_far_below_is_refused_without_reading_the_gap() -> None:
    rows = '<row r="1"><c><v>1</v></c></row><row r="1048576"><c><v>1</v></c></row>'
    with pytest.raises(xlsx_scan.TooManyRows):
        xlsx_scan.scan(archive({"xl/worksheets/sheet1.xml": sheet(rows)}), LIMITS)


def test_too_many_cells_in_few_rows_are_refused() -> None:
    rows = "<row>" + "<c><v>1</v></c>" * 1_001 + "</row>"
    with pytest.raises(xlsx_scan.TooManyRows):
        xlsx_scan.scan(archive({"xl/worksheets/sheet1.xml": sheet(rows)}), LIMITS)


def test_a_huge_shared_string_table_is_refused() -> None:
    table = f"<sst {NS}>" + "<si><t>x</t></si>" * 501 + "</sst>"
    with pytest.raises(xlsx_scan.TooManyStrings):
        xlsx_scan.scan(archive({"xl/sharedStrings.xml": table.encode()}), LIMITS)


def test_a_doctype_is_refused_before_any_entity_expands() -> None:
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        b"<sst>&lol2;</sst>"
    )
    with pytest.raises(xlsx_scan.Malformed):
        xlsx_scan.scan(archive({"xl/sharedStrings.xml": laughs}), LIMITS)


def test_declared_sizes_and_member_count_are_checked_first() -> None:
    big = archive({"xl/worksheets/sheet1.xml": b" " * 10_000_001})
    with pytest.raises(xlsx_scan.Inflated):
        xlsx_scan.scan(big, LIMITS)
    many = archive({f"xl/media/{n}.bin": b"" for n in range(51)})
    with pytest.raises(xlsx_scan.Inflated):
        xlsx_scan.scan(many, LIMITS)


def test_broken_xml_is_malformed() -> None:
    with pytest.raises(xlsx_scan.Malformed):
        xlsx_scan.scan(archive({"xl/workbook.xml": b"<workbook><sheets>"}), LIMITS)


@pytest.mark.parametrize(
    "name", ["xl/worksheets/sheet1.bin", "xl/worksheets/sheet1", "xl/media/SHEET.PNG"]
)
def test_a_sheet_under_any_name_is_scanned(name: str) -> None:
    """openpyxl follows the relationships to a part whatever its name; so does the scan."""
    rows = "".join(f'<row r="{n}"><c><v>1</v></c></row>' for n in range(1, 102))
    with pytest.raises(xlsx_scan.TooManyRows):
        xlsx_scan.scan(archive({name: sheet(rows)}), LIMITS)
    bom = archive({name: b"\xef\xbb\xbf  \r\n" + sheet(rows)})
    with pytest.raises(xlsx_scan.TooManyRows):
        xlsx_scan.scan(bom, LIMITS)
    utf16 = archive({name: sheet(rows).decode().encode("utf-16")})
    with pytest.raises(xlsx_scan.TooManyRows):
        xlsx_scan.scan(utf16, LIMITS)


def test_binary_parts_are_not_taken_for_broken_xml() -> None:
    """Images, printer settings and macros are parts too; they are not parsed as XML."""
    parts = {
        "xl/media/image1.png": b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 64,
        "xl/printerSettings/printerSettings1.bin": bytes(range(256)) * 4,
        "xl/empty.bin": b"",
        "xl/worksheets/sheet1.xml": sheet('<row r="1"><c><v>1</v></c></row>'),
    }
    xlsx_scan.scan(archive(parts), LIMITS)

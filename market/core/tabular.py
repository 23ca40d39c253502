"""Tables for download: the MIME types, CSV and XLSX writers, and the formula guard.

Text cells that a spreadsheet would run as a formula (=, +, -, @, tab or CR first) get
a leading apostrophe, since names and titles are typed by users. Every CSV or XLSX the
site writes goes through ``safe_cell`` (here or via ``to_csv``/``to_xlsx``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from openpyxl import Workbook
from openpyxl.styles import Font

Cell = str | int | float | None
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MIMETYPE = "text/csv; charset=utf-8"


def safe_text(value: str) -> str:
    """Text a spreadsheet must show as text, never run: an apostrophe before a formula."""
    return "'" + value if value.startswith(FORMULA_START) else value


def safe_cell(value: Cell) -> Cell:
    """``safe_text`` for text cells; numbers and empty cells as they are."""
    return safe_text(value) if isinstance(value, str) else value


def to_csv(headers: Sequence[str], rows: Sequence[Sequence[Cell]]) -> bytes:
    """UTF-8 with a byte-order mark, so Excel on a Chinese Windows opens it correctly."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    for row in rows:
        writer.writerow(["" if v is None else safe_cell(v) for v in row])
    return out.getvalue().encode("utf-8-sig")


def to_xlsx(title: str, headers: Sequence[str], rows: Sequence[Sequence[Cell]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title[:31]
    sheet.append(list(headers))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([safe_cell(v) for v in row])
    for column in ("A", "B", "C", "D", "E", "F", "G"):
        sheet.column_dimensions[column].width = 22
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()

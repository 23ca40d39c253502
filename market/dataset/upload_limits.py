"""How much a bulk upload may hold: rows (UPLOAD_MAX_ROWS), and for a workbook the
inflated size, members, cells and strings the XLSX scan allows before parsing."""

from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _

from market.core.errors import DomainError
from market.dataset import xlsx_scan

# A workbook is a zip: refuse archives that would inflate past this when parsed.
MAX_UNCOMPRESSED = 50 * 1024 * 1024
MAX_MEMBERS = 1000
# Blank rows are skipped, but not without end: a sheet may run to twice the row limit
# (filled and blank rows together, plus the header) before it is refused unread.
BLANK_ROW_ALLOWANCE = 2


class UploadError(DomainError):
    """A file that cannot be read as an offerings sheet at all; nothing was added."""


class UploadTooLarge(UploadError):
    """A file holding more than an upload may (rows, or inflated size); nothing was added."""

    status = 413


def row_limit() -> int:
    return int(current_app.config["UPLOAD_MAX_ROWS"])


def sheet_rows() -> int:
    """The last row number read at all, the header included."""
    return row_limit() * BLANK_ROW_ALLOWANCE + 1


def too_many_rows() -> UploadTooLarge:
    return UploadTooLarge(
        _(
            "文件超过 %(n)d 行的上限（最多读取 %(rows)d 行，空行也计算在内）。"
            "请删除多余的空行，或分成多个文件上传。",
            n=row_limit(),
            rows=sheet_rows(),
        )
    )


def xlsx_limits(columns: int) -> xlsx_scan.Limits:
    """What a workbook may hold: the data sheet's rows at full width, and its text.

    These bound the parser's work on any sheet; the data sheet's own limits are
    checked exactly as its rows are read. The floor leaves room for the template's
    说明 sheet also when UPLOAD_MAX_ROWS is small.
    """
    rows = max(sheet_rows(), 1_000)
    cells = rows * columns
    return xlsx_scan.Limits(
        uncompressed=MAX_UNCOMPRESSED,
        members=MAX_MEMBERS,
        rows=rows,
        cells=cells,
        # One string per cell, and the template's 说明 sheet besides.
        strings=cells + 10_000,
        # A cell is a few elements (c, v or is/t); a rich-text string up to a dozen.
        elements=10 * cells + 100_000,
    )

"""The bulk upload's template: the offerings sheet with its header, and a help sheet."""

from __future__ import annotations

import csv
import io

from flask import current_app
from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from market.core import reference
from market.core.tabular import CSV_MIMETYPE, XLSX_MIMETYPE
from market.dataset import schema
from market.dataset.bulk_upload import (
    _HELP,
    DATA_SHEET,
    HELP_SHEET,
    TEMPLATE_COLUMNS,
    TEMPLATE_NAME,
)

# --- the template ------------------------------------------------------------------


def template_file(fmt: str) -> tuple[bytes, str, str]:
    """The empty upload template as (content, mimetype, download filename).

    ``fmt`` is "xlsx" or "csv"; raises ValueError for anything else.
    """
    if fmt == "xlsx":
        return _template_xlsx(), XLSX_MIMETYPE, f"{TEMPLATE_NAME}.xlsx"
    if fmt == "csv":
        return _template_csv(), CSV_MIMETYPE, f"{TEMPLATE_NAME}.csv"
    raise ValueError(f"unknown template format {fmt!r}")


def _template_csv() -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(header for _key, header in TEMPLATE_COLUMNS)
    # The byte-order mark makes Excel on Windows open the file as UTF-8, not GBK.
    return out.getvalue().encode("utf-8-sig")


def _template_xlsx() -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = DATA_SHEET
    sheet.append([header for _key, header in TEMPLATE_COLUMNS])
    bold = Font(bold=True)
    for cell in sheet[1]:
        cell.font = bold
        cell.alignment = Alignment(vertical="center")
    for index, (key, header) in enumerate(TEMPLATE_COLUMNS, start=1):
        letter = get_column_letter(index)
        wide = key in ("description", "summary", "title")
        sheet.column_dimensions[letter].width = 40 if wide else max(12, len(header) * 2 + 2)
        if schema.shape("offerings", key) == "date":
            # A column style, not styled cells: empty styled cells would count as rows.
            sheet.column_dimensions[letter].number_format = "yyyy-mm-dd"
    sheet.freeze_panes = "A2"
    first, last = _help_sheet(book)
    choose = DataValidation(
        type="list", formula1=f"='{HELP_SHEET}'!$A${first}:$A${last}", allow_blank=True
    )
    choose.add(f"B2:B{current_app.config['UPLOAD_MAX_ROWS'] + 1}")
    sheet.add_data_validation(choose)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _help_sheet(book: Workbook) -> tuple[int, int]:
    """Write the 说明 sheet; returns the rows holding the category codes."""
    sheet = book.create_sheet(HELP_SHEET)
    bold = Font(bold=True)
    sheet.append(
        [
            _(
                "供给批量上传说明：在「供给」工作表中每行填写一条供给，带 * 的列必填。"
                "上传后每条供给保存为草稿，检查无误后提交审核。任何一行有错误时，整个文件都不会导入。"
            )
        ]
    )
    sheet.append([])
    sheet.append([_("列名"), _("说明"), _("示例")])
    for cell in sheet[sheet.max_row]:
        cell.font = bold
    for key, header in TEMPLATE_COLUMNS:
        explanation, example = _HELP[key]
        sheet.append([header, explanation, example])
    sheet.append([])
    sheet.append([_("分类代码"), _("分类名称"), _("类型")])
    for cell in sheet[sheet.max_row]:
        cell.font = bold
    kinds = {"solution": _("解决方案"), "finance": _("金融"), "training": _("培训")}
    first = sheet.max_row + 1
    for entry in reference.categories().values():
        sheet.append([entry.code, entry.name, kinds.get(entry.kind or "", "")])
    last = sheet.max_row
    sheet.append([])
    sheet.append([_("行业代码"), _("行业名称")])
    for cell in sheet[sheet.max_row]:
        cell.font = bold
    for entry in reference.industries().values():
        sheet.append([entry.code, entry.name])
    for letter, width in (("A", 30), ("B", 60), ("C", 30)):
        sheet.column_dimensions[letter].width = width
    return first, last

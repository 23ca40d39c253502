"""Bulk upload of offerings from an Excel (XLSX) or CSV sheet, for one organization.

The sheet is read without trusting its name: the content decides whether it is
an Excel workbook or CSV text. Each row becomes an offering record of the data
format and goes through ``schema.validate`` — the same checks as ``market
import``. The upload is all-or-nothing: one bad row and nothing is added.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from openpyxl import load_workbook
from sqlalchemy import select

from market.core import permissions, reference
from market.core.extensions import db
from market.dataset import schema, xlsx_scan
from market.dataset import upload_limits as limits
from market.dataset.cells import _cell_value, _is_blank
from market.dataset.service import apply_offering
from market.dataset.upload_limits import UploadError, UploadTooLarge
from market.models import Offering, Organization, Park

TEMPLATE_NAME = "供给批量上传模板"
DATA_SHEET = "供给"
HELP_SHEET = "说明"
MAX_COLUMNS = 100

TEMPLATE_COLUMNS: list[tuple[str, str]] = [
    ("title", "标题*"),
    ("category", "分类代码*"),
    ("summary", "摘要"),
    ("description", "详细描述*"),
    ("tags", "标签（用、或逗号分隔）"),
    ("industries", "行业代码"),
    ("regions", "服务地区（省份全称，或 全国）"),
    ("parks", "服务园区编号"),
    ("price_min", "最低价格（元）"),
    ("price_max", "最高价格（元）"),
    ("price_unit", "计价单位"),
    ("amount_min", "金融：最低额度（元）"),
    ("amount_max", "金融：最高额度（元）"),
    ("rate_min", "金融：最低年化利率（%）"),
    ("rate_max", "金融：最高年化利率（%）"),
    ("term_months_max", "金融：最长期限（月）"),
    ("eligible_sizes", "金融：适用企业规模"),
    ("mode", "培训：授课方式"),
    ("starts_on", "培训：开课日期"),
    ("capacity", "培训：名额"),
    ("certificate", "培训：证书"),
]
REQUIRED_KEYS = ("title", "category", "description")

# (column explanation, example) for the 说明 sheet.
_HELP: dict[str, tuple[str, str]] = {
    "title": ("供给名称，不超过 200 字", "注塑机设备上云与OEE分析"),
    "category": (
        "分类代码或分类名称，见下方分类表；金融类用 finance.*，培训类用 talent.*",
        "platform.equipment_cloud",
    ),
    "summary": ("一句话介绍", "设备联网、数据采集与OEE看板"),
    "description": ("详细介绍方案内容、交付方式、案例", "为注塑车间提供设备联网……"),
    "tags": ("多个标签用顿号、逗号或分号分隔", "设备上云、OEE、数据采集"),
    "industries": ("GB/T 4754-2017 行业门类或大类代码，多个用顿号分隔", "C29、C34"),
    "regions": ("服务的省份全称，多个用顿号分隔；全国范围填 全国", "江苏省、浙江省"),
    "parks": ("明确服务的园区编号，多个用顿号分隔", "P-SIP"),
    "price_min": ("整数，单位元", "50000"),
    "price_max": ("整数，单位元，不低于最低价格", "300000"),
    "price_unit": ("如 元/项目、元/年、元/人", "元/项目"),
    "amount_min": ("仅金融类：整数，单位元", "1000000"),
    "amount_max": ("仅金融类：整数，单位元", "10000000"),
    "rate_min": ("仅金融类：年化利率，单位 %，最多三位小数", "3.45"),
    "rate_max": ("仅金融类：年化利率，单位 %", "4.8"),
    "term_months_max": ("仅金融类：整数，单位月", "36"),
    "eligible_sizes": ("仅金融类：大型、中型、小型、微型，多个用顿号分隔", "小型、微型"),
    "mode": ("仅培训类：线上、线下 或 混合", "线下"),
    "starts_on": ("仅培训类：日期，格式 2026-11-24", "2026-11-24"),
    "capacity": ("仅培训类：整数", "40"),
    "certificate": ("仅培训类：结业可获得的证书", "工业机器人系统操作员（四级）"),
}
_UNSAFE_NAME = re.compile(r"[/\\\x00-\x1f\x7f]")
# Signatures of files people upload by mistake, to say what they uploaded.
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls / .doc of Office 97–2003
_BINARY_MAGIC = (b"%PDF", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"Rar!", b"\x1f\x8b", b"7z\xbc\xaf")


@dataclass(frozen=True)
class RowError:
    """A problem in one cell: the row number as Excel shows it (header is row 1)."""

    row: int
    column: str
    message: str

    def __str__(self) -> str:
        if self.column:
            return _(
                "第 %(row)d 行「%(column)s」：%(message)s",
                row=self.row,
                column=self.column,
                message=self.message,
            )
        return _("第 %(row)d 行：%(message)s", row=self.row, message=self.message)


@dataclass
class UploadResult:
    """Offerings created (all rows) or the errors found (then nothing was created)."""

    created: list[Offering] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


# --- reading a sheet -----------------------------------------------------------------


@dataclass
class _Sheet:
    """The header row and a lazy iterator of (row number, cells) for the data rows."""

    header: list[Any]
    rows: Iterator[tuple[int, list[Any]]]


def _check_filename(filename: str) -> None:
    """Refuse a name that carries a path or control characters (raises UploadError).

    The file is never saved under its name, but a name like ``../../etc/passwd.xlsx``
    only comes from a crafted request, and it would be echoed in messages and logs.
    """
    if _UNSAFE_NAME.search(filename) or filename.strip(". ") == "":
        raise UploadError(
            _("文件名无效：文件名中不能含有路径（/ 或 \\）或控制字符，请直接选择文件上传。")
        )


def _open(filename: str, data: bytes) -> _Sheet:
    if not data.strip():
        raise UploadError(_("上传的文件是空的。"))
    if data.startswith(b"PK\x03\x04"):
        return _read_xlsx(data)
    if data.startswith(_OLE_MAGIC):
        raise UploadError(_("不支持旧版 Excel（.xls）文件，请在 Excel 中另存为 .xlsx 后再上传。"))
    if data.startswith(_BINARY_MAGIC):
        raise UploadError(
            _(
                "文件 %(name)s 不是 Excel（.xlsx）或 CSV 文件，请使用下载的模板。",
                name=filename or "?",
            )
        )
    return _read_csv(data)


def _read_xlsx(data: bytes) -> _Sheet:
    unreadable = _("无法读取该 Excel 文件，文件可能已损坏，请使用下载的模板。")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = archive.namelist()
    except (zipfile.BadZipFile, OSError):
        raise UploadError(unreadable) from None
    if "xl/workbook.xml" not in names:
        raise UploadError(_("该文件不是 Excel 工作簿（.xlsx），请使用下载的模板。"))
    # Look inside before parsing: a few kilobytes can inflate to gigabytes (a zip bomb),
    # or to a million rows that openpyxl would read in full just to size the sheet.
    try:
        xlsx_scan.scan(archive, limits.xlsx_limits(len(TEMPLATE_COLUMNS)))
    except xlsx_scan.TooManyRows:
        raise limits.too_many_rows() from None
    except (xlsx_scan.Inflated, xlsx_scan.TooManyStrings):
        raise UploadTooLarge(
            _("Excel 文件解压后过大，请删除无关的工作表和格式后再上传。")
        ) from None
    except xlsx_scan.ScanError:
        raise UploadError(unreadable) from None
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        sheet = book[DATA_SHEET] if DATA_SHEET in book.sheetnames else book.worksheets[0]
        header_rows = sheet.iter_rows(min_row=1, max_row=1, max_col=MAX_COLUMNS, values_only=True)
        header = list(next(header_rows, ()))
    except Exception:  # openpyxl raises many kinds (KeyError, XML errors …) on broken files
        raise UploadError(unreadable) from None
    width = len(header)

    def rows() -> Iterator[tuple[int, list[Any]]]:
        try:
            numbered = enumerate(
                sheet.iter_rows(min_row=2, max_col=max(width, 1), values_only=True), start=2
            )
            for number, cells in numbered:
                yield number, list(cells)
        except Exception:  # a sheet part broken further down than the header
            raise UploadError(unreadable) from None
        finally:
            book.close()

    return _Sheet(header, rows())


def _decode(data: bytes) -> str:
    """CSV text: UTF-8 (with or without BOM), UTF-16 with BOM, or GBK/GB18030."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    elif b"\x00" not in data:
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError:
                continue
    raise UploadError(_("无法识别文件内容：请上传 .xlsx 文件，或 UTF-8 / GBK 编码的 CSV 文件。"))


def _read_csv(data: bytes) -> _Sheet:
    text = _decode(data)
    first_line = text.split("\n", 1)[0]
    # Excel saves "CSV" with commas, "Unicode text" with tabs; some locales use semicolons.
    delimiter = max(",\t;", key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader, [])
    except csv.Error:
        raise UploadError(_("CSV 文件格式有误，无法读取表头。")) from None

    def rows() -> Iterator[tuple[int, list[Any]]]:
        try:
            for number, cells in enumerate(reader, start=2):
                yield number, list(cells)
        except csv.Error as exc:
            raise UploadError(_("CSV 文件格式有误：%(e)s", e=exc)) from None

    return _Sheet(header, rows())


def _normalize_header(value: Any) -> str:
    return re.sub(r"\s+", "", str(value or "")).rstrip("*＊")


def _header_names() -> dict[str, str]:
    """Every accepted spelling of a column (full header, header without the note, key)."""
    names: dict[str, str] = {}
    for key, header in TEMPLATE_COLUMNS:
        full = _normalize_header(header)
        short = re.split(r"[（(]", full)[0].rstrip("*＊")
        # "金融：最低额度（元）" may also be written "最低额度" or "price_min" style keys.
        for name in (full, short, short.split("：", 1)[-1], key):
            names[name] = key
    return names


def _map_header(header: list[Any]) -> dict[int, tuple[str, str]]:
    """Column index → (key, header as written); raises UploadError for unknown or missing ones."""
    names = _header_names()
    columns: dict[int, tuple[str, str]] = {}
    unknown: list[str] = []
    for index, raw in enumerate(header):
        name = _normalize_header(raw)
        if not name:
            continue
        key = names.get(name)
        if key is None:
            unknown.append(str(raw).strip())
        elif key in {k for k, _h in columns.values()}:
            raise UploadError(_("表头中「%(h)s」列出现了两次。", h=str(raw).strip()))
        else:
            columns[index] = (key, str(raw).strip())
    if unknown:
        # Echo at most a few, shortened: a mis-detected file's "headers" can be noise.
        unknown = [name[:30] for name in unknown[:5]]
        raise UploadError(
            _("无法识别的列：%(cols)s。请使用下载的模板中的表头。", cols="、".join(unknown))
        )
    present = {key for key, _h in columns.values()}
    missing = [
        header for key, header in TEMPLATE_COLUMNS if key in REQUIRED_KEYS and key not in present
    ]
    if missing:
        raise UploadError(_("缺少必填的列：%(cols)s。请使用下载的模板。", cols="、".join(missing)))
    return columns


# --- the upload ---------------------------------------------------------------------------


def import_offerings(org: Organization, actor: Any, filename: str, data: bytes) -> UploadResult:
    """Create one draft offering of ``org`` per filled row of the uploaded sheet.

    All or nothing: when any row has an error, the result lists every error (row
    and column as the user sees them) and nothing is added to the session.
    Raises PermissionDenied unless ``actor`` belongs to ``org`` and ``org`` lists
    offerings; UploadError when the file cannot be read as a sheet at all.
    """
    permissions.require(
        permissions.can_list_offerings(actor) and actor.org_id == org.id,
        _("只有本机构成员可以为本机构批量上传供给。"),
    )
    _check_filename(filename)
    sheet = _open(filename, data)
    columns = _map_header(sheet.header)
    parsed = list(_records(org, columns, sheet.rows))
    if not parsed:
        raise UploadError(_("文件中没有数据行：请从第 2 行开始填写，每行一条供给。"))
    errors: list[RowError] = []
    clean_rows: list[tuple[int, dict[str, Any]]] = []
    for number, record in parsed:
        row_errors, clean = _check_row(org, columns, number, record)
        errors.extend(row_errors)
        clean_rows.append((number, clean))
    parks = _parks([ref for _n, clean in clean_rows for ref in clean.get("parks", [])])
    for number, clean in clean_rows:
        missing = [ref for ref in clean.get("parks", []) if ref not in parks]
        if missing:
            errors.append(
                RowError(
                    number,
                    _column(columns, "parks"),
                    _("园区编号不存在：%(refs)s", refs="、".join(missing)),
                )
            )
    if errors:
        return UploadResult(errors=sorted(errors, key=lambda e: e.row))
    created = []
    for _number, clean in clean_rows:
        item = Offering(org=org, status="draft")
        apply_offering(item, clean, [parks[ref] for ref in clean.get("parks", [])])
        db.session.add(item)
        created.append(item)
    db.session.flush()  # the new rows get their refs
    return UploadResult(created=created)


def _records(
    org: Organization, columns: dict[int, tuple[str, str]], rows: Iterable[tuple[int, list[Any]]]
) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (row number, record) for each filled row, enforcing the row limits as it reads.

    Blank rows are skipped (sheets are often formatted below their data), up to the
    sheet's row bound; raises UploadTooLarge past it or past the filled-row limit.
    """
    limit = limits.row_limit()
    last_row = limits.sheet_rows()
    filled = 0
    for number, cells in rows:
        if number > last_row:
            raise limits.too_many_rows()
        if all(_is_blank(cell) for cell in cells):
            continue
        filled += 1
        if filled > limit:
            raise UploadTooLarge(_("文件超过 %(n)d 行的上限，请分成多个文件上传。", n=limit))
        record: dict[str, Any] = {"ref": f"row-{number}", "org": org.ref}
        for index, (key, _header) in columns.items():
            cell = cells[index] if index < len(cells) else None
            if not _is_blank(cell):
                record[key] = _cell_value(key, cell)
        yield number, record


def _check_row(
    org: Organization, columns: dict[int, tuple[str, str]], number: int, record: dict[str, Any]
) -> tuple[list[RowError], dict[str, Any]]:
    """Validate one row as an offering record of ``org``; returns its errors and clean values."""
    wanted = reference.category_kind(str(record.get("category", "")))
    kinds = org.offering_kinds
    record["kind"] = wanted or (kinds[0] if kinds else "solution")
    result = schema.validate("offerings", record, required=("description",))
    errors = [RowError(number, _column(columns, e.key), e.message) for e in result.errors]
    if wanted is not None and wanted not in kinds:
        errors.append(
            RowError(
                number,
                _column(columns, "category"),
                _(
                    "本机构只能发布%(allowed)s类供给，该分类属于%(kind)s类",
                    allowed=_kind_names(kinds),
                    kind=_kind_names((wanted,)),
                ),
            )
        )
    return errors, result.clean


def _kind_names(kinds: Iterable[str]) -> str:
    names = {"solution": _("解决方案"), "finance": _("金融"), "training": _("培训")}
    return "、".join(names.get(kind, kind) for kind in kinds)


def _column(columns: dict[int, tuple[str, str]], key: str | None) -> str:
    """The column as the user's sheet names it (the template's header if absent)."""
    for column_key, header in columns.values():
        if column_key == key:
            return header
    return dict(TEMPLATE_COLUMNS).get(key or "", key or "")


def _parks(refs: list[str]) -> dict[str, Park]:
    found: dict[str, Park] = {}
    unique = sorted(set(refs))
    for start in range(0, len(unique), 500):
        chunk = unique[start : start + 500]
        for park in db.session.scalars(select(Park).where(Park.ref.in_(chunk))):
            found[str(park.ref)] = park
    return found

"""A published edition as files: XLSX, PDF, CSV, a JSON data set (+ zip) and the Atom feed.

The files of an edition are written once, after publication, under
``<instance>/catalogues/<scope>/<year>-<n>/``; downloads then serve them as static
files, and a missing file is written again from the edition's frozen entries (which
never change, so the new file says what the old one said). Exports are always in
Chinese: they are documents published under the park's name.

Cells that a spreadsheet would run as a formula (starting with = + - @, tab or CR)
get a leading apostrophe in XLSX and CSV.
"""

from __future__ import annotations

import csv
import io
import logging
import zipfile
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from sqlalchemy import select

from market.catalogue import compile as compile_
from market.catalogue import present
from market.core.extensions import db
from market.core.files import atomic_write
from market.core.i18n import day
from market.core.pdf import PdfDocument
from market.core.tabular import safe_text
from market.dataset import export as dataset
from market.models import CatalogueEdition, CatalogueEntry

log = logging.getLogger(__name__)

FORMATS = ("xlsx", "pdf", "csv", "zip")
DATASET_FILES = ("parks", "organizations", "offerings", "needs")
XLSX_WIDTH_MAX = 60
PDF_TEXT_MAX = 48
ATOM = "http://www.w3.org/2005/Atom"


# --- where the files live -------------------------------------------------------------------


def folder(edition: CatalogueEdition) -> Path:
    """``<instance>/catalogues/<scope slug>/<year>-<n>/``; raises ValueError for a draft."""
    if edition.number is None:
        raise ValueError("a draft has no exports")
    slug = compile_.scope_of(edition).slug
    root = Path(current_app.config["INSTANCE"]) / "catalogues"
    return root / slug / f"{edition.year}-{edition.number}"


def file_name(edition: CatalogueEdition, fmt: str) -> str:
    base = f"{compile_.scope_of(edition).slug}-{edition.year}-{edition.number:02d}"
    return f"{base}-json.zip" if fmt == "zip" else f"{base}.{fmt}"


def download_name(edition: CatalogueEdition, fmt: str) -> str:
    """What a download is saved as: whose catalogue and which edition, in words
    (「苏州工业园区-供需目录清单-2026 年第 3 期.xlsx」); the file on disk keeps ``file_name``."""
    scope = compile_.scope_of(edition)
    base = f"{scope.name}-{_('供需目录清单')}-{present.label(edition)}"
    return f"{base}-json.zip" if fmt == "zip" else f"{base}.{fmt}"


def path_for(edition: CatalogueEdition, fmt: str) -> Path:
    """The file of ``fmt`` for a published edition, written now if it is missing."""
    if fmt not in FORMATS:
        raise ValueError(fmt)
    path = folder(edition) / file_name(edition, fmt)
    if not path.is_file():
        Exporter(edition).write([fmt])
    return path


def write_all(edition: CatalogueEdition) -> list[Path]:
    """Write every export of the edition; returns the files, the data set folder last."""
    return Exporter(edition).write(FORMATS)


def write_all_quietly(edition: CatalogueEdition) -> None:
    """``write_all``, logging instead of raising: a download writes a missing file again."""
    try:
        write_all(edition)
    except Exception:
        log.exception("could not write the exports of catalogue %s", edition.ref)


# --- the exporter ---------------------------------------------------------------------------


class Exporter:
    """Writes one edition's files; the cells are computed once and shared by the formats."""

    def __init__(self, edition: CatalogueEdition) -> None:
        self.edition = edition
        self.entries = list(
            db.session.scalars(
                select(CatalogueEntry)
                .where(CatalogueEntry.edition_id == edition.id)
                .order_by(CatalogueEntry.side.desc(), CatalogueEntry.position)
            )
        )
        self._tables: dict[str, list[list[str]]] = {}

    def rows(self, side: str) -> list[list[str]]:
        """The side's cells, computed once for every format."""
        if side not in self._tables:
            self._tables[side] = present.table(self.entries, side)
        return self._tables[side]

    def write(self, formats: Iterable[str]) -> list[Path]:
        target = folder(self.edition)
        writers = {"xlsx": self.xlsx, "pdf": self.pdf, "csv": self.csv}
        written = []
        with force_locale("zh"):
            for fmt in formats:
                path = target / file_name(self.edition, fmt)
                if fmt == "zip":
                    json_dir = self.dataset(target / "json")
                    atomic_write(path, lambda fh, src=json_dir: self._zip(fh, src))  # type: ignore[misc]
                    written += [path, json_dir]
                else:
                    data = writers[fmt]()
                    atomic_write(path, lambda fh, data=data: fh.write(data))  # type: ignore[misc]
                    written.append(path)
        return written

    # --- XLSX ---

    def xlsx(self) -> bytes:
        wb = Workbook(write_only=True)
        bold = Font(bold=True)
        for side, sheet_name in (("supply", _("供给")), ("demand", _("需求"))):
            ws = wb.create_sheet(sheet_name)
            cols = present.columns(side)
            rows = [[safe_text(v) for v in row] for row in self.rows(side)]
            headers = [str(c.header) for c in cols]
            for i, width in enumerate(_fitted_widths(headers, rows)):
                ws.column_dimensions[get_column_letter(i + 1)].width = width
            ws.freeze_panes = "A2"
            header_cells = []
            for text in headers:
                cell = WriteOnlyCell(ws, value=text)
                cell.font = bold
                header_cells.append(cell)
            ws.append(header_cells)
            for row in rows:
                ws.append(row)
        out = io.BytesIO()
        wb.save(out)
        return out.getvalue()

    # --- CSV ---

    CSV_HEADERS = (
        _l("类型"),
        _l("序号"),
        _l("编号"),
        _l("名称"),
        _l("类别"),
        _l("机构"),
        _l("地区/园区"),
        _l("价格/预算"),
        _l("截止日期"),
        _l("简介"),
    )

    def csv(self) -> bytes:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow([str(h) for h in self.CSV_HEADERS])
        for side in ("supply", "demand"):
            keys = [c.key for c in present.columns(side)]
            for row in self.rows(side):
                cells = dict(zip(keys, row, strict=True))
                writer.writerow(
                    safe_text(v)
                    for v in (
                        present.side_label(side),
                        cells["position"],
                        cells["ref"],
                        cells["title"],
                        cells["category"],
                        cells["org"],
                        cells.get("regions") or cells.get("park", ""),
                        cells["terms"],
                        cells.get("deadline", ""),
                        cells["summary"],
                    )
                )
        # UTF-8 with a byte order mark: Excel opens it as UTF-8 only then.
        return out.getvalue().encode("utf-8-sig")

    # --- PDF ---

    def pdf(self) -> bytes:
        edition = self.edition
        title = edition.title
        subtitle = present.label(edition)
        published = day(edition.published_at)
        doc = PdfDocument(title=f"{title} {subtitle}", footer=f"{title} · {subtitle}")
        scope = compile_.scope_of(edition)
        doc.cover(
            title,
            subtitle,
            [
                _("发布单位：%(name)s", name=scope.name),
                _("发布日期：%(day)s", day=published),
                _("供给 %(s)d 条 · 需求 %(d)d 条", s=edition.supply_count, d=edition.demand_count),
            ],
        )
        doc.contents(_("目录"))
        if edition.foreword:
            doc.heading(_("前言"), 0)
            doc.paragraph(edition.foreword)
        order = present.section_order(edition)
        sections = present.sections(self.entries, order)
        keys = {side: [c.key for c in present.columns(side)] for side in ("supply", "demand")}
        pdf_keys = {
            "supply": ("position", "title", "org", "regions", "terms", "summary"),
            "demand": ("position", "title", "org", "park", "terms", "deadline", "summary"),
        }
        pdf_widths = {"supply": (6, 30, 22, 16, 18, 35), "demand": (6, 30, 22, 14, 14, 11, 29)}
        by_position: dict[str, dict[int, list[str]]] = {}
        for side in ("supply", "demand"):
            picked = [keys[side].index(k) for k in pdf_keys[side]]
            by_position[side] = {
                int(row[0]): [_clip(row[i]) for i in picked] for row in self.rows(side)
            }
        for side, heading in (("supply", _("一、供给目录")), ("demand", _("二、需求目录"))):
            doc.heading(heading, 0)
            side_sections = [s for s in sections if s.side == side]
            if not side_sections:
                doc.paragraph(_("本期无条目。"))
            cols = {c.key: str(c.header) for c in present.columns(side)}
            headers = [cols[k] for k in pdf_keys[side]]
            for section in side_sections:
                name = present.top_label(section.code)
                doc.heading(_("%(name)s（%(n)d 条）", name=name, n=len(section.entries)), 1)
                rows = [by_position[side][e.position] for e in section.entries]
                doc.table(headers, rows, pdf_widths[side])
        return doc.output()

    # --- JSON data set ---

    def dataset(self, target: Path) -> Path:
        """The entries as a data set (data-format.md) that ``market import`` reads back."""
        target.mkdir(parents=True, exist_ok=True)
        parks: dict[str, dict[str, Any]] = {}
        orgs: dict[str, dict[str, Any]] = {}
        offerings: list[dict[str, Any]] = []
        needs: list[dict[str, Any]] = []
        for entry in self.entries:
            for park in entry.parks or []:
                parks[str(park["ref"])] = park
            orgs[str(entry.org["ref"])] = entry.org
            (offerings if entry.side == "supply" else needs).append(entry.record)
        files = {
            "parks": list(parks.values()),
            "organizations": list(orgs.values()),
            "offerings": offerings,
            "needs": needs,
        }
        for name, rows in files.items():
            ordered = sorted(
                (dataset.export_record(name, row) for row in rows), key=lambda row: str(row["ref"])
            )
            dataset.write_json(target / f"{name}.json", ordered)
        return target

    def _zip(self, fh: io.BufferedWriter, json_dir: Path) -> None:
        with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name in DATASET_FILES:
                archive.write(json_dir / f"{name}.json", arcname=f"{name}.json")


def _clip(text: str) -> str:
    """Long texts are cut for print: the PDF is a list to browse, the XLSX has it all."""
    return text if len(text) <= PDF_TEXT_MAX else text[: PDF_TEXT_MAX - 1] + "…"


def _display_width(text: str) -> int:
    """Spreadsheet columns are measured in Latin characters: a Chinese one is two."""
    # Latin characters are one UTF-8 byte, Chinese three: (bytes + chars) / 2 counts them
    # as 1 and 2 without a Python loop over 80,000 cells.
    return (len(text.encode("utf-8")) + len(text)) // 2


def _fitted_widths(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[float]:
    widths = [_display_width(h) + 2 for h in headers]
    for row in rows:
        for i, value in enumerate(row):
            w = _display_width(value) + 2
            if w > widths[i]:
                widths[i] = min(w, XLSX_WIDTH_MAX)
    return [float(w) for w in widths]


# --- Atom ---------------------------------------------------------------------------------------


def atom_feed(
    title: str,
    feed_url: str,
    page_url: str,
    items: Sequence[tuple[CatalogueEdition, str]],
    updated: datetime,
) -> bytes:
    """An Atom 1.0 feed of editions: ``items`` pairs each edition with its page's URL."""
    ET.register_namespace("", ATOM)

    def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        el = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
        if text is not None:
            el.text = text
        return el

    feed = ET.Element(f"{{{ATOM}}}feed")
    sub(feed, "title", title)
    sub(feed, "id", feed_url)
    sub(feed, "updated", updated.isoformat())
    sub(feed, "link", rel="self", href=feed_url, type="application/atom+xml")
    sub(feed, "link", rel="alternate", href=page_url, type="text/html")
    author = sub(feed, "author")
    sub(author, "name", title)
    for edition, url in items:
        entry = sub(feed, "entry")
        sub(entry, "title", f"{edition.title}（{present.label(edition)}）")
        sub(entry, "id", url)
        sub(entry, "link", rel="alternate", href=url, type="text/html")
        moment = edition.withdrawn_at or edition.published_at or updated
        sub(entry, "updated", moment.isoformat())
        if edition.published_at is not None:
            sub(entry, "published", edition.published_at.isoformat())
        summary = _(
            "供给 %(s)d 条，需求 %(d)d 条。", s=edition.supply_count, d=edition.demand_count
        )
        if edition.status == "withdrawn":
            summary += _("已撤回：%(reason)s", reason=edition.withdraw_reason or "")
        sub(entry, "summary", summary)
    return bytes(ET.tostring(feed, encoding="utf-8", xml_declaration=True))

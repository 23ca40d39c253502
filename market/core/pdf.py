"""A4 PDF documents in Chinese: cover, contents with page numbers, sections, tables.

Built on fpdf2, which embeds (subsets) the CFF-outline OpenType collections that
Debian's fonts-noto-cjk ships (ReportLab cannot), and is fast enough for a
10,000-row catalogue because tables are drawn here line by line rather than with
fpdf2's general ``table()`` (which measures every cell several times: ~50 s for
10,000 rows against ~3 s here).

Usage::

    doc = PdfDocument(title="…", footer="…")
    doc.cover("…", subtitle="…", lines=["…"])
    doc.contents()
    doc.heading("一、供给", level=0)
    doc.paragraph("…")
    doc.table(headers, rows, widths)
    data = doc.output()
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from itertools import accumulate
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.outline import OutlineSection

FAMILY = "cjk"
# (regular, bold) font files with the collection index of the Simplified Chinese face
# (None: look it up by name). fonts-noto-cjk is installed by scripts/ensure-system-packages.sh.
FONT_CANDIDATES: tuple[tuple[str, str], ...] = (
    (
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    ),
    (
        "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
        "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    ),
)
MARGIN = 15.0
LINE = 4.6  # mm per table text line at 8.5 pt
CELL_PAD = 1.2


def _break_anywhere(text: str, widths: list[float], width: float) -> Iterator[str]:
    """``text`` in pieces no wider than ``width`` (at least one character each)."""
    edges = list(accumulate(widths))
    start, offset = 0, 0.0
    while start < len(text):
        end = max(bisect_right(edges, offset + width, lo=start), start + 1)
        yield text[start:end]
        offset = edges[end - 1]
        start = end


class FontMissing(RuntimeError):
    """No Chinese font is installed; the message says which package to install."""


@dataclass(frozen=True)
class FontFiles:
    regular: str
    bold: str
    index: int


def _sc_index(path: str) -> int:
    """The collection index of the Simplified Chinese face (SC), 0 for a single font."""
    if not path.endswith((".ttc", ".otc")):
        return 0
    from fontTools.ttLib import TTCollection

    collection = TTCollection(path, lazy=True)
    try:
        for i, font in enumerate(collection.fonts):
            family = str(font["name"].getDebugName(1) or "")
            if family.endswith(" SC") and "Mono" not in family:
                return i
    finally:
        collection.close()
    return 0


@cache
def font_files(override: str | None = None) -> FontFiles:
    """The Chinese font to embed: ``override`` (a .ttf/.otf/.ttc path) or the first
    installed candidate. Raises FontMissing when there is none."""
    if override:
        if not Path(override).is_file():
            raise FontMissing(f"PDF font {override} does not exist")
        return FontFiles(override, override, _sc_index(override))
    for regular, bold in FONT_CANDIDATES:
        if Path(regular).is_file():
            bold = bold if Path(bold).is_file() else regular
            return FontFiles(regular, bold, _sc_index(regular))
    raise FontMissing(
        "no Chinese font for PDF exports: install fonts-noto-cjk "
        "(scripts/ensure-system-packages.sh) or set PDF_FONT"
    )


class _Pdf(FPDF):
    """FPDF with a page footer: the document's footer text and 第 n 页 / 共 m 页."""

    footer_text = ""
    # "{page}" is this page's number; "{nb}" is fpdf2's alias for the page count.
    page_format = "{page} / {nb}"
    numbered_from = 2  # the cover has no number

    def footer(self) -> None:
        if self.page_no() < self.numbered_from:
            return
        self.set_y(-12)
        self.set_font(FAMILY, "", 8)
        self.set_text_color(110)
        self.cell(0, 5, self.footer_text, align="L")
        self.set_x(self.l_margin)
        self.cell(0, 5, self.page_format.replace("{page}", str(self.page_no())), align="R")
        self.set_text_color(0)


class PdfDocument:
    """One A4 portrait document with Chinese fonts embedded."""

    def __init__(
        self,
        title: str,
        footer: str = "",
        page_format: str = "第 {page} 页 / 共 {nb} 页",
        font: str | None = None,
    ) -> None:
        files = font_files(font)
        pdf = _Pdf(orientation="portrait", unit="mm", format="A4")
        pdf.set_margins(MARGIN, MARGIN, MARGIN)
        pdf.set_auto_page_break(True, margin=18)
        pdf.add_font(FAMILY, "", files.regular, collection_font_number=files.index)
        pdf.add_font(FAMILY, "B", files.bold, collection_font_number=files.index)
        pdf.set_title(title)
        pdf.set_lang("zh-CN")
        pdf.set_creator("园区供需对接平台")
        pdf.footer_text = footer
        pdf.page_format = page_format
        self.pdf = pdf
        self._widths: dict[tuple[str, float], dict[str, float]] = {}

    # --- text measurement ----------------------------------------------------------------

    def _width_table(self) -> dict[str, float]:
        """Character widths (mm) in the current font and size, filled as characters come."""
        return self._widths.setdefault((self.pdf.font_style, self.pdf.font_size_pt), {})

    def wrap(self, text: str, width: float) -> list[str]:
        """``text`` broken into lines no wider than ``width`` (mm) in the current font.

        Chinese breaks between any two characters; a Latin word is kept whole when it
        fits on a line of its own.
        """
        table = self._width_table()
        lines: list[str] = []
        for paragraph in (text or "").split("\n"):
            for ch in set(paragraph).difference(table):
                table[ch] = self.pdf.get_string_width(ch)
            # map/accumulate/bisect run in C: 10,000 rows have ~60,000 cells to wrap.
            widths = list(map(table.__getitem__, paragraph))
            if sum(widths) <= width:  # most cells: one line
                lines.append(paragraph)
                continue
            if " " not in paragraph:  # Chinese: break anywhere
                lines.extend(_break_anywhere(paragraph, widths, width))
                continue
            line: list[str] = []
            used = 0.0
            last_space = -1
            for ch, w in zip(paragraph, widths, strict=True):
                if used + w > width and line:
                    if ch != " " and 0 < last_space < len(line) - 1 and ch.isascii():
                        # Move the partial Latin word to the next line.
                        tail = line[last_space + 1 :]
                        lines.append("".join(line[:last_space]))
                        line = tail
                        used = sum(table[c] for c in line)
                    else:
                        lines.append("".join(line))
                        line, used = [], 0.0
                    last_space = -1
                    if ch == " " and not line:
                        continue
                if ch == " ":
                    last_space = len(line)
                elif not ch.isascii():
                    last_space = -1
                line.append(ch)
                used += w
            lines.append("".join(line))
        return lines

    # --- building blocks -------------------------------------------------------------------

    def cover(self, title: str, subtitle: str = "", lines: Iterable[str] = ()) -> None:
        """A cover page: big title, subtitle and a few lines (publisher, date)."""
        pdf = self.pdf
        pdf.add_page()
        pdf.set_y(80)
        pdf.set_font(FAMILY, "B", 24)
        pdf.multi_cell(0, 12, title, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        if subtitle:
            pdf.ln(6)
            pdf.set_font(FAMILY, "", 16)
            pdf.multi_cell(0, 9, subtitle, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_y(200)
        pdf.set_font(FAMILY, "", 12)
        for line in lines:
            pdf.multi_cell(0, 8, line, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def contents(self, heading: str = "目录", pages: int = 1) -> None:
        """Reserve ``pages`` pages for the table of contents, filled in at the end with
        every heading and its page number (each line links to its section). What
        follows starts on a new page."""

        def render(pdf: FPDF, outline: list[OutlineSection]) -> None:
            pdf.set_font(FAMILY, "B", 16)
            pdf.cell(0, 12, heading, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            pdf.ln(2)
            for section in outline:
                indent = 8 * section.level
                pdf.set_font(FAMILY, "B" if section.level == 0 else "", 11 - section.level)
                link = pdf.add_link(page=section.page_number)
                pdf.set_x(pdf.l_margin + indent)
                number = str(section.page_number)
                width = pdf.epw - indent - 20
                pdf.cell(width, 7, section.name, link=link)
                pdf.cell(20, 7, number, align="R", link=link, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

        self.pdf.add_page()
        self.pdf.insert_toc_placeholder(render, pages=pages, allow_extra_pages=True)

    def new_page(self) -> None:
        self.pdf.add_page()

    def heading(self, text: str, level: int = 0) -> None:
        """A section heading, listed in the contents and the PDF outline."""
        pdf = self.pdf
        size = (16, 13, 11)[min(level, 2)]
        if pdf.get_y() + 30 > pdf.h - pdf.b_margin:
            pdf.add_page()
        pdf.start_section(text, level=level, strict=False)
        pdf.set_font(FAMILY, "B", size)
        pdf.ln(2 if level else 0)
        pdf.multi_cell(0, size * 0.55, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(1.5)

    def paragraph(self, text: str, size: float = 10.5) -> None:
        pdf = self.pdf
        pdf.set_font(FAMILY, "", size)
        pdf.multi_cell(0, size * 0.6, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(2)

    def table(
        self,
        headers: Sequence[str],
        rows: Iterable[Sequence[str]],
        widths: Sequence[float],
        size: float = 8.5,
    ) -> None:
        """A ruled table across the page width; ``widths`` are relative. Cells wrap, a row
        never splits across pages, and the header row repeats on every page."""
        pdf = self.pdf
        scale = pdf.epw / float(sum(widths))
        cols = [w * scale for w in widths]
        line = LINE * size / 8.5
        bottom = pdf.h - pdf.b_margin

        def draw(cells: Sequence[str], bold: bool) -> None:
            pdf.set_font(FAMILY, "B" if bold else "", size)
            wrapped = [self.wrap(c, w - 2 * CELL_PAD) for c, w in zip(cells, cols, strict=True)]
            height = max(len(lines) for lines in wrapped) * line + 2 * CELL_PAD
            y = pdf.get_y()
            if y + height > bottom and not bold:
                pdf.add_page()
                draw(headers, True)
                pdf.set_font(FAMILY, "", size)
                y = pdf.get_y()
            if bold:
                pdf.rect(pdf.l_margin, y, pdf.epw, height, style="F")
            # Rules between rows only (no cell boxes): as readable in print, and a
            # tenth of the drawing operations of a full grid.
            pdf.line(pdf.l_margin, y + height, pdf.l_margin + pdf.epw, y + height)
            x = pdf.l_margin
            for lines, width in zip(wrapped, cols, strict=True):
                for i, text in enumerate(lines):
                    if text:
                        pdf.text(x + CELL_PAD, y + CELL_PAD + line * (i + 1) - line * 0.28, text)
                x += width
            pdf.set_y(y + height)

        pdf.set_draw_color(170)
        pdf.set_fill_color(235, 240, 248)
        pdf.set_line_width(0.15)
        if pdf.get_y() + 20 > bottom:
            pdf.add_page()
        draw(headers, True)
        for row in rows:
            draw(row, False)
        pdf.ln(4)

    def output(self) -> bytes:
        return bytes(self.pdf.output())

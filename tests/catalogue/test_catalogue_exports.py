"""A published edition's files: XLSX, CSV, PDF, the JSON data set and the Atom feed."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
import zipfile
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from flask import Flask
from fontTools.ttLib import TTCollection, TTFont
from openpyxl import load_workbook

from market import create_app
from market.catalogue import exports as catalogue_exports
from market.core.extensions import db
from market.core.pdf import font_files
from market.models import CatalogueEdition, Need, Offering
from tests.catalogue.factories import make_park_setup, publish_edition
from tests.conftest import make_offering

needs_poppler = pytest.mark.skipif(
    shutil.which("pdftotext") is None, reason="poppler-utils (pdftotext) is not installed"
)
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def edition(app: Flask) -> CatalogueEdition:
    setup = make_park_setup()
    make_offering(
        org=setup.provider,
        title='=HYPERLINK("http://evil.example","点我")',
        summary="@SUM(A1:A2)",
        regions=["江苏省"],
    )
    db.session.commit()
    return publish_edition(setup.park, title="苏州工业园区供需目录清单")


def test_files_live_under_the_instance_folder_per_park_and_edition(
    app: Flask, edition: CatalogueEdition
) -> None:
    paths = catalogue_exports.write_all(edition)
    folder = Path(app.config["INSTANCE"]) / "catalogues" / str(edition.park.ref)  # type: ignore[union-attr]
    assert all(str(p).startswith(str(folder / f"{edition.year}-1")) for p in paths)
    assert {p.suffix for p in paths} >= {".xlsx", ".pdf", ".csv", ".zip"}


def test_missing_files_are_written_again_on_demand(app: Flask, edition: CatalogueEdition) -> None:
    path = catalogue_exports.path_for(edition, "csv")
    first = path.read_bytes()
    path.unlink()
    assert catalogue_exports.path_for(edition, "csv").read_bytes() == first


def test_xlsx_has_a_supply_and_a_demand_sheet_with_chinese_headers(
    app: Flask, edition: CatalogueEdition
) -> None:
    wb = load_workbook(catalogue_exports.path_for(edition, "xlsx"))
    assert wb.sheetnames == ["供给", "需求"]
    supply, demand = wb["供给"], wb["需求"]
    headers = [c.value for c in supply[1]]
    assert headers[:5] == ["序号", "编号", "名称", "类别", "提供方"]
    assert [c.value for c in demand[1]][:3] == ["序号", "编号", "需求名称"]
    assert supply.freeze_panes == "A2"
    assert supply.column_dimensions["C"].width > supply.column_dimensions["A"].width
    titles = [row[2] for row in supply.iter_rows(min_row=2, values_only=True)]
    assert "冲压件表面缺陷视觉检测" in titles
    assert supply.max_row == edition.supply_count + 1
    assert demand.max_row == edition.demand_count + 1
    assert {row[2] for row in demand.iter_rows(min_row=2, values_only=True)} == {
        "冲压件表面划痕检测",
        "车间5G专网覆盖",
    }


def test_formula_like_cells_are_neutralised_in_xlsx_and_csv(
    app: Flask, edition: CatalogueEdition
) -> None:
    wb = load_workbook(catalogue_exports.path_for(edition, "xlsx"))
    cells = [c for row in wb["供给"].iter_rows(min_row=2) for c in row]
    assert not any(c.data_type == "f" for c in cells)
    values = [str(c.value) for c in cells if c.value is not None]
    assert '\'=HYPERLINK("http://evil.example","点我")' in values
    assert "'@SUM(A1:A2)" in values
    text = catalogue_exports.path_for(edition, "csv").read_bytes().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    flat = [cell for row in rows for cell in row]
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in flat)
    assert '\'=HYPERLINK("http://evil.example","点我")' in flat


def test_csv_is_utf8_with_a_byte_order_mark(app: Flask, edition: CatalogueEdition) -> None:
    data = catalogue_exports.path_for(edition, "csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][:4] == ["类型", "序号", "编号", "名称"]
    assert len(rows) == 1 + edition.supply_count + edition.demand_count
    assert {row[0] for row in rows[1:]} == {"供给", "需求"}


def test_json_data_set_imports_into_an_empty_instance(
    app: Flask, edition: CatalogueEdition, tmp_path: Path, app_config: dict[str, Any]
) -> None:
    archive = catalogue_exports.path_for(edition, "zip")
    target = tmp_path / "dataset"
    with zipfile.ZipFile(archive) as zf:
        assert sorted(zf.namelist()) == [
            "needs.json",
            "offerings.json",
            "organizations.json",
            "parks.json",
        ]
        zf.extractall(target)
    expected_offerings = {e.listing_ref for e in edition.entries if e.side == "supply"}
    expected_needs = {e.listing_ref for e in edition.entries if e.side == "demand"}
    db.session.remove()
    # Another instance with a database of its own (SQLite in its instance folder).
    elsewhere = {k: v for k, v in app_config.items() if k != "DATABASE_URL"}
    other = create_app({**elsewhere, "INSTANCE": str(tmp_path / "elsewhere")})
    with other.app_context():
        db.create_all()
        result = other.test_cli_runner().invoke(args=["import", str(target)])
        assert result.exit_code == 0, result.output
        assert {o.ref for o in db.session.query(Offering)} == expected_offerings
        assert {n.ref for n in db.session.query(Need)} == expected_needs
        db.session.remove()
        db.engine.dispose()


def test_atom_feed_lists_the_parks_editions(app: Flask, edition: CatalogueEdition) -> None:
    client = app.test_client()
    response = client.get(f"/catalogue/parks/{edition.park.ref}/feed.atom")  # type: ignore[union-attr]
    assert response.status_code == 200
    assert response.mimetype == "application/atom+xml"
    feed = ET.fromstring(response.data)  # noqa: S314 (our own feed)
    assert feed.tag == f"{ATOM}feed"
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == 1
    assert f"{edition.year} 年第 1 期" in entries[0].findtext(f"{ATOM}title", "")
    link = entries[0].find(f"{ATOM}link")
    assert link is not None and link.get("href", "").endswith(f"/catalogue/{edition.ref}")


def _embedded_font_covers(text: str) -> list[str]:
    files = font_files()
    if files.regular.endswith((".ttc", ".otc")):
        font = TTCollection(files.regular, lazy=True).fonts[files.index]
    else:
        font = TTFont(files.regular, lazy=True)
    cmap = font.getBestCmap()
    return [ch for ch in text if not ch.isspace() and ord(ch) not in cmap]


@needs_poppler
def test_pdf_shows_the_chinese_titles_page_numbers_and_embeds_its_fonts(
    app: Flask, edition: CatalogueEdition, tmp_path: Path
) -> None:
    pdf = catalogue_exports.path_for(edition, "pdf")
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, check=True, text=True
    ).stdout
    titles = [e.title for e in edition.entries]
    for title in titles:
        assert title[:10] in text, title
    assert "第2页/共" in text.replace(" ", "")
    assert "目录" in text and "一、供给目录" in text and "二、需求目录" in text
    fonts = subprocess.run(
        ["pdffonts", str(pdf)], capture_output=True, check=True, text=True
    ).stdout.splitlines()[2:]
    assert fonts, "the PDF names no font"
    assert all(line.split()[-5] == "yes" for line in fonts), fonts  # the "emb" column
    assert _embedded_font_covers("".join(titles) + edition.title) == []
    subprocess.run(
        ["pdftoppm", "-r", "40", "-f", "1", "-l", "3", "-png", str(pdf), str(tmp_path / "page")],
        check=True,
    )
    pages = sorted(tmp_path.glob("page*.png"))
    assert len(pages) == 3 and all(p.stat().st_size > 1000 for p in pages)

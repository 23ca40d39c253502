"""``market catalogue publish --park REF [--title T]``."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from flask.testing import FlaskCliRunner

from market.catalogue import service
from market.core.extensions import db
from market.models import CatalogueEdition
from tests.catalogue.factories import make_edition, make_park_setup


def test_publish_prints_the_edition_number_and_its_export_paths(
    app: Flask, runner: FlaskCliRunner
) -> None:
    setup = make_park_setup()
    db.session.commit()
    result = runner.invoke(args=["catalogue", "publish", "--park", setup.park.ref])
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    edition = db.session.query(CatalogueEdition).one()
    assert lines[0] == f"{edition.ref} {edition.year} 年第 1 期 {setup.park.name}供需目录清单"
    paths = [Path(line) for line in lines[1:]]
    assert {p.suffix for p in paths} >= {".xlsx", ".pdf", ".csv", ".zip"}
    assert all(p.exists() for p in paths)
    assert any(p.is_dir() and (p / "offerings.json").is_file() for p in paths)
    again = runner.invoke(
        args=["catalogue", "publish", "--park", setup.park.ref, "--title", "四季度目录"]
    )
    assert again.exit_code == 0, again.output
    assert again.stdout.splitlines()[0].endswith("年第 2 期 四季度目录")


def test_publish_uses_the_parks_draft_with_what_staff_excluded(
    app: Flask, runner: FlaskCliRunner
) -> None:
    setup = make_park_setup()
    draft = make_edition(setup.park)
    service.set_included(draft, f"D:{setup.needs[0].id}", False)
    db.session.commit()
    result = runner.invoke(args=["catalogue", "publish", "--park", setup.park.ref])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert draft.status == "published"
    assert [e.title for e in draft.entries if e.side == "demand"] == ["车间5G专网覆盖"]


def test_publish_errors_are_one_line(app: Flask, runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["catalogue", "publish", "--park", "P-NONE"])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == ["error: 园区不存在。"]
    setup = make_park_setup()
    db.session.commit()
    long_title = "长" * 201
    result = runner.invoke(
        args=["catalogue", "publish", "--park", setup.park.ref, "--title", long_title]
    )
    assert result.exit_code == 1
    assert result.stderr.strip() == "error: 标题不能超过 200 个字。"
    assert db.session.query(CatalogueEdition).filter_by(status="published").count() == 0

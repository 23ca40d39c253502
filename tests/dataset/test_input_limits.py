"""One set of limits for every way a listing gets in: web forms, bulk upload, ``market import``.

Issue #18, defects 3 and 4: numbers past the database's integer columns gave 500s (or,
on SQLite, were stored and then broke the export's re-import); a deeply nested JSON
gave a RecursionError traceback; a NUL in a title was stored on SQLite and crashed
PostgreSQL mid-write; ``capacity: 0`` was imported though the form requires 1 or more.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from market.core.extensions import db
from market.dataset import records, schema
from market.dataset.service import DatasetError, import_dataset
from market.models import Need, Offering
from tests.conftest import Auth, make_org, make_park, make_user
from tests.dataset.test_dataset_import_export import minimal_dataset, snapshot, write_dataset

BIG = (2**31, 2**63, 2**70)


def _offering_form(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "kind": "solution",
        "category": "platform.equipment_cloud",
        "title": "注塑机设备上云",
        "description": "设备联网与数据采集。",
        "save": "保存草稿",
    }
    data.update(overrides)
    return data


def _count(model: Any) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(model.id))) or 0


@pytest.fixture
def provider_of(auth: Auth) -> Any:
    def sign_in(kind: str) -> None:
        auth.login(make_user(org=make_org(kind=kind)))

    return sign_in


# --- defect 3: large numbers in web forms --------------------------------------------------


@pytest.mark.parametrize("value", BIG)
@pytest.mark.parametrize(
    ("kind", "org_kind", "category", "key"),
    [
        ("solution", "solution_provider", "platform.equipment_cloud", "price_max"),
        ("finance", "financial_institution", "finance.loan", "amount_max"),
        ("training", "training_body", "talent.lecture", "capacity"),
    ],
)
def test_an_offering_form_refuses_a_number_past_the_integer_column(
    client: FlaskClient,
    provider_of: Any,
    kind: str,
    org_kind: str,
    category: str,
    key: str,
    value: int,
) -> None:
    provider_of(org_kind)
    form = _offering_form(kind=kind, category=category, **{key: str(value)})
    response = client.post("/offerings/new", data=form)
    assert response.status_code == 200
    assert "不能超过 2147483647" in response.get_data(as_text=True)
    assert _count(Offering) == 0


@pytest.mark.parametrize("value", BIG)
def test_a_need_form_refuses_a_budget_past_the_integer_column(
    client: FlaskClient, auth: Auth, value: int
) -> None:
    enterprise = make_org(kind="enterprise", park=make_park(ref="P-SIP"))
    auth.login(make_user(org=enterprise))
    form = {
        "category": "application.quality",
        "title": "冲压件表面缺陷检测",
        "budget_max": str(value),
        "save": "保存草稿",
    }
    response = client.post("/needs/new", data=form)
    assert response.status_code == 200
    assert "不能超过 2147483647" in response.get_data(as_text=True)
    assert _count(Need) == 0


def test_the_limit_is_said_in_english_to_an_english_reader(
    client: FlaskClient, provider_of: Any
) -> None:
    provider_of("solution_provider")
    client.post("/language", data={"lang": "en"})
    response = client.post("/offerings/new", data=_offering_form(price_max=str(2**63)))
    assert response.status_code == 200
    assert "at most 2147483647" in response.get_data(as_text=True)


def test_a_form_refuses_what_the_importer_refuses(client: FlaskClient, provider_of: Any) -> None:
    """Control characters and a zero capacity: the form and the import agree."""
    provider_of("training_body")
    for overrides, message in (
        ({"title": "注塑\x1b[31m机"}, "控制字符"),
        ({"capacity": "0"}, "不能小于 1"),
        ({"starts_on": "9999-12-31"}, "2099-12-31"),
    ):
        form = _offering_form(kind="training", category="talent.lecture", **overrides)
        response = client.post("/offerings/new", data=form)
        assert response.status_code == 200, overrides
        assert message in response.get_data(as_text=True), overrides
    assert _count(Offering) == 0


# --- defect 4: `market import` edge cases ----------------------------------------------------


def _refused(tmp_path: Path, data: dict[str, Any]) -> str:
    """Import ``data`` into a database holding the minimal data set; the first error,
    after checking that nothing changed."""
    import_dataset(write_dataset(tmp_path / "good", minimal_dataset()))
    before = snapshot()
    with pytest.raises(DatasetError) as caught:
        import_dataset(write_dataset(tmp_path / "bad", data))
    assert snapshot() == before
    return str(caught.value.errors[0])


def test_import_refuses_a_nul_in_a_title_before_writing(app: Flask, tmp_path: Path) -> None:
    data = minimal_dataset()
    data["offerings"][0]["price_max"] = 310000  # would be written, if anything were
    data["needs"][1]["title"] = "设备\x00融资"
    first = _refused(tmp_path, data)
    assert first.startswith("needs.json D-2 title:") and "控制字符" in first


def test_import_refuses_a_lone_surrogate(app: Flask, tmp_path: Path) -> None:
    directory = write_dataset(tmp_path / "bad", minimal_dataset())
    text = (directory / "offerings.json").read_text("utf-8")
    (directory / "offerings.json").write_text(text.replace("设备联网", "\\ud800"), "utf-8")
    with pytest.raises(DatasetError) as caught:
        import_dataset(directory)
    assert str(caught.value.errors[0]).startswith("offerings.json S-1 summary:")


def test_import_refuses_capacity_zero_like_the_form(app: Flask, tmp_path: Path) -> None:
    data = minimal_dataset()
    data["offerings"][2]["capacity"] = 0
    assert _refused(tmp_path, data).startswith("offerings.json S-3 capacity:")


@pytest.mark.parametrize("value", BIG)
def test_import_refuses_integers_past_the_column(app: Flask, tmp_path: Path, value: int) -> None:
    data = minimal_dataset()
    data["needs"][0]["budget_max"] = value
    assert "2147483647" in _refused(tmp_path, data)


def test_import_refuses_dates_outside_the_range(app: Flask, tmp_path: Path) -> None:
    data = minimal_dataset()
    data["needs"][0]["deadline"] = "0001-01-01"
    data["offerings"][2]["starts_on"] = "9999-12-31"
    with pytest.raises(DatasetError) as caught:
        import_dataset(write_dataset(tmp_path / "bad", data))
    shown = [str(e) for e in caught.value.errors]
    assert any(e.startswith("offerings.json S-3 starts_on:") for e in shown), shown
    assert any(e.startswith("needs.json D-1 deadline:") for e in shown), shown


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("depth", [50, 100_000])
def test_cli_import_of_deeply_nested_json_is_one_line(
    app: Flask, runner: Any, tmp_path: Path, depth: int
) -> None:
    directory = write_dataset(tmp_path / "bad", minimal_dataset())
    (directory / "needs.json").write_text(_nested(depth), "utf-8")
    result = runner.invoke(args=["import", str(directory)])
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: needs.json") and "嵌套" in lines[0]


def test_cli_errors_never_print_control_characters(app: Flask, runner: Any, tmp_path: Path) -> None:
    data = minimal_dataset()
    data["offerings"][0]["status"] = "pub\x1b[2Jlished\nsecond line"
    data["needs"][0]["bogus\nkey"] = 1
    result = runner.invoke(args=["import", str(write_dataset(tmp_path / "bad", data))])
    assert result.exit_code == 1
    assert len(result.stderr.strip().splitlines()) == 1
    assert "\x1b" not in result.stderr
    assert "S-1 status: 无效的取值 pub\\x1b[2Jlished\\nsecond line" in result.stderr


def test_bulk_upload_uses_the_same_limits(client: FlaskClient, provider_of: Any) -> None:
    provider_of("training_body")
    header = "标题*,分类代码*,详细描述*,培训：名额,最高价格（元）\r\n"
    row = f"PLC 培训,talent.lecture,西门子,0,{2**63}\r\n"
    data = (header + row).encode("utf-8-sig")
    from io import BytesIO

    response = client.post(
        "/offerings/upload", data={"file": (BytesIO(data), "o.csv"), "upload": "上传并导入"}
    )
    page = response.get_data(as_text=True)
    assert "不能小于 1" in page and "不能超过 2147483647" in page
    assert _count(Offering) == 0


def test_the_schema_states_every_integer_range_within_the_column() -> None:
    for file in ("offerings", "needs"):
        for spec in schema.SCHEMAS[file]:
            if spec.shape == "integer":
                check = spec.check
                assert isinstance(check, records.Integer), spec.key
                assert 0 <= check.low <= check.high <= 2**31 - 1, spec.key

"""`market import` / `market export`: the data-set contract of data-format.md."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from market import create_app
from market.core.credit_code import check_digit
from market.core.extensions import db
from market.dataset.export import export_dataset
from market.dataset.service import DatasetError, import_dataset
from market.models import Need, Offering, Organization, Park, User
from tests.conftest import make_offering

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "seed_data" / "demo"
FILES = ("parks", "organizations", "offerings", "needs", "users")


def credit_code(body: str) -> str:
    """A valid 统一社会信用代码 from its first 17 characters."""
    return body + check_digit(body)


def minimal_dataset() -> dict[str, list[dict[str, Any]]]:
    """A small data set that uses every kind of record and every optional key type."""
    return {
        "parks": [
            {
                "ref": "P-B",
                "name": "上海临港产业区",
                "province": "上海市",
                "city": "上海市",
                "level": "provincial",
                "zone_type": "industrial",
                "industries": ["C35"],
            },
            {
                "ref": "P-A",
                "name": "苏州工业园区",
                "province": "江苏省",
                "city": "苏州市",
                "level": "national",
                "zone_type": "economic_development",
                "industries": ["C39", "C"],
                "description": "中新合作园区",
            },
        ],
        "organizations": [
            {
                "ref": "O-1",
                "name": "智造科技有限公司",
                "kind": "solution_provider",
                "credit_code": credit_code("91320594MA1MXXXXX"),
                "province": "江苏省",
                "city": "苏州市",
                "size": "medium",
                "industries": ["C34"],
                "verified": True,
            },
            {
                "ref": "O-2",
                "name": "精密冲压有限公司",
                "kind": "enterprise",
                "park": "P-A",
                "province": "江苏省",
                "size": "small",
            },
            {"ref": "O-3", "name": "科技银行苏州分行", "kind": "financial_institution"},
            {"ref": "O-4", "name": "工业技师学院", "kind": "training_body"},
            {"ref": "O-5", "name": "园区经发局", "kind": "park_operator", "park": "P-A"},
        ],
        "offerings": [
            {
                "ref": "S-1",
                "org": "O-1",
                "kind": "solution",
                "category": "platform.equipment_cloud",
                "title": "注塑机设备上云与OEE分析",
                "summary": "设备联网",
                "description": "采集、看板、分析",
                "tags": ["设备上云", "OEE"],
                "industries": ["C29", "C34"],
                "regions": ["江苏省", "浙江省"],
                "parks": ["P-B", "P-A"],
                "price_min": 50000,
                "price_max": 300000,
                "price_unit": "元/项目",
                "status": "published",
            },
            {
                "ref": "S-2",
                "org": "O-3",
                "kind": "finance",
                "category": "finance.loan",
                "title": "科技贷",
                "description": "信用贷款",
                "regions": ["全国"],
                "amount_min": 1000000,
                "amount_max": 10000000,
                "rate_min": 3.0,
                "rate_max": 4.35,
                "term_months_max": 36,
                "eligible_sizes": ["small", "micro"],
            },
            {
                "ref": "S-3",
                "org": "O-4",
                "kind": "training",
                "category": "talent.lecture",
                "title": "PLC 编程培训",
                "description": "西门子 S7-1200",
                "mode": "offline",
                "starts_on": "2027-03-01",
                "capacity": 40,
                "certificate": "结业证书",
                "status": "draft",
            },
        ],
        "needs": [
            {
                "ref": "D-1",
                "org": "O-2",
                "park": "P-A",
                "kind": "solution",
                "category": "application.quality",
                "title": "冲压件表面缺陷视觉检测",
                "description": "漏检率高",
                "tags": ["机器视觉"],
                "industries": ["C36"],
                "budget_min": 200000,
                "budget_max": 500000,
                "deadline": "2027-03-31",
            },
            {
                "ref": "D-2",
                "org": "O-2",
                "park": "P-A",
                "kind": "finance",
                "category": "finance.leasing",
                "title": "设备融资租赁",
                "amount": 3000000,
                "term_months": 36,
                "status": "draft",
            },
        ],
        "users": [
            {
                "ref": "U-1",
                "email": "wang@example.com",
                "name": "王工",
                "org": "O-2",
                "role": "org_admin",
                "password": "correct-horse-9",
            },
            {
                "ref": "U-2",
                "email": "zhang@example.com",
                "name": "张主任",
                "org": "O-5",
                "role": "park_staff",
            },
        ],
    }


def write_dataset(directory: Path, data: dict[str, Any]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, rows in data.items():
        (directory / f"{name}.json").write_text(json.dumps(rows, ensure_ascii=False), "utf-8")
    return directory


def read_dir(directory: Path) -> dict[str, bytes]:
    return {name: (directory / f"{name}.json").read_bytes() for name in FILES}


def counts() -> dict[str, int]:
    return {
        model.__tablename__: db.session.scalar(select(func.count()).select_from(model)) or 0
        for model in (Park, Organization, Offering, Need, User)
    }


def snapshot() -> dict[str, Any]:
    """Everything the import may change, to prove a failed import changed nothing."""
    db.session.expire_all()
    return {
        "counts": counts(),
        "parks": sorted((p.ref, p.name) for p in db.session.scalars(select(Park))),
        "offerings": sorted(
            (o.ref, o.title, o.price_max, o.status) for o in db.session.scalars(select(Offering))
        ),
    }


@contextmanager
def fresh_instance(app_config: dict[str, Any], tmp_path: Path) -> Iterator[Flask]:
    """A second, empty installation (its own instance folder; on PostgreSQL the same
    database, emptied — the first app's data has been exported by then)."""
    db.session.remove()
    other = create_app({**app_config, "INSTANCE": str(tmp_path / "second-instance")})
    with other.app_context():
        db.drop_all()
        db.create_all()
        yield other
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


# --- round trips --------------------------------------------------------------------


def test_export_import_export_is_byte_identical_across_instances(
    app: Flask, app_config: dict[str, Any], tmp_path: Path
) -> None:
    import_dataset(write_dataset(tmp_path / "in", minimal_dataset()))
    export_dataset(tmp_path / "first")
    with fresh_instance(app_config, tmp_path):
        import_dataset(tmp_path / "first")
        export_dataset(tmp_path / "second")
    assert read_dir(tmp_path / "first") == read_dir(tmp_path / "second")


def test_two_exports_of_the_same_data_are_byte_identical(app: Flask, tmp_path: Path) -> None:
    import_dataset(write_dataset(tmp_path / "in", minimal_dataset()))
    make_offering(title="应用内创建的供给")  # a record created in the app, with a generated ref
    db.session.commit()
    export_dataset(tmp_path / "a")
    export_dataset(tmp_path / "b")
    assert read_dir(tmp_path / "a") == read_dir(tmp_path / "b")


def test_export_is_sorted_ordered_readable_and_without_passwords(
    app: Flask, tmp_path: Path
) -> None:
    import_dataset(write_dataset(tmp_path / "in", minimal_dataset()))
    export_dataset(tmp_path / "out")

    parks_text = (tmp_path / "out" / "parks.json").read_text("utf-8")
    assert parks_text.endswith("]\n") and "苏州工业园区" in parks_text and "\\u" not in parks_text
    parks = json.loads(parks_text)
    assert [p["ref"] for p in parks] == ["P-A", "P-B"]
    assert "description" not in parks[1]  # empty optional keys are left out

    offerings = {
        o["ref"]: o for o in json.loads((tmp_path / "out" / "offerings.json").read_text("utf-8"))
    }
    assert list(offerings["S-1"]) == [
        "ref",
        "org",
        "kind",
        "category",
        "title",
        "summary",
        "description",
        "tags",
        "industries",
        "regions",
        "parks",
        "price_min",
        "price_max",
        "price_unit",
        "status",
    ]
    assert offerings["S-1"]["parks"] == ["P-A", "P-B"]
    assert offerings["S-2"]["rate_min"] == 3.0 and isinstance(offerings["S-2"]["rate_min"], float)
    assert offerings["S-2"]["status"] == "published"  # the import default
    assert offerings["S-3"]["starts_on"] == "2027-03-01"

    users_text = (tmp_path / "out" / "users.json").read_text("utf-8")
    assert "password" not in users_text and "correct-horse" not in users_text


def test_rejected_listing_exports_as_draft_and_stays_rejected_on_reimport(
    app: Flask, tmp_path: Path
) -> None:
    import_dataset(write_dataset(tmp_path / "in", minimal_dataset()))
    offering = db.session.scalar(select(Offering).where(Offering.ref == "S-3"))
    offering.status, offering.reject_reason = "rejected", "价格缺失"
    db.session.commit()

    export_dataset(tmp_path / "out")
    exported = json.loads((tmp_path / "out" / "offerings.json").read_text("utf-8"))
    assert next(o for o in exported if o["ref"] == "S-3")["status"] == "draft"

    import_dataset(tmp_path / "out")
    db.session.expire_all()
    assert (offering.status, offering.reject_reason) == ("rejected", "价格缺失")


# --- re-import ----------------------------------------------------------------------


def test_reimport_updates_records_in_place_without_duplicates(app: Flask, tmp_path: Path) -> None:
    data = minimal_dataset()
    import_dataset(write_dataset(tmp_path / "v1", data))
    first = db.session.scalar(select(Offering).where(Offering.ref == "S-1"))
    first_id, first_published = first.id, first.published_at
    before = counts()

    data["offerings"][0]["title"] = "注塑机设备上云（第二版）"
    del data["offerings"][0]["summary"]  # a key left out is emptied, not kept
    data["parks"][1]["name"] = "苏州工业园区（更新）"
    import_dataset(write_dataset(tmp_path / "v2", data))

    db.session.expire_all()
    assert counts() == before
    again = db.session.scalar(select(Offering).where(Offering.ref == "S-1"))
    assert again.id == first_id
    assert again.title == "注塑机设备上云（第二版）"
    assert again.summary == ""
    assert again.published_at == first_published  # still published: not re-published
    assert db.session.scalar(select(Park.name).where(Park.ref == "P-A")) == "苏州工业园区（更新）"


def test_import_applies_status_defaults_and_publication_dates(app: Flask, tmp_path: Path) -> None:
    import_dataset(write_dataset(tmp_path / "in", minimal_dataset()))
    loan = db.session.scalar(select(Offering).where(Offering.ref == "S-2"))
    course = db.session.scalar(select(Offering).where(Offering.ref == "S-3"))
    need = db.session.scalar(select(Need).where(Need.ref == "D-1"))
    assert loan.status == "published" and loan.is_public
    validity = app.config["LISTING_VALIDITY_DAYS"]
    assert (loan.expires_at - loan.published_at).days == validity
    assert course.status == "draft" and course.published_at is None
    assert need.status == "open" and need.published_at is not None
    assert [
        p.ref for p in db.session.scalar(select(Offering).where(Offering.ref == "S-1")).parks
    ] == [
        "P-A",
        "P-B",
    ]


def test_imported_users_get_hashed_passwords_or_none(app: Flask, tmp_path: Path) -> None:
    import_dataset(write_dataset(tmp_path / "in", minimal_dataset()))
    wang = db.session.scalar(select(User).where(User.ref == "U-1"))
    zhang = db.session.scalar(select(User).where(User.ref == "U-2"))
    assert wang.password_hash != "correct-horse-9" and wang.check_password("correct-horse-9")
    assert wang.role == "org_admin" and wang.org.ref == "O-2"
    assert zhang.password_hash is None and not zhang.check_password("")
    assert zhang.role == "park_staff"


def test_users_file_is_optional(app: Flask, tmp_path: Path) -> None:
    data = minimal_dataset()
    del data["users"]
    summary = import_dataset(write_dataset(tmp_path / "in", data))
    assert summary.counts["users"] == 0 and summary.counts["offerings"] == 3


def test_progress_reports_every_record(app: Flask, tmp_path: Path) -> None:
    seen: list[tuple[int, int]] = []
    import_dataset(
        write_dataset(tmp_path / "in", minimal_dataset()), progress=lambda d, t: seen.append((d, t))
    )
    assert seen[-1] == (14, 14) and len(seen) == 14


# --- malformed data sets: named precisely, nothing changed ------------------------------

Mutation = Callable[[dict[str, Any]], None]


def _set(file: str, index: int, key: str, value: Any) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        data[file][index][key] = value

    return mutate


def _duplicate_offering(data: dict[str, Any]) -> None:
    twin = copy.deepcopy(data["offerings"][0])
    twin["title"] = "重复编号"
    data["offerings"].append(twin)


MALFORMED: dict[str, tuple[Mutation, tuple[str, ...]]] = {
    "unknown key": (_set("offerings", 0, "price_maxx", 1), ("offerings.json", "S-1", "price_maxx")),
    "dangling org": (
        _set("offerings", 1, "org", "O-404"),
        ("offerings.json", "S-2", "org", "O-404"),
    ),
    "dangling park in list": (
        _set("offerings", 0, "parks", ["P-A", "P-404"]),
        ("offerings.json", "S-1", "parks", "P-404"),
    ),
    "bad credit code": (
        _set("organizations", 0, "credit_code", "91320594MA1MXXXXX0"),
        ("organizations.json", "O-1", "credit_code", "校验位"),
    ),
    "price_min above price_max": (
        _set("offerings", 0, "price_min", 400000),
        ("offerings.json", "S-1", "price_min", "最低价格不能高于最高价格"),
    ),
    "kind disagrees with category": (
        _set("offerings", 1, "category", "platform.iiot"),
        ("offerings.json", "S-2", "kind"),
    ),
    "bad province": (
        _set("parks", 0, "province", "江苏"),
        ("parks.json", "P-B", "province", "江苏"),
    ),
    "nationwide is not a park province": (
        _set("parks", 0, "province", "全国"),
        ("parks.json", "P-B", "province"),
    ),
    "bad industry code": (
        _set("needs", 0, "industries", ["C36", "C99"]),
        ("needs.json", "D-1", "industries", "C99"),
    ),
    "duplicate ref": (_duplicate_offering, ("offerings.json", "S-1", "ref", "重复")),
    "finance key on a solution": (
        _set("offerings", 0, "rate_max", 5),
        ("offerings.json", "S-1", "rate_max"),
    ),
    "enterprise without park": (
        lambda d: d["organizations"][1].pop("park"),
        ("organizations.json", "O-2", "park"),
    ),
    "park staff outside a park operator": (
        _set("users", 1, "org", "O-1"),
        ("users.json", "U-2", "role"),
    ),
    "bad date": (_set("needs", 0, "deadline", "2027-02-30"), ("needs.json", "D-1", "deadline")),
    "text where integer": (
        _set("needs", 0, "budget_max", "50万"),
        ("needs.json", "D-1", "budget_max", "整数"),
    ),
    "bad status": (_set("offerings", 0, "status", "rejected"), ("offerings.json", "S-1", "status")),
    "missing title": (lambda d: d["needs"][1].pop("title"), ("needs.json", "D-2", "title", "必填")),
}


@pytest.mark.parametrize("case", list(MALFORMED), ids=list(MALFORMED))
def test_malformed_dataset_is_refused_by_name_and_changes_nothing(
    app: Flask, tmp_path: Path, case: str
) -> None:
    import_dataset(write_dataset(tmp_path / "good", minimal_dataset()))
    before = snapshot()

    data = minimal_dataset()
    data["parks"][1]["name"] = "本应不会写入的名称"
    data["offerings"][0]["price_max"] = 310000
    mutate, expected = MALFORMED[case]
    mutate(data)
    with pytest.raises(DatasetError) as caught:
        import_dataset(write_dataset(tmp_path / "bad", data))

    first = str(caught.value.errors[0])
    for part in expected:
        assert part in first, first
    assert snapshot() == before


def test_invalid_json_names_the_file_and_changes_nothing(app: Flask, tmp_path: Path) -> None:
    directory = write_dataset(tmp_path / "bad", minimal_dataset())
    (directory / "needs.json").write_text('[{"ref": "D-1",}]', "utf-8")
    before = snapshot()
    with pytest.raises(DatasetError) as caught:
        import_dataset(directory)
    assert str(caught.value.errors[0]).startswith("needs.json: JSON")
    assert "第 1 行" in str(caught.value.errors[0])
    assert snapshot() == before


def test_missing_required_file_is_named(app: Flask, tmp_path: Path) -> None:
    directory = write_dataset(tmp_path / "bad", minimal_dataset())
    (directory / "parks.json").unlink()
    with pytest.raises(DatasetError) as caught:
        import_dataset(directory)
    assert str(caught.value.errors[0]).startswith("parks.json:")


def test_every_error_is_collected(app: Flask, tmp_path: Path) -> None:
    data = minimal_dataset()
    data["offerings"][0]["price_min"] = 999999
    data["offerings"][1]["org"] = "O-404"
    data["needs"][0]["bogus"] = True
    with pytest.raises(DatasetError) as caught:
        import_dataset(write_dataset(tmp_path / "bad", data))
    messages = [str(e) for e in caught.value.errors]
    assert len(messages) == 3
    assert counts() == dict.fromkeys(counts(), 0)


def test_credit_code_taken_by_an_app_created_organization_is_refused(
    app: Flask, tmp_path: Path
) -> None:
    data = minimal_dataset()
    taken = data["organizations"][0]["credit_code"]
    db.session.add(Organization(name="已注册机构", kind="solution_provider", credit_code=taken))
    db.session.commit()
    with pytest.raises(DatasetError) as caught:
        import_dataset(write_dataset(tmp_path / "in", data))
    assert "organizations.json O-1 credit_code" in str(caught.value.errors[0])
    assert counts()["parks"] == 0


# --- the command line -------------------------------------------------------------------


def test_cli_import_prints_a_summary(app: Flask, runner: Any, tmp_path: Path) -> None:
    directory = write_dataset(tmp_path / "in", minimal_dataset())
    result = runner.invoke(args=["import", str(directory)])
    assert result.exit_code == 0, result.output
    assert "imported 2 parks, 5 organizations, 3 offerings, 2 needs, 2 users" in result.stdout
    db.session.expire_all()
    assert counts()["offerings"] == 3


def test_cli_import_failure_is_one_line_on_stderr(app: Flask, runner: Any, tmp_path: Path) -> None:
    data = minimal_dataset()
    data["offerings"][0]["price_min"] = 999999
    data["offerings"][1]["org"] = "O-404"
    data["needs"][0]["bogus"] = True
    result = runner.invoke(args=["import", str(write_dataset(tmp_path / "bad", data))])
    assert result.exit_code != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "offerings.json S-1 price_min" in lines[0] and "(and 2 more errors)" in lines[0]
    assert counts()["parks"] == 0


def test_cli_import_of_missing_directory_fails_cleanly(
    app: Flask, runner: Any, tmp_path: Path
) -> None:
    result = runner.invoke(args=["import", str(tmp_path / "nowhere")])
    assert result.exit_code != 0
    assert len(result.stderr.strip().splitlines()) == 1 and "nowhere" in result.stderr


def test_cli_export_writes_every_file(app: Flask, runner: Any, tmp_path: Path) -> None:
    import_dataset(write_dataset(tmp_path / "in", minimal_dataset()))
    result = runner.invoke(args=["export", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "exported 2 parks" in result.stdout
    assert all((tmp_path / "out" / f"{name}.json").exists() for name in FILES)


# --- the demo data set (seed_data/demo) ---------------------------------------------------


def _semantic(directory: Path) -> dict[str, Any]:
    """A data set as values: lists of served parks as sets, no passwords."""
    out: dict[str, Any] = {}
    for name in FILES:
        rows = json.loads((directory / f"{name}.json").read_text("utf-8"))
        for row in rows:
            row.pop("password", None)
            if name == "offerings" and "parks" in row:
                row["parks"] = sorted(row["parks"])
        out[name] = sorted(rows, key=lambda r: r["ref"])
    return out


@pytest.mark.skipif(not (DEMO / "offerings.json").exists(), reason="demo data set not written yet")
def test_demo_dataset_round_trips(app: Flask, app_config: dict[str, Any], tmp_path: Path) -> None:
    import_dataset(DEMO)
    export_dataset(tmp_path / "first")
    assert _semantic(tmp_path / "first") == _semantic(DEMO)
    with fresh_instance(app_config, tmp_path):
        import_dataset(tmp_path / "first")
        export_dataset(tmp_path / "second")
    assert read_dir(tmp_path / "first") == read_dir(tmp_path / "second")

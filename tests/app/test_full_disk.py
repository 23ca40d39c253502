"""A full disk says so (507, in the user's language; JSON under /api/), keeps nothing of
the failed request, and /healthz reports the free space before it runs out."""

from __future__ import annotations

import errno
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, func, select

from market.core.extensions import db
from market.listings import service as listings
from market.models import Need, Park, User
from market.parkops import report as campaign_report
from tests.conftest import Auth, make_org, make_park, make_user

FULL_ZH = "服务器存储空间不足，请稍后再试；您的内容未保存。"
FULL_EN = "The server is out of storage space. Please try again later; nothing you sent was saved."


@pytest.fixture
def park(app: Flask) -> Park:
    park = make_park(ref="P-SIP", province="江苏省")
    db.session.commit()
    return park


@pytest.fixture
def poster(app: Flask, park: Park) -> User:
    user = make_user(org=make_org(kind="enterprise", park=park))
    db.session.commit()
    return user


def _need_form(description: str = "人工目检漏检率高，希望引入视觉检测。") -> dict[str, Any]:
    return {
        "category": "application.quality",
        "title": "冲压件表面划痕检测",
        "description": description,
        "park": "P-SIP",
        "save": "保存草稿",
    }


def _needs() -> int:
    db.session.rollback()  # read what is committed, not this session's leftovers
    return db.session.scalar(select(func.count(Need.id))) or 0


def _fills_the_disk_after(
    monkeypatch: pytest.MonkeyPatch, target: Any, name: str, code: int
) -> None:
    """``target.name`` does its work (rows flushed, files half written), then the disk is full."""
    original = getattr(target, name)

    def full(*args: Any, **kwargs: Any) -> Any:
        original(*args, **kwargs)
        db.session.flush()
        raise OSError(code, "No space left on device")

    monkeypatch.setattr(target, name, full)


def test_a_write_that_hits_a_full_disk_says_so_and_keeps_nothing(
    client: FlaskClient, auth: Auth, poster: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    auth.login(poster)
    _fills_the_disk_after(monkeypatch, listings, "create_need", errno.ENOSPC)
    response = client.post("/needs/new", data=_need_form())
    assert response.status_code == 507
    page = response.get_data(as_text=True)
    assert FULL_ZH in page and "问题编号" in page
    assert _needs() == 0


def test_the_full_disk_page_is_english_for_english_readers(
    client: FlaskClient, auth: Auth, poster: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    auth.login(poster)
    client.set_cookie("lang", "en")
    _fills_the_disk_after(monkeypatch, listings, "create_need", errno.EDQUOT)
    response = client.post("/needs/new", data=_need_form())
    assert response.status_code == 507
    assert FULL_EN in response.get_data(as_text=True)


def test_the_api_answers_a_full_disk_with_json(
    client: FlaskClient, park: Park, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fills_the_disk_after(monkeypatch, campaign_report, "build", errno.ENOSPC)
    response = client.get("/api/v1/parks/P-SIP/report")
    assert response.status_code == 507
    error = response.get_json()["error"]
    assert error["code"] == "insufficient_storage"
    assert error["message"] == FULL_ZH and error["id"]


def test_other_os_errors_stay_internal_errors(
    client: FlaskClient, park: Park, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fills_the_disk_after(monkeypatch, campaign_report, "build", errno.EACCES)
    response = client.get("/api/v1/parks/P-SIP/report")
    assert response.status_code == 500
    assert response.get_json()["error"]["code"] == "internal"


@pytest.fixture
def full_sqlite_database(app: Flask) -> Iterator[None]:
    """SQLite's own SQLITE_FULL: no connection may grow the file past its present size."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("caps the size of the SQLite file")

    def cap(connection: Any, _record: Any, _proxy: Any) -> None:
        pages = connection.execute("PRAGMA page_count").fetchone()[0]
        connection.execute(f"PRAGMA max_page_count = {pages}")

    event.listen(db.engine, "checkout", cap)
    try:
        yield
    finally:
        event.remove(db.engine, "checkout", cap)
        db.engine.dispose()  # the capped connections go with the test


def test_a_database_that_cannot_grow_gives_the_same_answer(
    client: FlaskClient, auth: Auth, poster: User, full_sqlite_database: None
) -> None:
    auth.login(poster)
    response = client.post("/needs/new", data=_need_form("现场描述" * 4000))
    assert response.status_code == 507
    assert FULL_ZH in response.get_data(as_text=True)
    assert _needs() == 0


def test_health_reports_each_check_and_the_free_space(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["database"] == {"ok": True}
    assert body["search"] == {"ok": True}
    assert body["disk"]["ok"] is True
    assert body["disk"]["free_bytes"] > body["disk"]["min_free_bytes"] == 512 * 1024 * 1024
    assert response.headers["Cache-Control"] == "no-store"


def test_health_is_degraded_when_free_space_is_below_the_setting(
    app: Flask, client: FlaskClient
) -> None:
    app.config["HEALTH_MIN_FREE_MB"] = 1024**3  # an exabyte: more than any disk has
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "degraded"
    assert body["disk"]["ok"] is False and body["disk"]["free_bytes"] > 0
    assert body["database"] == {"ok": True}

"""Shared fixtures: an app per test on SQLite (default) or PostgreSQL, factories, sign-in."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, g, has_app_context
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from market import create_app
from market.extensions import db
from market.models import Need, Offering, Organization, Park, User

PG_URL_ENV = "MARKET_TEST_DATABASE_URL"
PASSWORD = "correct-horse-9"


def _worker_database_url() -> str | None:
    """A PostgreSQL database of this xdist worker's own, created fresh for the run."""
    base = os.environ.get(PG_URL_ENV)
    if not base:
        return None
    url = make_url(base)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = f"{url.database}_{worker}_{os.getpid()}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def database_url() -> Iterator[str | None]:
    url = _worker_database_url()
    yield url
    if url:
        name = make_url(url).database
        admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def app_config(tmp_path: Any, database_url: str | None) -> dict[str, Any]:
    """Each test's own mapping: never mutate a shared config."""
    config: dict[str, Any] = {
        "TESTING": True,
        "INSTANCE": str(tmp_path / "instance"),
        "SECRET_KEY": "test-secret",
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "SERVER_NAME": None,
    }
    if database_url:
        config["DATABASE_URL"] = database_url
    return config


class IsolatedClient(FlaskClient):
    """A test client whose every request starts with an empty ``flask.g``, as in production.

    The app fixture keeps an app context open for the factories, and a request reuses
    an open app context; without this, ``g`` (Flask-Login's cached user, Flask-Babel's
    locale) would leak from one request, or one client, into the next.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:
        if has_app_context():
            for key in list(g):
                g.pop(key)
        return super().open(*args, **kwargs)


@pytest.fixture
def app(app_config: dict[str, Any]) -> Iterator[Flask]:
    app = create_app(app_config)
    app.test_client_class = IsolatedClient
    with app.app_context():
        db.drop_all()
        db.create_all()
        yield app
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


_seq = itertools.count(1)


def make_park(**overrides: Any) -> Park:
    n = next(_seq)
    fields: dict[str, Any] = {
        "ref": f"P-T{n}",
        "name": f"测试园区{n}",
        "province": "江苏省",
        "city": "苏州市",
        "level": "national",
        "zone_type": "economic_development",
        "industries": ["C36"],
        "description": "测试用园区",
    }
    fields.update(overrides)
    park = Park(**fields)
    db.session.add(park)
    db.session.flush()
    return park


def make_org(**overrides: Any) -> Organization:
    n = next(_seq)
    kind = overrides.get("kind", "solution_provider")
    fields: dict[str, Any] = {
        "ref": f"O-T{n}",
        "name": f"示例测试机构{n}有限公司",
        "kind": kind,
        "province": "江苏省",
        "city": "苏州市",
        "industries": ["C36"],
        "description": "",
        "verified": True,
    }
    if kind in ("enterprise", "park_operator") and "park" not in overrides:
        fields["park"] = make_park()
    fields.update(overrides)
    org = Organization(**fields)
    db.session.add(org)
    db.session.flush()
    return org


def make_user(**overrides: Any) -> User:
    n = next(_seq)
    password = overrides.pop("password", PASSWORD)
    fields: dict[str, Any] = {"email": f"user{n}@example.com", "name": f"用户{n}", "role": "member"}
    if "org" not in overrides:
        kind = {"park_staff": "park_operator", "admin": "park_operator"}.get(
            overrides.get("role", ""), "solution_provider"
        )
        fields["org"] = make_org(kind=kind)
    fields.update(overrides)
    user = User(**fields)
    if password:
        user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user


def make_offering(**overrides: Any) -> Offering:
    fields: dict[str, Any] = {
        "kind": "solution",
        "category": "application.quality",
        "title": "冲压件表面缺陷视觉检测",
        "summary": "基于深度学习的表面缺陷检测",
        "description": "产线部署工业相机与边缘计算盒，识别划痕、凹坑。",
        "tags": ["机器视觉", "缺陷检测"],
        "industries": ["C36"],
        "regions": ["江苏省"],
        "price_min": 200000,
        "price_max": 350000,
        "price_unit": "元/项目",
        "status": "published",
    }
    if "org" not in overrides:
        fields["org"] = make_org(kind="solution_provider")
    fields.update(overrides)
    offering = Offering(**fields)
    if offering.status == "published" and offering.published_at is None:
        from market.models import utcnow

        offering.published_at = utcnow()
    db.session.add(offering)
    db.session.flush()
    return offering


def make_need(**overrides: Any) -> Need:
    fields: dict[str, Any] = {
        "kind": "solution",
        "category": "application.quality",
        "title": "冲压件表面划痕检测",
        "description": "人工目检漏检率高，希望引入视觉检测。",
        "tags": ["缺陷检测"],
        "industries": ["C36"],
        "budget_min": 200000,
        "budget_max": 500000,
        "status": "open",
    }
    if "org" not in overrides:
        fields["org"] = make_org(kind="enterprise")
    if "park" not in overrides:
        fields["park"] = overrides.get("org", fields.get("org")).park
    fields.update(overrides)
    need = Need(**fields)
    db.session.add(need)
    db.session.flush()
    return need


class Auth:
    """Signs a test client in and out through the real login form."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def login(self, user_or_email: User | str, password: str = PASSWORD) -> Any:
        email = user_or_email if isinstance(user_or_email, str) else user_or_email.email
        db.session.commit()
        return self.client.post("/auth/login", data={"email": email, "password": password})

    def logout(self) -> Any:
        return self.client.post("/auth/logout")


@pytest.fixture
def auth(client: FlaskClient) -> Auth:
    return Auth(client)


def read_outbox(app: Flask) -> list[EmailMessage]:
    """The messages the app has 'sent' to its outbox folder, oldest first."""
    folder = Path(app.config["OUTBOX_DIR"])
    if not folder.exists():
        return []
    return [
        message_from_bytes(path.read_bytes(), policy=policy.default)  # type: ignore[misc]
        for path in sorted(folder.glob("*.eml"))
    ]


def mail_text(message: EmailMessage) -> str:
    """The plain-text body of a message from the outbox."""
    part = message.get_body(preferencelist=("plain",))
    return part.get_content() if part is not None else ""  # type: ignore[union-attr]

"""Shared fixtures: an app per test on SQLite (default) or PostgreSQL, factories, sign-in."""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, g, has_app_context
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from werkzeug.security import generate_password_hash

from market import create_app
from market.core import mail_queue
from market.core.config import instance_path_from
from market.core.db import _write_intent
from market.core.extensions import db
from market.models import Need, Offering, Organization, Park, User, utcnow

PG_URL_ENV = "MARKET_TEST_DATABASE_URL"
PASSWORD = "correct-horse-9"
TESTS = Path(__file__).resolve().parent

# The modules that take longest (about 10 s or more each on 2 cores), longest first, run
# before the others. `make test-*` hands whole modules to whichever of its two workers
# is free (xdist --dist loadscope --no-loadscope-reorder) in collection order; with the
# long modules handed out first the run ends on short ones and both workers finish
# together. A module missing here still runs, in its place in the collection.
RUN_FIRST = (
    "app/test_no_server_errors.py",
    "app/test_authorization_matrix.py",
    "browser/test_accessibility.py",
    "app/test_sqlite_concurrency.py",
    "browser/test_docking.py",
    "browser/test_keyboard.py",
    "browser/test_listing_flows.py",
    "browser/test_catalogue.py",
    "accounts/test_login_limit_gunicorn.py",
    "api/test_api_fuzz.py",
    "dataset/test_dataset_import_export.py",
    "app/test_upload_limits.py",
    "jobs/test_scheduler.py",
    "browser/test_parkops.py",
    "recommendations/test_matching_cli.py",
    "docking/test_docking_pages.py",
    "docking/test_docking_service.py",
    "app/test_csrf_everywhere.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Move the modules of RUN_FIRST to the front, each module's tests kept together and
    in their order (a stable sort), so module-scoped fixtures are still built once."""

    def rank(item: pytest.Item) -> int:
        name = item.path.relative_to(TESTS).as_posix() if TESTS in item.path.parents else ""
        return RUN_FIRST.index(name) if name in RUN_FIRST else len(RUN_FIRST)

    items.sort(key=rank)


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


@pytest.fixture(autouse=True)
def no_write_intent_left_over() -> None:
    """Each test starts as a fresh process would: not marked as writing.

    market.core.db marks a request's thread context as writing (SQLite: BEGIN IMMEDIATE)
    before each POST and never clears the mark; a test client runs requests in the
    test's own thread, so after a test whose last request was a POST the mark stayed on
    for every later test in that worker, whose reads then took SQLite's write lock
    (e.g. test_matching_service after test_no_server_errors: 30 s, then "database is
    locked" when the match worker needs the lock). Which test ran before which depends
    on how xdist hands them out, so this made the run order-dependent.
    """
    _write_intent.set(False)


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


# What a PostgreSQL schema is made of: tables and sequences with their columns, indexes,
# constraints and types. Equal to the fingerprint taken right after create_all means the
# schema is still the one create_all makes (no test dropped, added or altered anything).
PG_SCHEMA_FINGERPRINT = text(
    """
    SELECT md5(coalesce(string_agg(x, E'\\n' ORDER BY x), '')) FROM (
      SELECT format('%s %s.%s %s %s %s', c.relkind, c.relname, a.attname,
                    format_type(a.atttypid, a.atttypmod), a.attnotnull,
                    pg_get_expr(d.adbin, d.adrelid)) AS x
      FROM pg_class c
      JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
      LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
      WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
      UNION ALL SELECT indexdef FROM pg_indexes WHERE schemaname = 'public'
      UNION ALL SELECT format('%s %s %s', conrelid::regclass, conname, pg_get_constraintdef(oid))
      FROM pg_constraint WHERE connamespace = 'public'::regnamespace
      UNION ALL SELECT format('type %s', typname) FROM pg_type
      WHERE typnamespace = 'public'::regnamespace AND typtype IN ('e', 'd', 'c') AND typrelid = 0
    ) objects
    """
)
# Every sequence back to its start, as create_all leaves them (ids count from 1 again).
PG_RESTART_SEQUENCES = """
DO $$ DECLARE s regclass; BEGIN
  FOR s IN SELECT c.oid FROM pg_class c
           WHERE c.relkind = 'S' AND c.relnamespace = 'public'::regnamespace
  LOOP EXECUTE 'ALTER SEQUENCE ' || s::text || ' RESTART'; END LOOP;
END $$;
"""


class EmptyDatabase:
    """Gives each test's app an empty database with the schema, without running DDL per test.

    Creating the schema costs 0.05 s on SQLite and 0.45 s on PostgreSQL, and the suite
    does it for hundreds of tests. SQLite: create_all once per worker into a template
    file, copied into each test's instance folder before the app opens it. PostgreSQL:
    create_all once per worker, then before and after each test delete every row and
    restart the sequences; when a test changed the schema itself (dropped it, ran the
    migrations), the fingerprint shows it and the schema is dropped and made again.
    After a test the tables are there but empty, so tests that build an app of their
    own (and run create_all, or drop_all first) start from an empty database as before.
    """

    def __init__(self, root: Path, database_url: str | None) -> None:
        self.database_url = database_url
        self.template: Path | None = None
        self.fingerprint: str | None = None
        if database_url is None:
            self.template = self._sqlite_template(root)

    @staticmethod
    def _sqlite_template(root: Path) -> Path:
        path = root / "instance" / "market.db"
        app = create_app(
            {
                "TESTING": True,
                "INSTANCE": str(root / "instance"),
                "SECRET_KEY": "test-secret",
                "DATABASE_URL": f"sqlite:///{path}",
            }
        )
        with app.app_context():
            db.create_all()
            db.session.remove()
            db.engine.dispose()  # the last connection to close checkpoints the WAL
        assert not Path(f"{path}-wal").exists(), "the template's WAL was not checkpointed"
        return path

    def _sqlite_file(self, config: dict[str, Any]) -> Path | None:
        if self.template is None or config.get("DATABASE_URL"):
            return None
        return instance_path_from(config) / "market.db"

    def before_app(self, config: dict[str, Any]) -> None:
        """SQLite: put a copy of the template where the test's app will look for it."""
        target = self._sqlite_file(config)
        if target is not None and self.template is not None and not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(self.template, target)

    def prepare(self, app: Flask, config: dict[str, Any]) -> None:
        """In the app's context: its database empty, with the schema."""
        target = self._sqlite_file(config)
        if target is not None and app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{target}":
            return  # the fresh copy of the template
        if db.engine.dialect.name != "postgresql":
            db.drop_all()  # a database set up some other way (MARKET_DATABASE_URL): as before
            db.create_all()
            return
        if self.fingerprint is None or self._fingerprint() != self.fingerprint:
            self._rebuild()
        else:
            self._empty()

    def finish(self, app: Flask) -> None:
        """In the app's context, after the test: PostgreSQL emptied (the next test, or an
        app a test builds itself, must not see this one's rows)."""
        db.session.remove()
        if db.engine.dialect.name != "postgresql":
            return  # the test's own file in its own tmp_path: nobody opens it again
        if self._fingerprint() == self.fingerprint:
            self._empty()
        else:  # the test changed the schema: leave none (the next test makes it again)
            self._drop_schema()

    @staticmethod
    def _fingerprint() -> str:
        with db.engine.connect() as conn:
            return str(conn.execute(PG_SCHEMA_FINGERPRINT).scalar_one())

    @staticmethod
    def _empty() -> None:
        # One round trip; the names are the models' own tables.
        tables = reversed(db.metadata.sorted_tables)
        deletes = "".join(f'DELETE FROM "{table.name}";' for table in tables)  # noqa: S608
        with db.engine.begin() as conn:
            conn.exec_driver_sql(deletes + PG_RESTART_SEQUENCES)

    @staticmethod
    def _drop_schema() -> None:
        with db.engine.begin() as conn:
            conn.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")

    def _rebuild(self) -> None:
        self._drop_schema()
        db.create_all()
        self.fingerprint = self._fingerprint()


@pytest.fixture(scope="session")
def empty_database(
    tmp_path_factory: pytest.TempPathFactory, database_url: str | None
) -> EmptyDatabase:
    return EmptyDatabase(tmp_path_factory.mktemp("schema"), database_url)


@pytest.fixture
def app(app_config: dict[str, Any], empty_database: EmptyDatabase) -> Iterator[Flask]:
    empty_database.before_app(app_config)
    app = create_app(app_config)
    app.test_client_class = IsolatedClient
    with app.app_context():
        empty_database.prepare(app, app_config)
        yield app
        db.session.rollback()  # see read_outbox: nothing may keep the drainer waiting
        mail_queue.wait_idle(app)  # mail queued by the test, sent before the tables go
        empty_database.finish(app)
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


@cache
def password_hash(password: str = PASSWORD) -> str:
    """A cheap hash of ``password``, made once per run: the production scrypt parameters
    cost 0.1–0.5 s to hash and again to check, and the suite creates and signs in
    hundreds of users. The app checks it like any other werkzeug hash; what the app
    hashes itself (sign-up, password change, reset, import) still uses its own method."""
    return generate_password_hash(password, method="pbkdf2:sha256:1000")


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
    if password:
        # What User.set_password stores, without re-hashing the same password each time.
        fields.setdefault("password_hash", password_hash(password))
        fields.setdefault("password_changed_at", utcnow())
    user = User(**fields)
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
    """The messages the app has 'sent' to its outbox folder, oldest first (once the mail
    queued by the requests so far has been sent: that happens after each response)."""
    if has_app_context():
        # The test client's requests share the test's session; a transaction one of them
        # left open (SQLite: holding the write lock) would keep the drainer waiting.
        db.session.commit()
    assert mail_queue.wait_idle(app), "the mail queue's drainer did not finish in 30 s"
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

"""The application factory and configuration order (interfaces.md)."""

from __future__ import annotations

from pathlib import Path

from market import create_app


def test_instance_folder_holds_sqlite_database(tmp_path: Path) -> None:
    app = create_app({"INSTANCE": str(tmp_path / "inst")})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'inst' / 'market.db'}"
    assert (tmp_path / "inst" / "secret_key").exists()


def test_environment_then_mapping_override(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("MARKET_SEARCH_BACKEND", "meilisearch")
    monkeypatch.setenv("MARKET_PAGE_SIZE", "50")
    monkeypatch.setenv("MARKET_INSTANCE", str(tmp_path / "from-env"))
    app = create_app({"PAGE_SIZE": 10})
    assert app.config["SEARCH_BACKEND"] == "meilisearch"
    assert app.config["PAGE_SIZE"] == 10
    assert Path(app.instance_path) == tmp_path / "from-env"


def test_database_url_overrides_sqlite(tmp_path: Path) -> None:
    url = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    app = create_app({"INSTANCE": str(tmp_path), "DATABASE_URL": url})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == url


def test_home_renders_in_chinese(client) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert "园区供需对接平台" in response.get_data(as_text=True)


def test_importing_the_features_installs_no_listener_create_app_does() -> None:
    """Setup happens in init_app, not on import: importing every feature package in a
    fresh interpreter leaves SQLAlchemy's sessions alone; create_app hooks the outboxes
    and the park figures cache in."""
    script = """
from sqlalchemy import event
from sqlalchemy.orm import Session

import market
from market import accounts, catalogue, dataset, digest, docking, home, jobs, parkops
from market import admin, api, listing_search, listings, parks, recommendations
from market.listing_search import outbox as search_outbox, sync
from market.parkops import cache
from market.recommendations import outbox as match_outbox, service

hooks = [
    ("after_flush", search_outbox._collect),
    ("after_flush", match_outbox._collect),
    ("after_commit", sync._after_commit),
    ("after_commit", service._after_commit),
    ("after_commit", cache._after_commit),
]
print([event.contains(Session, name, fn) for name, fn in hooks])
market.create_app({"TESTING": True})
print([event.contains(Session, name, fn) for name, fn in hooks])
"""
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    ).stdout.split("\n")
    assert out[0] == str([False] * 5)
    assert out[1] == str([True] * 5)


def test_core_first_then_the_features_hand_over_their_parts(tmp_path: Path) -> None:
    """The features register into what core set up: the mail queue's handlers, the jobs
    the scheduler runs, the commands, and the blueprints under their old names and
    prefixes (url_for calls and mailed links depend on them)."""
    from market.core import mail_queue
    from market.jobs import scheduled

    app = create_app({"INSTANCE": str(tmp_path), "TESTING": True})
    assert set(app.extensions[mail_queue.EXTENSION].handlers) == {"password_reset", "signup"}
    assert {spec.name for spec in scheduled.specs(app)} == {
        "digest",
        "digest-retry",
        "rematch",
        "search-outbox",
        "search-reconcile",
        "expiry",
        "catalogue-publish",
        "zero-results-prune",
        "mail-queue",
    }
    assert {"init", "serve", "import", "export", "reindex", "search", "match", "digest"} <= set(
        app.cli.commands
    )
    assert {"scheduler", "catalogue", "report"} <= set(app.cli.commands)
    assert set(app.blueprints) >= {
        "main",
        "auth",
        "parks",
        "orgs",
        "offerings",
        "needs",
        "search",
        "moderation",
        "admin",
        "matching",
        "parkops",
        "digest",
        "digest_admin",
        "concepts_admin",
        "docking",
        "catalogue",
        "api",
    }
    with app.test_request_context():
        from flask import url_for

        assert url_for("digest_admin.jobs") == "/admin/jobs"
        assert url_for("parkops.index").startswith("/parkops")
        assert url_for("catalogue.index").startswith("/catalogue")

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

"""`market init` builds the schema through the migrations, and they match the models."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from market import create_app
from market.core.extensions import db


def test_init_creates_schema_that_matches_the_models(app_config: dict[str, Any]) -> None:
    app = create_app(app_config)
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
        result = app.test_cli_runner().invoke(args=["init"])
        assert result.exit_code == 0, result.output
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
        assert diff == []
        # Running it again is an upgrade with nothing to do.
        again = app.test_cli_runner().invoke(args=["init"])
        assert again.exit_code == 0
        assert "up to date" in again.output
        db.drop_all()
        with db.engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")


def test_console_script_lists_the_documented_commands(tmp_path: Path) -> None:
    market = Path(sys.executable).parent / "market"
    env = {**os.environ, "MARKET_INSTANCE": str(tmp_path)}
    result = subprocess.run([market, "--help"], capture_output=True, text=True, env=env, check=True)
    for command in ("init", "import", "export", "serve"):
        assert f"  {command} " in result.stdout

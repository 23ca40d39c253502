"""The ``market`` command line (also available as ``flask --app market …``).

Every command exits 0 on success and non-zero with a one-line error on stderr.
"""

from __future__ import annotations

from typing import Any

import click
from flask import Flask
from flask.cli import FlaskGroup, with_appcontext

from market.core.cli_output import fail
from market.core.db import write_intent


@click.command("init")
@with_appcontext
def init_command() -> None:
    """Create or upgrade the database schema (runs the migrations)."""
    from flask_migrate import upgrade

    with write_intent():
        upgrade()
    click.echo("database is up to date")


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--threads", default=8, show_default=True, type=int)
@with_appcontext
def serve_command(host: str, port: int, threads: int) -> None:
    """Serve the web application with waitress."""
    from flask import current_app
    from waitress import serve

    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    if app.debug:
        # Debug mode is for a developer's machine: it shows tracebacks and can run the
        # interactive debugger. A served site must never have it.
        fail("refusing to serve in debug mode: drop --debug and unset FLASK_DEBUG")
    # The single-machine default runs the jobs here; multi-worker deployments set
    # MARKET_SCHEDULER=off and run `market scheduler` (the lease makes extra ones idle).
    # jobs.init_app leaves the factory (None when the scheduler is off).
    start_background = app.extensions.get("market.background")
    background = start_background() if start_background is not None else None
    if background is not None:
        background.start()
    click.echo(f"serving on http://{host}:{port}")
    try:
        serve(app, host=host, port=port, threads=threads)
    finally:
        if background is not None:
            background.shutdown()


def register_commands(app: Flask) -> None:
    """The commands that belong to no feature; each feature adds its own in init_app."""
    app.cli.add_command(init_command)
    app.cli.add_command(serve_command)


def _create_app(*_args: Any) -> Flask:
    from market import create_app

    return create_app()


def main() -> None:
    """Console-script entry point."""
    cli = FlaskGroup(
        create_app=_create_app,
        add_default_commands=False,
        add_version_option=False,
        load_dotenv=False,
        help="园区供需对接平台 command line.",
    )
    cli.main(prog_name="market")

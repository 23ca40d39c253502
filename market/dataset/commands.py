"""Data-set commands: ``market import DIR`` and ``market export DIR``."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy.exc import SQLAlchemyError

from market.core.cli_output import ProgressBar, fail
from market.dataset.export import export_dataset
from market.dataset.service import DatasetError, import_dataset
from market.listing_search import sync as search_sync


@click.command("import")
@click.argument("directory", type=click.Path(path_type=Path))
@with_appcontext
def import_command(directory: Path) -> None:
    """Import the data set in DIRECTORY: all or nothing; records are updated by ref.

    Then the imported listings are indexed for search (a second progress bar).
    """
    try:
        # Deferred: the search index is updated below in large batches, not in one
        # after-commit batch, so a big data set is searchable when the command ends.
        with search_sync.deferred(), ProgressBar("importing") as bar:
            summary = import_dataset(directory, progress=bar.update)
    except DatasetError as exc:
        more = len(exc.errors) - 1
        fail(
            str(exc.errors[0])
            + (f" (and {more} more error{'s' if more > 1 else ''})" if more else "")
        )
    except SQLAlchemyError as exc:
        # Everything is checked before the first write, so this is the database itself
        # (gone, full, locked out); the import's one transaction was rolled back.
        fail(f"the database refused the import, nothing was imported: {_first_line(exc)}")
    click.echo(f"imported {summary}")
    with ProgressBar("indexing") as bar:
        report = search_sync.process_outbox(batch=search_sync.IMPORT_BATCH, progress=bar.update)
    if report.failed:
        # The data is imported (the database is the truth); the index catches up later.
        click.echo(
            f"warning: {report.failed} listings are not searchable yet ({report.errors[0]}); "
            "run `market reindex --reconcile` once the search index is reachable",
            err=True,
        )


@click.command("export")
@click.argument("directory", type=click.Path(path_type=Path))
@with_appcontext
def export_command(directory: Path) -> None:
    """Write the whole resource pool to DIRECTORY as a data set that import reads back."""
    try:
        summary = export_dataset(directory)
    except OSError as exc:
        fail(f"cannot write {directory}: {exc.strerror or exc}")
    click.echo(f"exported {summary} to {directory}")


def _first_line(exc: SQLAlchemyError) -> str:
    original = getattr(exc, "orig", None) or exc
    return (
        str(original).strip().splitlines()[0][:200] if str(original).strip() else type(exc).__name__
    )


dataset_commands: list[click.Command] = [import_command, export_command]

"""Search commands: ``market reindex [--reconcile]`` and ``market search QUERY …``."""

from __future__ import annotations

import json
import unicodedata

import click
from flask.cli import with_appcontext

from market.core.cli_output import ProgressBar, fail
from market.listing_search import query as search_query
from market.listing_search import sync as search_sync
from market.listing_search.query import FilterSyntaxError, SearchOutcome, SearchRequest
from search import SearchError
from search.listings import INDEXES


@click.command("reindex")
@click.option(
    "--reconcile",
    is_flag=True,
    help="Compare the index with the database and repair only the difference.",
)
@with_appcontext
def reindex_command(reconcile: bool) -> None:
    """Rebuild the search index from the database (or, with --reconcile, repair drift)."""
    try:
        if reconcile:
            with ProgressBar("comparing") as bar:
                report = search_sync.reconcile(progress=bar.update)
            for index in INDEXES:
                click.echo(
                    f"{index}: {report.missing.get(index, 0)} missing, "
                    f"{report.ghosts.get(index, 0)} ghosts, {report.stale.get(index, 0)} stale"
                )
            if not report.complete:
                click.echo("warning: part of the index was too large to compare", err=True)
            outcome = report.sync
        else:
            with ProgressBar("indexing") as bar:
                counts = search_sync.rebuild(progress=bar.update)
            click.echo(", ".join(f"{counts[index]} {index}" for index in INDEXES) + " indexed")
            outcome = search_sync.SyncReport()
    except SearchError as exc:
        fail(f"search index unavailable: {exc}")
    if outcome.failed:
        fail(f"{outcome.failed} changes could not be applied: {outcome.errors[0]}")


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _cut(text: str, width: int) -> str:
    """``text`` cut to ``width`` terminal columns (Chinese characters take two)."""
    if _width(text) <= width:
        return text
    out = ""
    for ch in text:
        if _width(out + ch) > width - 1:
            return out + "…"
        out += ch
    return out


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


def _table(outcome: SearchOutcome) -> str:
    lines = [f"{outcome.total} results for {outcome.request.q!r} in {outcome.request.index}"]
    rows = [("REF", "SCORE", "TITLE", "ORGANIZATION")]
    for hit in outcome.items:
        title, org = _cut(hit.item.title, 40), _cut(hit.item.org.name, 24)
        rows.append((hit.ref, f"{hit.score:.2f}", title, org))
    widths = [max(_width(row[i]) for row in rows) for i in range(4)]
    for row in rows if outcome.items else []:
        lines.append("  ".join(_pad(cell, widths[i]) for i, cell in enumerate(row)).rstrip())
    return "\n".join(lines)


def as_json(outcome: SearchOutcome) -> dict[str, object]:
    """The documented ``--json`` shape (interfaces.md), which the API shares."""
    return {
        "query": outcome.request.q,
        "index": outcome.request.index,
        "total": outcome.total,
        "hits": [
            {"ref": hit.ref, "id": hit.id, "title": hit.item.title, "score": hit.score}
            for hit in outcome.items
        ],
    }


@click.command("search")
@click.argument("query")
@click.option(
    "--index", "index", type=click.Choice(list(INDEXES)), default="offerings", show_default=True
)
@click.option(
    "--filter",
    "filters",
    multiple=True,
    metavar="KEY=VALUE",
    help="Repeatable; keys: " + ", ".join(search_query.FILTER_FIELDS),
)
@click.option(
    "--limit", type=click.IntRange(1, search_query.PER_PAGE_MAX), default=10, show_default=True
)
@click.option("--json", "as_json_output", is_flag=True, help="One JSON document on stdout.")
@with_appcontext
def search_command(
    query: str, index: str, filters: tuple[str, ...], limit: int, as_json_output: bool
) -> None:
    """Search as the web search box does (published offerings / open needs only)."""
    try:
        parsed = search_query.parse_filters(filters)
    except FilterSyntaxError as exc:
        fail(str(exc))
    q = search_query.clean_query(query)
    req = SearchRequest(index=index, q=q, filters=parsed, per_page=limit)
    try:
        outcome = search_query.run(req, facets=False)
    except SearchError as exc:
        fail(f"search index unavailable: {exc}")
    if as_json_output:
        click.echo(json.dumps(as_json(outcome), ensure_ascii=False))
    else:
        click.echo(_table(outcome))


search_commands: list[click.Command] = [reindex_command, search_command]

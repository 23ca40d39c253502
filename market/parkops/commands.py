"""``market report --park REF [--from DATE] [--to DATE] [--json]``: a park's campaign figures."""

from __future__ import annotations

import json

import click
from flask.cli import with_appcontext

from market.core.cli_output import fail
from market.core.errors import DomainError
from market.core.report_period import Period
from market.parkops import report as campaign_report
from market.parkops.scope import for_park


@click.command("report")
@click.option("--park", "park_ref", required=True, help="The park's ref, e.g. P-SIP.")
@click.option("--from", "start", default=None, help="First day, YYYY-MM-DD (default 1 January).")
@click.option("--to", "end", default=None, help="Last day, YYYY-MM-DD (default today).")
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
@with_appcontext
def report_command(park_ref: str, start: str | None, end: str | None, as_json: bool) -> None:
    """A park's campaign figures for the period: the same as its dashboard and report."""
    try:
        period = Period.parse(start, end)
        report = campaign_report.build(for_park(park_ref), period)
    except DomainError as exc:
        fail(exc.message)
        return
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False))
        return
    labels = campaign_report.summary_labels()
    click.echo(f"{report['name']} ({report['park']})  {report['from']} — {report['to']}")
    width = max(len(labels[key]) for key in campaign_report.SUMMARY_KEYS)
    for key in campaign_report.SUMMARY_KEYS:
        value = report[key]
        shown = f"{value:,}" if key in campaign_report.MONEY_KEYS else str(value)
        click.echo(f"  {labels[key]:<{width}}  {shown:>14}")

"""``market digest [--week YYYY-Www] [--dry-run]``."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from market.core.cli_output import ProgressBar, fail
from market.digest import send as digest_send
from market.digest.collect import BadWeek, current_week, parse_week


@click.command("digest")
@click.option("--week", default=None, help="ISO week, e.g. 2026-W05 (default: this week).")
@click.option("--dry-run", is_flag=True, help="Print what would be sent; send nothing.")
@with_appcontext
def digest_command(week: str | None, dry_run: bool) -> None:
    """Send (or preview) the weekly digests for an ISO week; each user gets one at most."""
    try:
        week = parse_week(week) if week is not None else current_week()
    except BadWeek as exc:
        fail(str(exc))
        return
    if dry_run:
        count = 0
        for content in digest_send.preview_week(week):
            count += 1
            sections = ", ".join(f"{s.name} {s.total}" for s in content.sections)
            click.echo(
                f"{content.user_ref}  {content.email}  [{content.language}]  "
                f"{content.total} items: {sections}"
            )
        click.echo(f"week {week}: {count} digests would be sent (dry run: nothing sent)")
        return
    with ProgressBar("sending digests") as bar:
        report = digest_send.send_week(week, progress=bar.update)
    click.echo(report.summary())
    if report.uncertain:
        click.echo(
            f"warning: {report.uncertain} digests were handed to the mail server without "
            "confirmation; resolve them on /admin/jobs",
            err=True,
        )
    if report.aborted:
        fail(f"stopped: the mail server kept failing ({'; '.join(report.errors[:1])})")


digest_commands = (digest_command,)

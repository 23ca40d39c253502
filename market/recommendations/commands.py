"""``market match --need REF | --offering REF | --all`` (see interfaces.md).

``--need`` / ``--offering`` rank now, from the database as it is, so they work right
after ``market import`` without any other step; ``--all`` recomputes and stores every
recommendation with a progress bar. Reasons are in Chinese.
"""

from __future__ import annotations

import json
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import force_locale
from sqlalchemy import select

from market.core.cli_output import ProgressBar, fail
from market.core.extensions import db
from market.models import Need, Offering
from market.recommendations import service as matching
from matching import Match

LIMIT_MAX = 100


def _refs(model: type[Offering] | type[Need], ids: set[int]) -> dict[int, tuple[str, str]]:
    rows = db.session.execute(select(model.id, model.ref, model.title).where(model.id.in_(ids)))
    return {i: (ref or "", title) for i, ref, title in rows}


def match_json(subject: Need | Offering, matches: list[Match]) -> dict[str, Any]:
    """The documented ``--json`` shape (interfaces.md); the roles swap for an offering."""
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        return _shape(subject, matches, lambda m: matching.reason_texts(m.parts))


def _shape(subject: Need | Offering, matches: list[Match], reasons: Any) -> dict[str, Any]:
    key, other, _model, pick = _roles(subject)
    refs = _refs(_model, {pick(m) for m in matches})
    return {
        key: subject.ref,
        "matches": [
            {other: refs[pick(m)][0], "score": m.score, "reasons": reasons(m)}
            for m in matches
            if pick(m) in refs
        ],
    }


def _roles(subject: Need | Offering) -> tuple[str, str, Any, Any]:
    if isinstance(subject, Need):
        return "need", "offering", Offering, lambda m: m.offering_id
    return "offering", "need", Need, lambda m: m.need_id


def _table(subject: Need | Offering, matches: list[Match]) -> str:
    _key, _other, model, pick = _roles(subject)
    refs = _refs(model, {pick(m) for m in matches})
    shown = [m for m in matches if pick(m) in refs]
    lines = [f"{len(shown)} matches for {subject.ref} {subject.title}"]
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        for k, m in enumerate(shown, 1):
            ref, title = refs[pick(m)]
            lines.append(f"{k:>2}. {ref}  {m.score:5.1f}  {title}")
            reasons = matching.reason_texts(m.parts)
            if reasons:
                lines.append("    " + "；".join(reasons))
    return "\n".join(lines)


def _load(model: type[Offering] | type[Need], ref: str) -> Any:
    item = db.session.scalar(select(model).where(model.ref == ref.strip()))
    if item is None:
        fail(f"no {'need' if model is Need else 'offering'} with ref {ref!r}")
    return item


@click.command("match")
@click.option("--need", "need_ref", metavar="REF", help="Best offerings for this need.")
@click.option(
    "--offering", "offering_ref", metavar="REF", help="Best open needs for this offering."
)
@click.option("--all", "everything", is_flag=True, help="Recompute every recommendation.")
@click.option("--limit", type=click.IntRange(1, LIMIT_MAX), default=10, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
@with_appcontext
def match_command(
    need_ref: str | None, offering_ref: str | None, everything: bool, limit: int, as_json: bool
) -> None:
    """Best offerings for a need, best needs for an offering, or recompute them all."""
    chosen = [flag for flag, given in (("--need", need_ref), ("--offering", offering_ref)) if given]
    if everything:
        chosen.append("--all")
    if len(chosen) != 1:
        fail("give exactly one of --need REF, --offering REF or --all")
    if everything:
        with ProgressBar("matching") as bar:
            summary = matching.recompute_all(progress=bar.update)
        click.echo(
            f"recomputed {summary['needs']} needs and {summary['offerings']} offerings: "
            f"{summary['recommendations']} recommendations in {summary['seconds']:.1f} s"
        )
        return
    subject: Need | Offering
    if need_ref is not None:
        subject = _load(Need, need_ref)
        matches = matching.fresh_for_need(subject, limit)
    else:
        subject = _load(Offering, offering_ref or "")
        matches = matching.fresh_for_offering(subject, limit)
    if as_json:
        click.echo(json.dumps(match_json(subject, matches), ensure_ascii=False))
    else:
        click.echo(_table(subject, matches))


match_commands: list[click.Command] = [match_command]

"""``market catalogue publish``: publish the next edition of a park's supply–demand catalogue."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from market.catalogue import compile as compile_
from market.catalogue import exports as catalogue_exports
from market.catalogue import present, service
from market.core.cli_output import fail
from market.core.db import write_intent
from market.core.errors import DomainError
from market.core.extensions import db
from market.core.pdf import FontMissing
from market.models import CatalogueEdition


@click.group("catalogue")
def catalogue_group() -> None:
    """The supply–demand catalogue (供需目录清单)."""


@catalogue_group.command("publish")
@click.option("--park", "park_ref", required=True, help="the park's ref, e.g. P-SIP")
@click.option("--title", default=None, help="the edition's title (default: <park>供需目录清单)")
@with_appcontext
def publish_command(park_ref: str, title: str | None) -> None:
    """Publish the park's draft (the newest one, with the choices staff made), or a new
    edition of everything proposed when there is no draft; print the edition number
    and the paths of its exports, one per line."""
    with write_intent():
        try:
            park = service.park_by_ref(park_ref.strip())
            scope = compile_.park_scope(park)
            edition = db.session.scalar(
                select(CatalogueEdition)
                .where(CatalogueEdition.scope_key == scope.key, CatalogueEdition.status == "draft")
                .order_by(CatalogueEdition.id.desc())
                .limit(1)
            )
            if edition is None:
                edition = service.new_edition(scope, None, title)
            elif title:
                service.update_settings(edition, title, edition.foreword)
            service.publish(edition, None)
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            fail(exc.message)
            return
    paths = []
    with click.progressbar(
        catalogue_exports.FORMATS, label="writing exports", file=sys.stderr
    ) as formats:
        try:
            exporter = catalogue_exports.Exporter(edition)
            for fmt in formats:
                paths += exporter.write([fmt])
        except (FontMissing, OSError) as exc:
            fail(f"{present.label(edition)} published, but its exports failed: {exc}")
    click.echo(f"{edition.ref} {present.label(edition)} {edition.title}")
    for path in paths:
        click.echo(str(path))


catalogue_commands = (catalogue_group,)

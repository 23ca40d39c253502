"""The export: the whole resource pool as a data set that the import reads back."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from market.core.extensions import db
from market.core.files import atomic_write
from market.dataset import concepts as concept_dataset
from market.dataset import schema
from market.dataset.service import EXPORTED_STATUS, ModelT, Row, Summary
from market.models import Need, Offering, Organization, Park, User

# --- export ----------------------------------------------------------------------


def export_dataset(directory: Path | str) -> Summary:
    """Write the whole resource pool to ``directory`` as a data set ``import_dataset`` reads back.

    Each file is sorted by ref with keys in the format's order; passwords are never
    written. Returns how many records each file holds; raises OSError when the
    directory cannot be written.
    """
    target = Path(directory)
    target.mkdir(parents=True, exist_ok=True)
    files = {
        "parks": [export_record("parks", park_values(p)) for p in _all(Park)],
        "organizations": [
            export_record("organizations", org_values(o))
            for o in _all(Organization, Organization.park)
        ],
        "offerings": [
            export_record("offerings", offering_values(o))
            for o in _all(Offering, Offering.org, Offering.parks)
        ],
        "needs": [export_record("needs", need_values(n)) for n in _all(Need, Need.org, Need.park)],
        "users": [export_record("users", _user_values(u)) for u in _all(User, User.org)],
    }
    for name, rows in files.items():
        write_json(target / f"{name}.json", rows)
    counts = {name: len(rows) for name, rows in files.items()}
    if concepts := concept_dataset.export(target, write_json):
        counts["concepts"] = concepts
    return Summary(counts)


def _all(model: type[ModelT], *related: Any) -> list[ModelT]:
    """Every row with ``related`` loaded up front, sorted by ref in Python (database
    collations differ, and the order must not depend on the backend)."""
    stmt = select(model).options(*(selectinload(rel) for rel in related))
    return sorted(db.session.scalars(stmt), key=lambda obj: str(obj.ref))


def export_record(file: str, values: Row) -> Row:
    """Keys in the format's order; empty optional values left out."""
    out: Row = {}
    for key in schema.keys(file):
        value = values.get(key)
        if value is None or value == "" or value == []:
            continue
        if isinstance(value, date):
            value = value.isoformat()
        elif schema.shape(file, key) == "number":
            # SQLite's NUMERIC affinity hands 3.0 back as 3; PostgreSQL gives 3.0.
            value = float(value)
        out[key] = value
    return out


def _attrs(obj: Any, keys: Iterable[str]) -> Row:
    return {key: getattr(obj, key) for key in keys}


def _ref_of(obj: Any) -> str | None:
    return None if obj is None else obj.ref


def park_values(park: Park) -> Row:
    return _attrs(
        park, ("ref", "name", "province", "city", "level", "zone_type", "industries", "description")
    )


def org_values(org: Organization) -> Row:
    values = _attrs(
        org,
        (
            "ref",
            "name",
            "kind",
            "credit_code",
            "province",
            "city",
            "size",
            "industries",
            "description",
            "verified",
        ),
    )
    values["park"] = _ref_of(org.park)
    return values


def offering_values(item: Offering) -> Row:
    values = _attrs(item, [k for k in schema.keys("offerings") if k not in ("org", "parks")])
    values["org"] = item.org.ref
    values["parks"] = sorted(str(p.ref) for p in item.parks)
    values["status"] = EXPORTED_STATUS.get(item.status, item.status)
    return values


def need_values(need: Need) -> Row:
    values = _attrs(need, [k for k in schema.keys("needs") if k not in ("org", "park")])
    values["org"] = need.org.ref
    values["park"] = need.park.ref
    values["status"] = EXPORTED_STATUS.get(need.status, need.status)
    return values


def _user_values(user: User) -> Row:
    # Never a password or its hash: a data set travels by mail and USB stick.
    return {
        "ref": user.ref,
        "email": user.email,
        "name": user.name,
        "org": _ref_of(user.org),
        "role": user.role,
    }


def write_json(path: Path, rows: list[Row]) -> None:
    """Write atomically, so an interrupted export never leaves half a file behind."""
    data = (json.dumps(rows, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    atomic_write(path, lambda fh: fh.write(data))

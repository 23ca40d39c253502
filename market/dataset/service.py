"""Import and export of a whole data set (data-format.md): the resource pool as JSON files.

Import is all-or-nothing: every file is read and every record validated (with
``schema.validate``) and cross-checked before anything is written; then every
record is upserted by its ``ref`` in one write transaction. Export writes the
files so that two exports of the same data are byte-identical.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from market.core.db import write_intent
from market.core.errors import DomainError
from market.core.extensions import db
from market.dataset import concepts as concept_dataset
from market.dataset import schema
from market.dataset.json_files import read_file
from market.dataset.records import RecordError
from market.models import Need, Offering, Organization, Park, User, utcnow

REQUIRED_FILES = ("parks", "organizations", "offerings", "needs")
OPTIONAL_FILES = ("users",)
# Import order: a record is written after everything it refers to.
ORDER = (*REQUIRED_FILES, *OPTIONAL_FILES)
# Listing statuses the format cannot express, and what export writes instead.
EXPORTED_STATUS = {"rejected": "draft"}
# IN-lists are chunked: SQLite caps the number of bound parameters per statement.
CHUNK = 500

Progress = Callable[[int, int], None]
"""Called as ``progress(done, total)`` while records are written."""

Row = dict[str, Any]
ModelT = TypeVar("ModelT", Park, Organization, Offering, Need, User)


class DatasetError(DomainError):
    """A data set that cannot be imported; ``errors`` lists every problem found."""

    def __init__(self, errors: list[RecordError]) -> None:
        self.errors = errors
        more = len(errors) - 1
        message = str(errors[0]) + (_("（另有 %(n)d 处错误）", n=more) if more else "")
        super().__init__(message)


@dataclass
class Dataset:
    """Validated records of each file, keyed by ref, in file order."""

    rows: dict[str, dict[str, Row]] = field(default_factory=lambda: {name: {} for name in ORDER})
    errors: list[RecordError] = field(default_factory=list)
    concepts: list[Any] = field(default_factory=list)  # concepts.json (concept_dataset)

    def count(self) -> int:
        return sum(len(rows) for rows in self.rows.values())


@dataclass(frozen=True)
class Summary:
    """How many records of each file an import or export handled."""

    counts: dict[str, int]

    def __str__(self) -> str:
        extra = [name for name in self.counts if name not in ORDER]  # optional: concepts
        return ", ".join(f"{self.counts.get(name, 0)} {name}" for name in (*ORDER, *extra))


def load(directory: Path) -> Dataset:
    """Read and validate every file of the data set in ``directory``.

    Returns the validated records and every error found (the set is usable only
    when ``errors`` is empty); never raises for bad content.
    """
    dataset = Dataset()
    if not directory.is_dir():
        dataset.errors.append(RecordError(str(directory), None, None, _("数据集目录不存在")))
        return dataset
    for name in ORDER:
        path = directory / f"{name}.json"
        if name in OPTIONAL_FILES and not path.exists():
            continue
        data, problem = read_file(path)
        if problem is not None:
            dataset.errors.append(problem)
            continue
        _collect(dataset, name, data or [])
    _check_references(dataset)
    dataset.concepts = concept_dataset.load(directory, read_file, dataset.errors)
    return dataset


def _collect(dataset: Dataset, name: str, data: list[Any]) -> None:
    """Validate each record of one file and keep it under its (unique) ref."""
    positions: dict[str, int] = {}
    for position, record in enumerate(data, start=1):
        result = schema.validate(name, record, position=position)
        dataset.errors.extend(result.errors)
        ref = result.clean.get("ref")
        if ref is None:
            continue
        if ref in positions:
            dataset.errors.append(
                RecordError(
                    f"{name}.json",
                    ref,
                    "ref",
                    _("编号重复（第 %(first)d 条已使用）", first=positions[ref]),
                )
            )
            continue
        positions[ref] = position
        dataset.rows[name][ref] = result.clean


def _check_references(dataset: Dataset) -> None:
    """Every ``org``/``park``/``parks`` names a record of the set; unique columns stay unique."""
    parks, orgs = dataset.rows["parks"], dataset.rows["organizations"]
    errors = dataset.errors

    def must_exist(file: str, ref: str, key: str, target: dict[str, Row], value: Any) -> None:
        values = value if isinstance(value, list) else [value]
        missing = [v for v in values if v is not None and v not in target]
        if missing:
            errors.append(
                RecordError(
                    f"{file}.json",
                    ref,
                    key,
                    _("引用的编号不存在：%(refs)s", refs="、".join(missing)),
                )
            )

    for ref, row in orgs.items():
        must_exist("organizations", ref, "park", parks, row.get("park"))
    for file in ("offerings", "needs"):
        for ref, row in dataset.rows[file].items():
            must_exist(file, ref, "org", orgs, row.get("org"))
            must_exist(file, ref, "park", parks, row.get("park"))
            must_exist(file, ref, "parks", parks, row.get("parks"))
    for ref, row in dataset.rows["users"].items():
        must_exist("users", ref, "org", orgs, row.get("org"))
        org = orgs.get(row.get("org") or "")
        if row.get("role") == "park_staff" and org is not None and org["kind"] != "park_operator":
            errors.append(
                RecordError(
                    "users.json",
                    ref,
                    "role",
                    _("园区工作人员（park_staff）必须属于园区运营机构（park_operator）"),
                )
            )
    _unique_within(dataset, "organizations", "credit_code", _("统一社会信用代码与 %(other)s 重复"))
    _unique_within(dataset, "users", "email", _("邮箱与 %(other)s 重复"))


def _unique_within(dataset: Dataset, file: str, key: str, message: str) -> None:
    seen: dict[Any, str] = {}
    for ref, row in dataset.rows[file].items():
        value = row.get(key)
        if value is None:
            continue
        if value in seen:
            dataset.errors.append(
                RecordError(f"{file}.json", ref, key, message % {"other": seen[value]})
            )
        else:
            seen[value] = ref


def _check_database_conflicts(dataset: Dataset) -> None:
    """Unique columns must not clash with rows the data set does not name (app-created ones)."""
    for file, model, column, message in (
        (
            "organizations",
            Organization,
            "credit_code",
            _("统一社会信用代码已被现有机构 %(other)s 使用"),
        ),
        ("users", User, "email", _("邮箱已被现有用户 %(other)s 使用")),
    ):
        rows = dataset.rows[file]
        wanted = {row[column]: ref for ref, row in rows.items() if row.get(column)}
        attr = getattr(model, column)
        for chunk in _chunks(list(wanted)):
            for value, owner in db.session.execute(select(attr, model.ref).where(attr.in_(chunk))):
                if owner not in rows:
                    dataset.errors.append(
                        RecordError(
                            f"{file}.json", wanted[value], column, message % {"other": owner}
                        )
                    )


# --- writing ---------------------------------------------------------------------


def import_dataset(directory: Path | str, progress: Progress | None = None) -> Summary:
    """Import the data set in ``directory``: all of it, or nothing.

    Records are matched to existing rows by ``ref`` and updated in place. Returns
    how many records of each file were imported; raises DatasetError listing every
    problem (and writes nothing) when any file or record is invalid.
    """
    dataset = load(Path(directory))
    if dataset.errors:
        raise DatasetError(dataset.errors)
    with write_intent():
        try:
            _check_database_conflicts(dataset)
            if dataset.errors:
                raise DatasetError(dataset.errors)
            _Writer(dataset, progress).run()
            concept_dataset.write(dataset.concepts)
            db.session.commit()
        except BaseException:
            db.session.rollback()
            raise
    counts = {name: len(dataset.rows[name]) for name in ORDER}
    return Summary(counts | ({"concepts": len(dataset.concepts)} if dataset.concepts else {}))


def _chunks(values: list[Any]) -> Iterator[list[Any]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def _existing(model: type[ModelT], refs: Iterable[str]) -> dict[str, ModelT]:
    found: dict[str, ModelT] = {}
    for chunk in _chunks(list(refs)):
        for obj in db.session.scalars(select(model).where(model.ref.in_(chunk))):
            found[str(obj.ref)] = obj
    return found


class _Writer:
    """Upserts a validated data set, file by file, reporting progress."""

    def __init__(self, dataset: Dataset, progress: Progress | None) -> None:
        self.dataset = dataset
        self.progress = progress
        self.done = 0
        self.total = dataset.count()
        self.parks: dict[str, Park] = {}
        self.orgs: dict[str, Organization] = {}
        self.now = utcnow()
        self.validity = timedelta(days=int(current_app.config["LISTING_VALIDITY_DAYS"]))

    def run(self) -> None:
        self.parks = self._upsert("parks", Park, self._park)
        self.orgs = self._upsert("organizations", Organization, self._org)
        self._upsert("offerings", Offering, self._offering)
        self._upsert("needs", Need, self._need)
        self._upsert("users", User, self._user)

    def _upsert(
        self, file: str, model: type[ModelT], apply: Callable[[ModelT, Row, bool], None]
    ) -> dict[str, ModelT]:
        rows = self.dataset.rows[file]
        with db.session.no_autoflush:
            found = _existing(model, rows)
        out: dict[str, ModelT] = {}
        for ref, row in rows.items():
            obj = found.get(ref)
            is_new = obj is None
            if obj is None:
                obj = model(ref=ref)
                db.session.add(obj)
            apply(obj, row, is_new)
            out[ref] = obj
            self._tick()
        db.session.flush()
        return out

    def _tick(self) -> None:
        self.done += 1
        if self.progress is not None:
            self.progress(self.done, self.total)

    def _park(self, park: Park, row: Row, _is_new: bool) -> None:
        park.name = row["name"]
        park.province = row["province"]
        park.city = row.get("city", "")
        park.level = row["level"]
        park.zone_type = row["zone_type"]
        park.industries = row.get("industries", [])
        park.description = row.get("description", "")

    def _org(self, org: Organization, row: Row, _is_new: bool) -> None:
        org.name = row["name"]
        org.kind = row["kind"]
        org.credit_code = row.get("credit_code")
        org.province = row.get("province", "")
        org.city = row.get("city", "")
        org.park = self.parks[row["park"]] if row.get("park") else None
        org.size = row.get("size")
        org.industries = row.get("industries", [])
        org.description = row.get("description", "")
        org.verified = row.get("verified", False)

    def _offering(self, item: Offering, row: Row, is_new: bool) -> None:
        item.org = self.orgs[row["org"]]
        apply_offering(item, row, [self.parks[ref] for ref in row.get("parks", [])])
        self._set_status(item, row.get("status", "published"), is_new)

    def _need(self, need: Need, row: Row, is_new: bool) -> None:
        need.org = self.orgs[row["org"]]
        need.park = self.parks[row["park"]]
        for key in ("kind", "category", "title"):
            setattr(need, key, row[key])
        need.description = row.get("description", "")
        need.tags = row.get("tags", [])
        need.industries = row.get("industries", [])
        for key in ("budget_min", "budget_max", "deadline", "amount", "term_months"):
            setattr(need, key, row.get(key))
        self._set_status(need, row.get("status", "open"), is_new)

    def _set_status(self, item: Offering | Need, status: str, is_new: bool) -> None:
        """Apply the data set's status; a listing that goes live now gets its dates."""
        live = "published" if isinstance(item, Offering) else "open"
        if status == "draft" and item.status == "rejected":
            return  # exported as draft: re-importing must not wipe the moderator's reason
        goes_live = status == live and (is_new or item.status != live or item.published_at is None)
        item.status = status
        item.reject_reason = None
        if goes_live:
            item.published_at = self.now
            if isinstance(item, Offering):
                item.expires_at = self.now + self.validity

    def _user(self, user: User, row: Row, _is_new: bool) -> None:
        user.email = row["email"]
        user.name = row["name"]
        user.org = self.orgs[row["org"]] if row.get("org") else None
        user.role = row.get("role", "member")
        password = row.get("password")
        # Re-importing the same password must not count as a change (it would void reset links).
        if password and not user.check_password(password):
            user.set_password(password)


def apply_offering(item: Offering, row: Row, parks: list[Park]) -> None:
    """Copy a validated offering record's content onto ``item`` (not org, not status).

    Keys the record leaves out are reset to empty: the record is the whole listing.
    """
    for key in ("kind", "category", "title"):
        setattr(item, key, row[key])
    for key in ("summary", "description"):
        setattr(item, key, row.get(key, ""))
    for key in ("tags", "industries", "regions", "eligible_sizes"):
        setattr(item, key, row.get(key, []))
    for key in (
        "price_min",
        "price_max",
        "price_unit",
        "amount_min",
        "amount_max",
        "rate_min",
        "rate_max",
        "term_months_max",
        "mode",
        "starts_on",
        "capacity",
        "certificate",
    ):
        setattr(item, key, row.get(key))
    item.parks = parks

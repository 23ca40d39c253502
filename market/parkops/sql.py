"""SQL helpers of the park figures that must stay fast on 100k listings.

``json_array_has_any(column, values)`` is true when a JSON array of strings holds any of
``values``. On SQLite a plain substring test of each value's JSON text (escaped, as
SQLAlchemy's default serializer writes it, and raw UTF-8) skips the rows that cannot
match before ``json_each`` confirms the ones that might: the same answer as
``market.core.json_sql.json_array_contains``, several times faster on a full scan.
PostgreSQL uses its ``?|`` operator.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Boolean, ColumnElement, String, literal
from sqlalchemy.exc import CompileError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.sql.visitors import ExternallyTraversible, replacement_traverse


class json_array_has_any(FunctionElement[bool]):
    """``json_array_has_any(column, *values, *needles)``; build it with ``has_any``.

    Every value brings two needles (its escaped and its raw JSON text), so the number
    of clauses alone tells them apart and the compiled statement can be cached.
    """

    type = Boolean()
    name = "json_array_has_any"
    inherit_cache = True


def has_any(column: Any, values: Sequence[str]) -> ColumnElement[bool]:
    """The JSON array in ``column`` holds at least one of ``values`` (strings)."""
    values = list(values)
    needles = [
        text
        for value in values
        for text in (json.dumps(value), json.dumps(value, ensure_ascii=False))
    ]
    binds = [literal(v, String()) for v in values + needles]
    if all(value and not PLAIN_UNSAFE.intersection(value) for value in values):
        return json_array_has_plain(column, *binds)
    return json_array_has_any(column, *binds)


# A value without these characters cannot be matched by its quoted JSON text anywhere
# but as a whole element, in a text without escaped quotes: every quote there is a
# string's delimiter, and the text between a string's end and the next's start holds a
# comma.
PLAIN_UNSAFE = frozenset(',"\\')


class json_array_has_plain(json_array_has_any):
    """``json_array_has_any`` for values such as province names (see PLAIN_UNSAFE):
    on SQLite the substring test is then the whole answer for a JSON text without an
    escaped quote, and ``json_each`` only confirms the (rare) texts with one."""

    name = "json_array_has_plain"
    inherit_cache = True


def _parts(
    element: json_array_has_any, compiler: SQLCompiler, **kw: Any
) -> tuple[str, list[str], list[str]]:
    column, *rest = [compiler.process(c, **kw) for c in element.clauses]
    count = len(rest) // 3
    return column, rest[:count], rest[count:]


@compiles(json_array_has_any)
def _compile_default(element: json_array_has_any, compiler: SQLCompiler, **kw: Any) -> str:
    raise CompileError("json_array_has_any is implemented for SQLite and PostgreSQL only")


@compiles(json_array_has_any, "sqlite")
def _compile_sqlite(element: json_array_has_any, compiler: SQLCompiler, **kw: Any) -> str:
    column, values, needles = _parts(element, compiler, **kw)
    # Every fragment is compiled SQL (a column or bound parameters), never user text.
    maybe = " OR ".join(f"instr({column}, {n}) > 0" for n in needles)
    confirm = (
        f"EXISTS (SELECT 1 FROM json_each({column}) AS je "  # noqa: S608
        f"WHERE je.value IN ({', '.join(values)}))"
    )
    return f"(({maybe}) AND {confirm})"


@compiles(json_array_has_plain, "sqlite")
def _compile_plain_sqlite(element: json_array_has_any, compiler: SQLCompiler, **kw: Any) -> str:
    column, values, needles = _parts(element, compiler, **kw)
    maybe = " OR ".join(f"instr({column}, {n}) > 0" for n in needles)
    confirm = (
        f"EXISTS (SELECT 1 FROM json_each({column}) AS je "  # noqa: S608
        f"WHERE je.value IN ({', '.join(values)}))"
    )
    # CASE, not OR: SQLite would run the json_each subquery for every row otherwise.
    return f"(({maybe}) AND CASE WHEN instr({column}, '\\\"') = 0 THEN 1 ELSE {confirm} END)"


@compiles(json_array_has_any, "postgresql")
def _compile_postgresql(element: json_array_has_any, compiler: SQLCompiler, **kw: Any) -> str:
    column, values, _needles = _parts(element, compiler, **kw)
    return f"(CAST({column} AS JSONB) ?| ARRAY[{', '.join(values)}]::text[])"


class unindexed(FunctionElement[Any]):
    """``unindexed(column)``: the column's value, in a form SQLite's planner will not
    answer from an index on it (``+column``); the column itself elsewhere.

    A test such as ``status = 'published'`` holds for nine offerings in ten: walking
    the status index and then every table row costs more than scanning the table.
    """

    name = "unindexed"
    inherit_cache = True

    def __init__(self, column: Any) -> None:
        super().__init__(column)
        self.type = column.type


@compiles(unindexed)
def _compile_unindexed(element: unindexed, compiler: SQLCompiler, **kw: Any) -> str:
    (column,) = list(element.clauses)
    return str(compiler.process(column, **kw))


@compiles(unindexed, "sqlite")
def _compile_unindexed_sqlite(element: unindexed, compiler: SQLCompiler, **kw: Any) -> str:
    (column,) = list(element.clauses)
    return f"+{compiler.process(column, **kw)}"


def scan_table(clause: ColumnElement[bool], *columns: Any) -> ColumnElement[bool]:
    """``clause`` with each of ``columns`` wrapped in ``unindexed``: the same rows, found
    by scanning the table (for a model's predicate such as ``public_clause``)."""
    # The model's clauses hold ORM-annotated copies of the table's columns.
    targets = [getattr(c, "expression", c)._deannotate() for c in columns]

    def swap(element: ExternallyTraversible, **_kw: Any) -> ExternallyTraversible | None:
        if isinstance(element, ColumnElement) and any(element._deannotate() is t for t in targets):
            return unindexed(element)
        return None

    return cast(ColumnElement[bool], replacement_traverse(clause, {}, swap))

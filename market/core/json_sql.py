"""Portable SQL over JSON array columns (tags, regions, industries).

JSON columns have no membership test that both supported databases understand, so
``json_array_contains`` compiles to each one's own SQL.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean
from sqlalchemy.exc import CompileError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement


class json_array_contains(FunctionElement[bool]):
    """``json_array_contains(column, value)``: true when the JSON array holds ``value``.

    SQLite gets ``EXISTS (… json_each …)``; PostgreSQL gets ``CAST(column AS JSONB) ? value``.
    Other databases raise CompileError when the statement is compiled.
    """

    type = Boolean()
    name = "json_array_contains"
    inherit_cache = True


def _operands(element: json_array_contains, compiler: SQLCompiler, **kw: Any) -> tuple[str, str]:
    column, value = list(element.clauses)
    return compiler.process(column, **kw), compiler.process(value, **kw)


@compiles(json_array_contains)
def _compile_default(element: json_array_contains, compiler: SQLCompiler, **kw: Any) -> str:
    raise CompileError("json_array_contains is implemented for SQLite and PostgreSQL only")


@compiles(json_array_contains, "sqlite")
def _compile_sqlite(element: json_array_contains, compiler: SQLCompiler, **kw: Any) -> str:
    column, value = _operands(element, compiler, **kw)
    # Both operands are compiled SQL fragments (bound parameters), never user text.
    return f"EXISTS (SELECT 1 FROM json_each({column}) AS je WHERE je.value = {value})"  # noqa: S608


@compiles(json_array_contains, "postgresql")
def _compile_postgresql(element: json_array_contains, compiler: SQLCompiler, **kw: Any) -> str:
    column, value = _operands(element, compiler, **kw)
    return f"(CAST({column} AS JSONB) ? CAST({value} AS TEXT))"

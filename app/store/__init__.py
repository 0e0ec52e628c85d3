"""Typed functions over the named queries in sql/; the loader's dynamic attributes stay in this package."""

from __future__ import annotations

from collections.abc import AsyncIterable
from typing import Any, TypeVar

import aiosql
import msgspec

from app import ROOT

# Loaded once: every `-- name:` in sql/*.sql, parameters declared and checked at load.
queries: Any = aiosql.from_path(ROOT / "sql", "aiosqlite")

T = TypeVar("T", bound=msgspec.Struct)


def as_json(value: Any) -> str:
    """A query parameter as JSON text (SQLite's json_each reads text, not a blob)."""
    return msgspec.json.encode(value).decode()


async def to_structs(kind: type[T], rows: AsyncIterable[Any]) -> list[T]:
    """Collect a query's rows as Structs of `kind` (column names are field names)."""
    return [kind(**dict(row)) async for row in rows]


def to_struct(kind: type[T], row: Any) -> T | None:
    """One row (or None) as a Struct of `kind`."""
    return None if row is None else kind(**dict(row))


async def run_once(conn: Any, query: Any, **params: Any) -> list[Any]:
    """Run a named query in one trip to the connection's thread and return its rows (none for a write).

    aiosql's own functions take three trips (execute, fetch, close cursor) or two; on the write path every trip
    is a hand-over of the GIL between the event loop and SQLite's thread, and those add up."""
    return list(await conn.execute_fetchall(query.sql, params))


async def structs_once(kind: type[T], conn: Any, query: Any, **params: Any) -> list[T]:
    """A named query's rows as Structs of `kind`, in one trip to the connection's thread (see run_once)."""
    return [kind(**dict(row)) for row in await run_once(conn, query, **params)]

"""What the event writer reads and writes inside its transaction (app/ingest.py plans; this runs the SQL).

Each function is one trip to SQLite's thread (see run_once): on the write path the trips are what costs."""

from __future__ import annotations

from typing import Any

import msgspec

from app.sqlite import driver
from app.store import as_json, queries, run_once, structs_once


class BatchStart(msgspec.Struct, frozen=True, gc=False):
    """A live ticket's last seq, and the table's last rowid, as a batch begins."""

    ticket_id: int
    seq: int
    last_rowid: int


class _Known(msgspec.Struct, frozen=True, gc=False):
    ticket_id: int
    uuid: str
    seq: int


class _KnownKey(msgspec.Struct, frozen=True, gc=False):
    ticket_id: int
    key: str
    seqs: str


async def batch_start(conn: Any, ticket_ids: list[int]) -> list[BatchStart]:
    """Which of these tickets exist, with their last seqs (a deleted one is left out)."""
    return await structs_once(BatchStart, conn, queries.ingest_batch_start, ids=as_json(sorted(ticket_ids)))


async def known_uuids(conn: Any, pairs: list[tuple[int, str]]) -> dict[tuple[int, str], int]:
    """The seqs already given to these (ticket_id, uuid) pairs."""
    if not pairs:
        return {}
    rows = await structs_once(_Known, conn, queries.ingest_known_uuids, pairs=as_json(pairs))
    return {(k.ticket_id, k.uuid): k.seq for k in rows}


async def known_keys(conn: Any, pairs: list[tuple[int, str]]) -> dict[tuple[int, str], list[int]]:
    """The seqs already answered to these (ticket_id, Idempotency-Key) pairs."""
    if not pairs:
        return {}
    rows = await structs_once(_KnownKey, conn, queries.ingest_known_keys, pairs=as_json(pairs))
    return {(k.ticket_id, k.key): msgspec.json.decode(k.seqs, type=list[int]) for k in rows}


async def insert_events(conn: Any, rows: str, payloads: bytes, ts: str) -> None:
    """Insert a planned batch (see events_insert in sql/ingest.sql for the shape of `rows`)."""
    await run_once(conn, queries.ingest_events, rows=rows, payloads=payloads, ts=ts)


async def insert_events_if_unchanged(
    conn: Any, rows: str, payloads: bytes, ts: str, last_rowid: int, tickets: str, uuids: str, keys: str
) -> bool:
    """Insert a batch planned from the writer's memory, if the table still matches it; False (and nothing
    inserted, the transaction still open) if it does not."""
    try:
        await run_once(conn, queries.ingest_events_if_unchanged, rows=rows, payloads=payloads, ts=ts,
                       last_rowid=last_rowid, tickets=tickets, uuids=uuids, keys=keys)  # fmt: skip
    except driver.IntegrityError:  # the NOT NULL on seq refused the rows: something changed
        return False
    return True


async def note_activity(conn: Any, rows: list[tuple[str, int, int, str, str]]) -> None:
    """Record what each worker did last on each ticket ([worker, ticket_id, last seq, last type, when] rows)."""
    if rows:
        await run_once(conn, queries.ingest_activity, rows=as_json(rows))


async def announce_runs(conn: Any, rows: list[tuple[str, int, bool]]) -> None:
    """Tell the board a run started, ended or moved on ([worker, ticket_id, ended] rows)."""
    if rows:
        await run_once(conn, queries.ingest_announce, rows=as_json(rows))


async def insert_keys(conn: Any, keys: list[tuple[int, str, list[int]]]) -> None:
    """Record the Idempotency-Keys a batch answered, with their seqs."""
    if keys:
        await run_once(conn, queries.ingest_keys, keys=as_json(keys))

"""What the live path reads: the rows committed since a rowid, by any process, and the pruning of old ones."""

from __future__ import annotations

import json
from typing import Any

import msgspec

from app.store import queries, to_structs
from app.store.events import WorkerEvent


class BroadcastRow(msgspec.Struct, frozen=True):
    """Board-wide news a trigger wrote in the same transaction as the change."""

    id: int
    kind: str
    ticket_id: int | None
    identifier: str | None
    body: str


async def last_rowids(conn: Any) -> tuple[int, int]:
    """The newest event and broadcast rowids committed now (where a new watcher starts)."""
    return int(await queries.live_last_event_rowid(conn)), int(await queries.live_last_broadcast_rowid(conn))


async def last_event_rowid(conn: Any) -> int:
    """The newest event rowid committed now (one probe of the table's key)."""
    return int(await queries.live_last_event_rowid(conn))


async def data_version(conn: Any) -> int:
    """A counter of `conn`'s that moves when any other connection commits."""
    return int(await queries.live_data_version(conn))


async def event_rowids_since(conn: Any, after: int, limit: int) -> list[int]:
    """Rowids of events committed after `after`, oldest first (no payloads: cheap to skip one's own)."""
    return [row["id"] async for row in queries.live_event_ids_since(conn, after_id=after, limit=limit)]


async def events_by_rowids(conn: Any, rowids: list[int]) -> list[WorkerEvent]:
    """Those events, whole, in rowid order."""
    return await to_structs(WorkerEvent, queries.live_events_by_ids(conn, ids=json.dumps(rowids)))


async def broadcasts_since(conn: Any, after: int, limit: int) -> list[BroadcastRow]:
    """Broadcast rows committed after `after`, oldest first."""
    return await to_structs(BroadcastRow, queries.live_broadcasts_since(conn, after_id=after, limit=limit))


async def prune(conn: Any, broadcasts_before: str, ingest_keys_before: str) -> None:
    """Drop broadcasts every process has long read, and idempotency keys past any retry."""
    await queries.live_prune_broadcasts(conn, before=broadcasts_before)
    await queries.live_prune_ingest_keys(conn, before=ingest_keys_before)

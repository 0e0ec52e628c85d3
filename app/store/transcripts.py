"""What workers did on a ticket: its stream-json events, the newest first, paged."""

from __future__ import annotations

import msgspec

from app.db import Database
from app.store import queries, to_structs
from app.store.events import WorkerEvent


class Page(msgspec.Struct, frozen=True):
    """The newest rows of a long list, and how many there are in all."""

    total: int
    showing_all: bool
    shown: int = 0


async def list_events(db: Database, ticket_id: int, limit: int | None) -> tuple[list[WorkerEvent], Page]:
    """The newest `limit` events (None: all) in seq order, and how many there are."""
    async with db.read() as conn:
        rows = await to_structs(
            WorkerEvent, queries.events_newest(conn, ticket_id=ticket_id, limit=-1 if limit is None else limit)
        )
        total = await queries.transcripts_count_events(conn, ticket_id=ticket_id)
    return rows, Page(total=total, showing_all=len(rows) >= total, shown=len(rows))

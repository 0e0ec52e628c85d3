"""What workers did on a ticket: its stream-json events, the newest first, paged."""

from __future__ import annotations

import msgspec

from app.db import Database
from app.store import queries, to_structs
from app.store.events import WorkerEvent


class Page(msgspec.Struct, frozen=True):
    """A page of a ticket's events (its newest, or those before a seq), and how many there are in all."""

    total: int
    showing_all: bool
    shown: int = 0
    first_seq: int = 0  # the oldest shown (the page before this one ends just before it)
    last_seq: int = 0
    before: int = 0  # the page's bound (0: the newest page)


async def list_events(
    db: Database, ticket_id: int, limit: int | None, before: int = 0
) -> tuple[list[WorkerEvent], Page]:
    """The newest `limit` events (None: all), or with `before` the `limit` just before that seq, in seq order;
    and how many there are."""
    async with db.read() as conn:
        if before:
            found = queries.events_before(conn, ticket_id=ticket_id, before=before, limit=limit or -1)
        else:
            found = queries.events_newest(conn, ticket_id=ticket_id, limit=-1 if limit is None else limit)
        rows = await to_structs(WorkerEvent, found)
        total = await queries.transcripts_count_events(conn, ticket_id=ticket_id)
    first, last = (rows[0].seq, rows[-1].seq) if rows else (0, 0)
    return rows, Page(total, len(rows) >= total, len(rows), first, last, before)

"""Reading worker events back: replay after a seq, and the ticket row id behind an identifier."""

from __future__ import annotations

import msgspec

from app.db import Database
from app.store import queries, to_structs


class StoredEvent(msgspec.Struct, frozen=True):
    """An event as stored."""

    seq: int
    event_type: str
    payload_json: str
    ts: str


async def ticket_id(db: Database, identifier: str) -> int | None:
    """The row id of the ticket `identifier`, if there is one."""
    async with db.read() as conn:
        found = await queries.events_ticket_id(conn, identifier=identifier)
    return int(found) if found is not None else None


async def events_after(db: Database, ticket: int, after: int, limit: int) -> list[StoredEvent]:
    """A ticket's events with seq > after, in order, at most `limit`."""
    async with db.read() as conn:
        return await to_structs(StoredEvent, queries.events_after(conn, ticket_id=ticket, after=after, limit=limit))


async def last_events(db: Database, ticket: int, limit: int) -> list[StoredEvent]:
    """A ticket's last `limit` events, oldest first."""
    async with db.read() as conn:
        return await to_structs(StoredEvent, queries.events_last(conn, ticket_id=ticket, limit=limit))

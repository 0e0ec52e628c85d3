"""Worker events as stored, the one shape every reader gets (replay, the tail, the page, the live path), and
reading them back: after a seq, or the newest few."""

from __future__ import annotations

import msgspec

from app.db import Database
from app.store import queries, to_structs


class WorkerEvent(msgspec.Struct, frozen=True, gc=False):
    """One stream-json event a worker posted to a ticket, as committed. `rowid` is the table's key: the live
    path knows each row by it (which process published it); `seq` is the ticket's own gap-free count.
    gc=False: strings and ints only, and a batch makes thousands."""

    rowid: int
    ticket_id: int
    seq: int
    event_type: str
    payload_json: str
    ts: str
    worker: str | None = None  # the worker token's name that posted it (None before this was kept)


async def ticket_id(db: Database, identifier: str) -> int | None:
    """The row id of the ticket `identifier`, if there is one."""
    async with db.read() as conn:
        found = await queries.events_ticket_id(conn, identifier=identifier)
    return int(found) if found is not None else None


async def events_after(db: Database, ticket: int, after: int, limit: int) -> list[WorkerEvent]:
    """A ticket's events with seq > after, in order, at most `limit`."""
    async with db.read() as conn:
        return await to_structs(WorkerEvent, queries.events_after(conn, ticket_id=ticket, after=after, limit=limit))


async def last_events(db: Database, ticket: int, limit: int) -> list[WorkerEvent]:
    """A ticket's last `limit` events, oldest first."""
    async with db.read() as conn:
        return await to_structs(WorkerEvent, queries.events_newest(conn, ticket_id=ticket, limit=limit))


async def run_start(db: Database, ticket: int, seq: int) -> int:
    """The seq at which the run holding event `seq` began (see app/run_view.py for what a run is)."""
    async with db.read() as conn:
        return int(await queries.events_run_start(conn, ticket_id=ticket, seq=seq))


async def events_between(db: Database, ticket: int, first: int, last: int) -> list[WorkerEvent]:
    """A ticket's events from seq `first` to `last`, in order."""
    if last < first:
        return []
    return await events_after(db, ticket, first - 1, last - first + 1)


async def identifier_of(db: Database, ticket: int) -> str | None:
    """The identifier of the ticket with row id `ticket`."""
    async with db.read() as conn:
        found = await queries.events_identifier(conn, ticket_id=ticket)
    return str(found) if found is not None else None


async def last_seq(db: Database, ticket: int) -> int:
    """The ticket's last seq (0 when it has no events)."""
    async with db.read() as conn:
        return int(await queries.events_last_seq(conn, ticket_id=ticket))

"""Tickets as the JSON API shows them: one ticket with its tags, and filtered pages by an opaque cursor."""

from __future__ import annotations

import re

import msgspec

from app.db import Database
from app.store import queries, to_struct, to_structs
from app.store.board import BoardFilter
from app.store.tickets import Ticket

MAX_ID = 2**63 - 1  # SQLite's largest rowid: "before this id" is the first page
# Versioned, so the format can change without misreading old ones; the pattern is the API's documented one.
CURSOR_PATTERN = r"^t1\.[1-9][0-9]{0,17}$"
_CURSOR = re.compile(r"t1\.([1-9][0-9]{0,17})")


class CursorError(ValueError):
    """A cursor this API did not hand out."""


class TicketItem(msgspec.Struct, frozen=True):
    """A ticket as the JSON API shows it (no internal id or board position)."""

    identifier: str
    title: str
    description: str
    status: str
    priority: int
    assigned_to: str | None
    tags: list[str]
    created_at: str
    updated_at: str


class TicketList(msgspec.Struct, frozen=True):
    """One page of tickets; `next_cursor` asks for the next one (null on the last page)."""

    items: list[TicketItem]
    next_cursor: str | None


class _Row(Ticket, frozen=True):
    """A ticket row with its tags as the query gives them (space-separated)."""

    tags: str | None = None

    def item(self) -> TicketItem:
        return TicketItem(
            identifier=self.identifier,
            title=self.title,
            description=self.description,
            status=self.status,
            priority=self.priority,
            assigned_to=self.assigned_to,
            tags=sorted(self.tags.split()) if self.tags else [],
            created_at=self.created_at,
            updated_at=self.updated_at,
        )


def encode_cursor(before_id: int) -> str:
    """A cursor meaning "tickets with an id below `before_id`" (clients pass next_cursor back as it is)."""
    return f"t1.{before_id}"


def decode_cursor(cursor: str) -> int:
    """The id a cursor from `encode_cursor` stands for; CursorError for anything else."""
    found = _CURSOR.fullmatch(cursor)
    if found is None:
        raise CursorError("not a cursor this API gave out; use next_cursor from the previous page")
    return int(found.group(1))


async def get_ticket_item(db: Database, identifier: str) -> TicketItem | None:
    """A ticket with its tags by identifier (e.g. MC-747)."""
    async with db.read() as conn:
        row = to_struct(_Row, await queries.listing_ticket(conn, identifier=identifier))
    return None if row is None else row.item()


async def list_tickets(
    db: Database, status: str | None, filt: BoardFilter, cursor: str | None, limit: int
) -> TicketList:
    """A page of tickets under the filters, newest-created first, after `cursor` (raises CursorError)."""
    before_id = MAX_ID if cursor is None else decode_cursor(cursor)
    async with db.read() as conn:
        # One row more than asked shows whether another page follows, without a count.
        rows = queries.listing_tickets(conn, status=status, before_id=before_id, limit=limit + 1, **filt.params())
        found = await to_structs(_Row, rows)
    page = found[:limit]
    more = len(found) > limit
    return TicketList([r.item() for r in page], encode_cursor(page[-1].id) if more else None)

"""What workers said and did on a ticket: its messages, and its stream-json events (newest first, paged)."""

from __future__ import annotations

import msgspec

from app.db import Database
from app.store import queries, to_structs
from app.store.events import WorkerEvent
from app.text import first_line


class Message(msgspec.Struct, frozen=True):
    """One line of a worker's transcript; `summary` is its first line, for a folded tool call or thought."""

    id: int
    kind: str
    tool_name: str | None
    content: str
    created_at: str
    summary: str


class Page(msgspec.Struct, frozen=True):
    """The newest rows of a long list, and how many there are in all."""

    total: int
    showing_all: bool


class _MessageRow(msgspec.Struct, frozen=True):
    id: int
    kind: str
    tool_name: str | None
    content: str
    created_at: str


async def list_messages(db: Database, ticket_id: int, limit: int | None) -> tuple[list[Message], Page]:
    """The newest `limit` messages (None: all), oldest first, and how many there are."""
    async with db.read() as conn:
        rows = await to_structs(
            _MessageRow,
            queries.transcripts_newest_messages(conn, ticket_id=ticket_id, limit=-1 if limit is None else limit),
        )
        total = await queries.transcripts_count_messages(conn, ticket_id=ticket_id)
    messages = [Message(**msgspec.structs.asdict(r), summary=first_line(r.content, 160)) for r in rows]
    return messages, Page(total=total, showing_all=len(messages) >= total)


async def list_events(db: Database, ticket_id: int, limit: int | None) -> tuple[list[WorkerEvent], Page]:
    """The newest `limit` events (None: all) in seq order, and how many there are."""
    async with db.read() as conn:
        rows = await to_structs(
            WorkerEvent, queries.events_newest(conn, ticket_id=ticket_id, limit=-1 if limit is None else limit)
        )
        total = await queries.transcripts_count_events(conn, ticket_id=ticket_id)
    return rows, Page(total=total, showing_all=len(rows) >= total)

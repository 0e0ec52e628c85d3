"""Tickets, their comments and tags: the board's and the ticket page's data."""

from __future__ import annotations

import secrets

import msgspec

from app.db import Database
from app.store import queries, to_struct, to_structs

# Board columns, in the order the board shows them.
STATUSES: tuple[str, ...] = ("backlog", "todo", "in_progress", "review", "blocked", "done")
STATUS_LABELS = {
    "backlog": "Backlog",
    "todo": "To do",
    "in_progress": "In progress",
    "review": "Review",
    "blocked": "Blocked",
    "done": "Done",
}
PRIORITY_LABELS = {1: "Urgent", 2: "High", 3: "Medium", 4: "Low"}


class Card(msgspec.Struct, frozen=True):
    """What a board card shows."""

    id: int
    identifier: str
    title: str
    status: str
    priority: int
    assigned_to: str | None
    updated_at: str
    tags: str | None = None

    @property
    def tag_list(self) -> list[str]:
        """Tags, sorted."""
        return sorted(self.tags.split()) if self.tags else []


class Ticket(msgspec.Struct, frozen=True):
    """A whole ticket."""

    id: int
    identifier: str
    title: str
    description: str
    status: str
    priority: int
    assigned_to: str | None
    created_at: str
    updated_at: str


class Comment(msgspec.Struct, frozen=True):
    """One comment in a ticket's conversation."""

    id: int
    author: str
    body: str
    created_at: str


class StatusCount(msgspec.Struct, frozen=True):
    """How many tickets have a status."""

    status: str
    n: int


async def create_ticket(
    db: Database,
    prefix: str,
    title: str,
    description: str = "",
    status: str = "backlog",
    priority: int = 3,
    assigned_to: str | None = None,
    tags: list[str] | None = None,
) -> str:
    """Create a ticket with its tags in one transaction; return its identifier."""
    async with db.write() as conn:
        ticket_id = await queries.insert_ticket(
            conn,
            placeholder="new-" + secrets.token_hex(8),
            title=title,
            description=description,
            status=status,
            priority=priority,
            assigned_to=assigned_to,
        )
        await queries.set_identifier(conn, prefix=prefix, id=ticket_id)
        for tag in tags or []:
            await queries.add_tag(conn, ticket_id=ticket_id, tag=tag)
    return f"{prefix}-{ticket_id}"


async def get_ticket(db: Database, identifier: str) -> Ticket | None:
    """A ticket by its identifier (e.g. MC-747)."""
    async with db.read() as conn:
        return to_struct(Ticket, await queries.ticket_by_identifier(conn, identifier=identifier))


async def list_column(db: Database, status: str, limit: int = 30) -> list[Card]:
    """The newest-updated cards of one board column."""
    async with db.read() as conn:
        return await to_structs(Card, queries.board_column(conn, status=status, limit=limit))


async def list_board(db: Database, limit: int = 30) -> dict[str, list[Card]]:
    """Every column's first page, in board order, on one connection."""
    async with db.read() as conn:
        return {
            status: await to_structs(Card, queries.board_column(conn, status=status, limit=limit))
            for status in STATUSES
        }


async def count_by_status(db: Database) -> dict[str, int]:
    """Ticket counts for every status (zero included)."""
    async with db.read() as conn:
        counts = await to_structs(StatusCount, queries.count_by_status(conn))
    found = {c.status: c.n for c in counts}
    return {status: found.get(status, 0) for status in STATUSES}


async def list_comments(db: Database, ticket_id: int) -> list[Comment]:
    """A ticket's conversation, oldest first."""
    async with db.read() as conn:
        return await to_structs(Comment, queries.comments_of_ticket(conn, ticket_id=ticket_id))


async def list_tags(db: Database, ticket_id: int) -> list[str]:
    """A ticket's tags, sorted."""
    async with db.read() as conn:
        return [row["tag"] async for row in queries.tags_of_ticket(conn, ticket_id=ticket_id)]


async def add_comment(db: Database, ticket_id: int, author: str, body: str) -> int:
    """Append a comment and mark the ticket updated; return the comment id."""
    async with db.write() as conn:
        comment_id = await queries.insert_comment(conn, ticket_id=ticket_id, author=author, body=body)
        await queries.touch_ticket(conn, ticket_id=ticket_id)
    return int(comment_id)

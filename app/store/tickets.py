"""Tickets, their comments and tags: create, change, move, delete, read."""

from __future__ import annotations

import secrets
from typing import Any

import msgspec

from app.autotag import suggest_tags
from app.db import Database
from app.store import queries, to_struct, to_structs
from app.store.board import Card

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
# Gap left below a card placed after the last one loaded (ms of sort_key; any positive number works).
_KEY_STEP = 1000.0
# Keys are epoch ms (~1.8e12), where a double resolves ~0.0002: below this gap a midpoint is not safe.
_MIN_GAP = 0.01


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


class TicketPatch(msgspec.Struct, frozen=True, kw_only=True):
    """Fields to change; UNSET leaves a field as it is (assigned_to may be set to None)."""

    title: str | msgspec.UnsetType = msgspec.UNSET
    description: str | msgspec.UnsetType = msgspec.UNSET
    priority: int | msgspec.UnsetType = msgspec.UNSET
    assigned_to: str | msgspec.UnsetType | None = msgspec.UNSET
    status: str | msgspec.UnsetType = msgspec.UNSET


class _Place(msgspec.Struct, frozen=True):
    id: int
    status: str
    sort_key: float


def _value(value: object) -> object:
    return None if value is msgspec.UNSET else value


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
    """Create a ticket (tags suggested from its text unless given) in one transaction; return its identifier."""
    chosen = suggest_tags(title, description) if tags is None else tags
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
        for tag in chosen:
            await queries.add_tag(conn, ticket_id=ticket_id, tag=tag)
    return f"{prefix}-{ticket_id}"


async def get_ticket(db: Database, identifier: str) -> Ticket | None:
    """A ticket by its identifier (e.g. MC-747)."""
    async with db.read() as conn:
        return to_struct(Ticket, await queries.ticket_by_identifier(conn, identifier=identifier))


async def update_ticket(db: Database, ticket_id: int, patch: TicketPatch) -> None:
    """Change a ticket's fields in one transaction (a status change moves it to the top of its new column)."""
    async with db.write() as conn:
        await queries.update_ticket(
            conn,
            id=ticket_id,
            title=_value(patch.title),
            description=_value(patch.description),
            priority=_value(patch.priority),
            set_assignee=patch.assigned_to is not msgspec.UNSET,
            assigned_to=_value(patch.assigned_to),
        )
        if patch.status is not msgspec.UNSET:
            await queries.move_to_top(conn, id=ticket_id, status=patch.status)


async def move_ticket(db: Database, ticket_id: int, status: str, after: str | None = None) -> None:
    """Move a card into `status`: on top, or placed by hand right below the card `after`."""
    async with db.write() as conn:
        anchor = None
        if after is not None:
            anchor = to_struct(_Place, await queries.ticket_place(conn, identifier=after))
        if after is None or anchor is None or anchor.status != status or anchor.id == ticket_id:
            await queries.move_to_top(conn, id=ticket_id, status=status)
            return
        key = await _key_below(conn, status, after, ticket_id)
        if key is None:  # no room left between two keys: space the column out, then there is
            await queries.respace_column(conn, status=status)
            key = await _key_below(conn, status, after, ticket_id)
        await queries.move_to_key(conn, id=ticket_id, status=status, sort_key=key)


async def _key_below(conn: Any, status: str, after: str, moving_id: int) -> float | None:
    """A key right below the card `after` (above the next one), or None when the two keys are too close."""
    anchor = to_struct(_Place, await queries.ticket_place(conn, identifier=after))
    assert anchor is not None
    rows = queries.board_next_page(
        conn, status=status, assignee=None, tag=None, priority=None, match=None,
        after_key=anchor.sort_key, after_id=anchor.id, limit=2,
    )  # fmt: skip
    below = [k for k in await to_structs(Card, rows) if k.id != moving_id]
    if not below:
        return anchor.sort_key - _KEY_STEP
    if anchor.sort_key - below[0].sort_key < _MIN_GAP:
        return None
    return (anchor.sort_key + below[0].sort_key) / 2


async def delete_ticket(db: Database, ticket_id: int) -> None:
    """Delete a ticket and everything that hangs off it."""
    async with db.write() as conn:
        await queries.delete_ticket(conn, id=ticket_id)


async def set_tags(db: Database, ticket_id: int, tags: list[str]) -> None:
    """Replace a ticket's tags with `tags`."""
    async with db.write() as conn:
        await queries.clear_tags(conn, ticket_id=ticket_id)
        for tag in tags:
            await queries.add_tag(conn, ticket_id=ticket_id, tag=tag)
        await queries.touch_ticket(conn, ticket_id=ticket_id)


async def list_comments(db: Database, ticket_id: int) -> list[Comment]:
    """A ticket's conversation, oldest first."""
    async with db.read() as conn:
        return await to_structs(Comment, queries.comments_of_ticket(conn, ticket_id=ticket_id))


async def list_tags(db: Database, ticket_id: int) -> list[str]:
    """A ticket's tags, sorted."""
    async with db.read() as conn:
        return [row["tag"] async for row in queries.tags_of_ticket(conn, ticket_id=ticket_id)]


async def add_comment(db: Database, ticket_id: int, author: str, body: str) -> Comment:
    """Append a comment and mark the ticket updated; return the stored comment."""
    async with db.write() as conn:
        comment_id = await queries.insert_comment(conn, ticket_id=ticket_id, author=author, body=body)
        await queries.touch_ticket(conn, ticket_id=ticket_id)
        comment = to_struct(Comment, await queries.comment_by_id(conn, id=comment_id))
    assert comment is not None
    return comment

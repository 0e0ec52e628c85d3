"""Tickets, their comments and tags: create, change, move, delete, read."""

from __future__ import annotations

import secrets
from typing import Any

import msgspec

from app.autotag import suggest_tags
from app.db import Database
from app.store import queries, to_struct, to_structs
from app.store.board import Card


def no_such_ticket(identifier: str) -> str:
    """What to say of an identifier that names no ticket (every route and store says it this way)."""
    return f"There is no ticket {identifier[:100]}."


# Gap left below a card placed after the last one loaded (ms of sort_key; any positive number works).
_KEY_STEP = 1000.0
# Keys are epoch ms (~1.8e12), where a double resolves ~0.0002: below this gap a midpoint is not safe.
_MIN_GAP = 0.01
# Re-spacing aims for at least this much between neighbours, looking this far down the column.
_SPACING = 1.0
_RESPACE_WINDOW = 200


class PageVersion(msgspec.Struct, frozen=True):
    """What a ticket page shows, as a version: equal versions, equal pages (see tickets_page_version)."""

    ticket_id: int
    updated_at: str
    last_seq: int
    comments: str
    sent: str
    context: str
    links: str
    sessions: str
    board: str


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
    tags: list[str] | msgspec.UnsetType = msgspec.UNSET

    @property
    def changes_fields(self) -> bool:
        """Whether anything besides the tags changes."""
        return any(
            v is not msgspec.UNSET for v in (self.title, self.description, self.priority, self.assigned_to, self.status)
        )


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
        ticket_id = await queries.tickets_insert(
            conn,
            placeholder="new-" + secrets.token_hex(8),
            title=title,
            description=description,
            status=status,
            priority=priority,
            assigned_to=assigned_to,
        )
        await queries.tickets_set_identifier(conn, prefix=prefix, id=ticket_id)
        for tag in chosen:
            await queries.tickets_add_tag(conn, ticket_id=ticket_id, tag=tag)
    return f"{prefix}-{ticket_id}"


async def get_ticket(db: Database, identifier: str) -> Ticket | None:
    """A ticket by its identifier (e.g. MC-747)."""
    async with db.read() as conn:
        return to_struct(Ticket, await queries.tickets_by_identifier(conn, identifier=identifier))


async def update_ticket(db: Database, ticket_id: int, patch: TicketPatch) -> None:
    """Change a ticket's fields and tags in one transaction (a new status puts it on top of that column)."""
    async with db.write() as conn:
        if patch.changes_fields:
            await queries.tickets_update(
                conn,
                id=ticket_id,
                title=_value(patch.title),
                description=_value(patch.description),
                priority=_value(patch.priority),
                set_assignee=patch.assigned_to is not msgspec.UNSET,
                assigned_to=_value(patch.assigned_to),
            )
        if patch.status is not msgspec.UNSET:
            await queries.tickets_move_to_top(conn, id=ticket_id, status=patch.status)
        if patch.tags is not msgspec.UNSET:
            await _replace_tags(conn, ticket_id, patch.tags, touch=not patch.changes_fields)


async def _replace_tags(conn: Any, ticket_id: int, tags: list[str], touch: bool) -> None:
    await queries.tickets_clear_tags(conn, ticket_id=ticket_id)
    for tag in tags:
        await queries.tickets_add_tag(conn, ticket_id=ticket_id, tag=tag)
    if touch:
        await queries.tickets_touch(conn, ticket_id=ticket_id)


async def move_ticket(db: Database, ticket_id: int, status: str, after: str | None = None) -> None:
    """Move a card into `status`: on top, or placed by hand right below the card `after`."""
    async with db.write() as conn:
        anchor = None
        if after is not None:
            anchor = to_struct(_Place, await queries.tickets_place(conn, identifier=after))
        if anchor is None or anchor.status != status or anchor.id == ticket_id:
            await queries.tickets_move_to_top(conn, id=ticket_id, status=status)
            return
        below = await _cards_below(conn, anchor, ticket_id, _RESPACE_WINDOW)
        if not below:
            key = anchor.sort_key - _KEY_STEP
        elif anchor.sort_key - below[0].sort_key >= _MIN_GAP:
            key = (anchor.sort_key + below[0].sort_key) / 2
        else:
            key = await _respace_below(conn, anchor, below)
        await queries.tickets_move_to_key(conn, id=ticket_id, status=status, sort_key=key)


async def _cards_below(conn: Any, anchor: _Place, moving_id: int, limit: int) -> list[Card]:
    """The cards right below `anchor` in its column, not counting the one being moved."""
    rows = queries.board_next_page(
        conn, status=anchor.status, assignee=None, tag=None, priority=None, match=None,
        after_key=anchor.sort_key, after_id=anchor.id, limit=limit + 1,
    )  # fmt: skip
    return [c for c in await to_structs(Card, rows) if c.id != moving_id][:limit]


async def _respace_below(conn: Any, anchor: _Place, below: list[Card]) -> float:
    """Make room right below `anchor`; return the key for the card going there.

    Only the cramped run of cards below the anchor moves, spread evenly over the gap down to the first card
    with room to spare, so no card crosses another; each moved card's placed_at changes, so a page drawn
    before hands it over on its next load-more instead of losing it.
    """
    for k, floor_card in enumerate(below):
        if anchor.sort_key - floor_card.sort_key >= (k + 2) * _SPACING:
            floor = floor_card.sort_key
            run = below[:k]
            break
    else:  # the whole window is cramped: spread it below the anchor
        floor, run = anchor.sort_key - (len(below) + 2) * _KEY_STEP, below
    step = (anchor.sort_key - floor) / (len(run) + 2)
    for i, card in enumerate(run):
        await queries.tickets_set_place(conn, id=card.id, sort_key=anchor.sort_key - (i + 2) * step)
    return anchor.sort_key - step


async def delete_ticket(db: Database, ticket_id: int) -> None:
    """Delete a ticket and everything that hangs off it."""
    async with db.write() as conn:
        await queries.tickets_delete(conn, id=ticket_id)


async def set_tags(db: Database, ticket_id: int, tags: list[str]) -> None:
    """Replace a ticket's tags with `tags`."""
    async with db.write() as conn:
        await _replace_tags(conn, ticket_id, tags, touch=True)


async def page_version(db: Database, identifier: str) -> PageVersion | None:
    """The ticket page's version (None: no such ticket), in one read."""
    async with db.read() as conn:
        return to_struct(PageVersion, await queries.tickets_page_version(conn, identifier=identifier))


async def list_comments(db: Database, ticket_id: int) -> list[Comment]:
    """A ticket's conversation, oldest first."""
    async with db.read() as conn:
        return await to_structs(Comment, queries.tickets_comments(conn, ticket_id=ticket_id))


async def list_tags(db: Database, ticket_id: int) -> list[str]:
    """A ticket's tags, sorted."""
    async with db.read() as conn:
        return [row["tag"] async for row in queries.tickets_tags(conn, ticket_id=ticket_id)]


async def add_comment(db: Database, ticket_id: int, author: str, body: str) -> Comment:
    """Append a comment and mark the ticket updated; return the stored comment."""
    async with db.write() as conn:
        comment_id = await queries.tickets_insert_comment(conn, ticket_id=ticket_id, author=author, body=body)
        await queries.tickets_touch(conn, ticket_id=ticket_id)
        comment = to_struct(Comment, await queries.tickets_comment_by_id(conn, id=comment_id))
    assert comment is not None
    return comment

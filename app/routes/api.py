"""The JSON API that workers and scripts call with bearer tokens."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

import msgspec
from litestar import Request, delete, get, patch, post, put
from litestar.exceptions import (
    NotFoundException,
)
from litestar.params import FromPath, JSONBody, Parameter

from app.apierrors import JSON_ERRORS, bad_input
from app.auth import WORKER
from app.autotag import TAG_PATTERN, clean_tags
from app.lookup import find_target, find_ticket, no_such_ticket
from app.openapi import refusals
from app.rules import Assignee, Body, Description, Priority, Status, Title
from app.state import app_state
from app.store import listing, ops, tickets
from app.store.board import BoardFilter

DOCS: dict[str, Any] = {"tags": ["Tickets"], "raises": [NotFoundException]}

Tag = Annotated[
    str,
    msgspec.Meta(
        pattern=TAG_PATTERN, description="Letters, digits, - and _, 1-40 (a leading # is dropped); kept lower-case"
    ),
]
Tags = Annotated[list[Tag], msgspec.Meta(max_length=50, description="Each tag once (repeats are dropped)")]


def _not_blank(field: str, value: object) -> None:
    if isinstance(value, str) and not value.strip():
        raise ValueError(f"{field} must not be blank")


class HeartbeatIn(msgspec.Struct, frozen=True):
    """A worker's health report."""

    worker: Annotated[str, msgspec.Meta(min_length=1, max_length=80, description="The worker's name")]
    status: Literal["ok", "busy", "idle", "degraded", "down"]
    ticket: (
        Annotated[
            str, msgspec.Meta(min_length=1, max_length=100, description="Identifier of the ticket being worked on")
        ]
        | None
    ) = None
    detail: Annotated[str, msgspec.Meta(max_length=2000)] = ""


class HeartbeatOut(msgspec.Struct, frozen=True):
    """The stored heartbeat's id."""

    id: int


class TicketIn(msgspec.Struct, frozen=True, kw_only=True):
    """A new ticket; tags omitted (or null) are suggested from its text, a list (even empty) is used as given."""

    title: Title
    description: Description = ""
    status: Status = "backlog"
    priority: Priority = 3
    assigned_to: Assignee | None = None
    tags: Tags | None = None

    def __post_init__(self) -> None:
        _not_blank("title", self.title)


class TicketChanges(msgspec.Struct, frozen=True, kw_only=True):
    """Fields to change: omitted ones stay as they are; assigned_to null unassigns."""

    title: Title | msgspec.UnsetType = msgspec.UNSET
    description: Description | msgspec.UnsetType = msgspec.UNSET
    status: Status | msgspec.UnsetType = msgspec.UNSET
    priority: Priority | msgspec.UnsetType = msgspec.UNSET
    assigned_to: Assignee | msgspec.UnsetType | None = msgspec.UNSET
    tags: Tags | msgspec.UnsetType = msgspec.UNSET

    def __post_init__(self) -> None:
        _not_blank("title", self.title)

    def fields(self) -> tickets.TicketPatch:
        """The store's patch: every field given, tags cleaned, all applied in one transaction."""
        title = self.title if isinstance(self.title, msgspec.UnsetType) else self.title.strip()
        return tickets.TicketPatch(
            title=title,
            description=self.description,
            status=self.status,
            priority=self.priority,
            assigned_to=self.assigned_to,
            tags=self.tags if isinstance(self.tags, msgspec.UnsetType) else cleaned(self.tags),
        )


class CommentIn(msgspec.Struct, frozen=True):
    """A comment on a ticket (its author is the token's name)."""

    body: Body

    def __post_init__(self) -> None:
        _not_blank("body", self.body)


class TagList(msgspec.Struct, frozen=True):
    """A ticket's whole set of tags."""

    tags: Tags


def cleaned(tags: list[str]) -> list[str]:
    """Tags normalised by clean_tags, or a 400 that says which tag is wrong."""
    for tag in tags:  # msgspec's pattern check lets a trailing newline through ($); the documented rule does not
        if not re.fullmatch(TAG_PATTERN.strip("^$"), tag):
            raise bad_input("tags", f"a tag is 1-40 letters, digits, - or _; {tag!r} is not", "body")
    try:
        return clean_tags(tags)
    except ValueError as exc:
        raise bad_input("tags", str(exc), "body") from None


async def item_of(request: Request[Any, Any, Any], identifier: str) -> listing.TicketItem:
    """The ticket as the API shows it, or a 404 that names it."""
    item = await listing.get_ticket_item(app_state(request).db, identifier.upper())
    if item is None:
        raise NotFoundException(no_such_ticket(identifier))
    return item


@get("/api/v1/tickets", cache=False, opt=WORKER, tags=["Tickets"])
async def list_tickets(
    request: Request[Any, Any, Any],
    status: Annotated[Status | None, Parameter(description="Only this column")] = None,
    assignee: Annotated[str | None, Parameter(max_length=80, description='Who; "none" for unassigned')] = None,
    tag: Annotated[str | None, Parameter(max_length=40, description="Only tickets with this tag")] = None,
    priority: Annotated[int | None, Parameter(ge=1, le=4, description="1 urgent … 4 low")] = None,
    q: Annotated[str | None, Parameter(max_length=1000, description="Words in the title or description")] = None,
    limit: Annotated[int, Parameter(ge=1, le=200, description="Tickets per page")] = 50,
    cursor: Annotated[
        str | None, Parameter(pattern=listing.CURSOR_PATTERN, description="next_cursor of the previous page")
    ] = None,
) -> listing.TicketList:
    """Tickets under the filters, newest-created first, a page at a time (pass next_cursor back as cursor)."""
    filt = BoardFilter(assignee=assignee or None, tag=(tag or "").lower() or None, priority=priority, q=q)
    try:
        return await listing.list_tickets(app_state(request).db, status, filt, cursor or None, limit)
    except listing.CursorError as exc:
        raise bad_input("cursor", str(exc), "query") from None


@post("/api/v1/tickets", opt=WORKER, status_code=201, exception_handlers=JSON_ERRORS, tags=["Tickets"])
async def create_ticket(request: Request[Any, Any, Any], data: JSONBody[TicketIn]) -> listing.TicketItem:
    """Create a ticket; the answer carries its new identifier."""
    mc = app_state(request)
    tags = None if data.tags is None else cleaned(data.tags)
    identifier = await tickets.create_ticket(
        mc.db, mc.settings.ticket_prefix, data.title.strip(), data.description,
        data.status, data.priority, data.assigned_to, tags,
    )  # fmt: skip
    return await item_of(request, identifier)


@get("/api/v1/tickets/{identifier:str}", cache=False, opt=WORKER, **DOCS)
async def get_ticket(request: Request[Any, Any, Any], identifier: FromPath[str]) -> listing.TicketItem:
    """One ticket with its tags."""
    return await item_of(request, identifier)


@patch("/api/v1/tickets/{identifier:str}", opt=WORKER, exception_handlers=JSON_ERRORS, **DOCS)
async def patch_ticket(
    request: Request[Any, Any, Any], identifier: FromPath[str], data: JSONBody[TicketChanges]
) -> listing.TicketItem:
    """Change any of a ticket's fields; a new status puts it on top of that column."""
    db = app_state(request).db
    ticket = await find_ticket(request, identifier)
    await tickets.update_ticket(db, ticket.id, data.fields())
    return await item_of(request, ticket.identifier)


@delete("/api/v1/tickets/{identifier:str}", **DOCS)  # admin only: no worker opt
async def delete_ticket(request: Request[Any, Any, Any], identifier: FromPath[str]) -> None:
    """Delete a ticket with its comments, tags and history."""
    ticket = await find_ticket(request, identifier)
    await tickets.delete_ticket(app_state(request).db, ticket.id)


@post("/api/v1/tickets/{identifier:str}/comments", opt=WORKER, status_code=201, exception_handlers=JSON_ERRORS, **DOCS)
async def post_comment(
    request: Request[Any, Any, Any], identifier: FromPath[str], data: JSONBody[CommentIn]
) -> tickets.Comment:
    """Add a comment to a ticket's conversation, signed with the token's name."""
    ticket = await find_ticket(request, identifier)
    return await tickets.add_comment(app_state(request).db, ticket.id, request.user.name, data.body.strip())


@put("/api/v1/tickets/{identifier:str}/tags", opt=WORKER, exception_handlers=JSON_ERRORS, **DOCS)
async def put_tags(request: Request[Any, Any, Any], identifier: FromPath[str], data: JSONBody[TagList]) -> TagList:
    """Replace a ticket's tags with the given list."""
    db = app_state(request).db
    ticket = await find_ticket(request, identifier)
    await tickets.set_tags(db, ticket.id, cleaned(data.tags))
    return TagList(await tickets.list_tags(db, ticket.id))


@post(
    "/api/v1/heartbeats", opt=WORKER, status_code=201, exception_handlers=JSON_ERRORS,
    responses=refusals({422: "The ticket named in the body does not exist"}),
)  # fmt: skip
async def post_heartbeat(request: Request[Any, Any, Any], data: JSONBody[HeartbeatIn]) -> HeartbeatOut:
    """Record a worker's heartbeat (the Team and Overview pages read them)."""
    db = app_state(request).db
    target = await find_target(request, data.ticket)
    ticket = target.identifier if target else None
    return HeartbeatOut(await ops.record_heartbeat(db, data.worker, data.status, data.detail, ticket))


ROUTES = [list_tickets, create_ticket, get_ticket, patch_ticket, delete_ticket, post_comment, put_tags, post_heartbeat]

"""The JSON API that workers and scripts call with bearer tokens."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

import msgspec
from litestar import Request, Response, delete, get, patch, post, put
from litestar.enums import MediaType
from litestar.exceptions import (
    ClientException,
    HTTPException,
    NotFoundException,
    SerializationException,
    ValidationException,
)
from litestar.params import FromPath, JSONBody, Parameter
from litestar.types import ExceptionHandlersMap

from app.autotag import TAG_PATTERN, clean_tags
from app.openapi import refusals
from app.routes.tickets import find_ticket
from app.state import app_state
from app.store import listing, ops, tickets
from app.store.board import BoardFilter

WORKER = {"worker": True}  # worker tokens may call these (agents file follow-ups and move their tickets)
DOCS: dict[str, Any] = {"tags": ["Tickets"], "raises": [NotFoundException]}

Status = Literal["backlog", "todo", "in_progress", "review", "blocked", "done"]  # tickets.STATUSES; a test checks
NO_NUL = r"^[^\x00]*$"  # see app/edits.py: SQLite's length() stops at a NUL
Title = Annotated[
    str, msgspec.Meta(min_length=1, max_length=300, pattern=NO_NUL, description="1-300 characters, not blank")
]
Description = Annotated[
    str, msgspec.Meta(max_length=100_000, pattern=NO_NUL, description="Markdown, up to 100,000 characters")
]
Priority = Annotated[int, msgspec.Meta(ge=1, le=4, description="1 urgent, 2 high, 3 medium, 4 low")]
Assignee = Annotated[str, msgspec.Meta(min_length=1, max_length=80, description="Who works on it")]
Tag = Annotated[
    str,
    msgspec.Meta(
        pattern=TAG_PATTERN, description="Letters, digits, - and _, 1-40 (a leading # is dropped); kept lower-case"
    ),
]
Tags = Annotated[list[Tag], msgspec.Meta(max_length=50, description="Each tag once (repeats are dropped)")]
Body = Annotated[str, msgspec.Meta(min_length=1, max_length=100_000, pattern=NO_NUL, description="Markdown, not blank")]

# A hint after msgspec's message, for ticket fields whose rule it states only in part. Only the ticket routes
# themselves get them: other bodies (heartbeats, sub-resources) may have fields of the same name with other rules.
TICKET_PATH = re.compile(r"/api/v1/tickets(/[^/]+)?")
HINTS = {
    "status": "status is one of " + ", ".join(tickets.STATUSES),
    "priority": "priority must be 1-4 (1 is urgent, 4 is low)",
}


# Hints for fields whose rule is the same in every body that has them.
EVERYWHERE = {
    "tags": "a tag is 1-40 letters, digits, - or _, like ui-polish",
    "title": "a title cannot contain a NUL character",
    "description": "a description cannot contain a NUL character",
    "body": "a text cannot contain a NUL character",
    "vault_path": "a vault path is relative to the vault (no leading / or drive), with no '..' part and no control "
    "characters",
    "last_event_id": "the Last-Event-ID header must be a seq, a whole number (browsers send back the id they got)",
}


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


def describe(problem: dict[str, Any], hints: dict[str, str]) -> str:
    """One problem from a ValidationException's `extra`, as a sentence that starts with the field's name."""
    key, message = problem.get("key"), str(problem.get("message", ""))
    if key in (None, "data"):  # the body as a whole; our own __post_init__ messages already name their field
        if message == "'data'":
            return "The request needs a JSON body."
        return f"request body: {message}" if message.startswith("Expected") else message
    hint = hints.get(str(key)) or EVERYWHERE.get(re.sub(r"\[\d+\]$", "", str(key)))
    if hint and message.startswith("Expected `str` matching regex"):
        return f"{key}: {hint}"  # the rule in words, not the regex
    return f"{key}: {message}" + (f"; {hint}" if hint else "")


def client_error(request: Request[Any, Any, Any], exc: ClientException) -> Response[Any]:
    """A 400 whose detail names the field at fault (Litestar's names only the route), as JSON."""
    detail, extra = exc.detail, exc.extra
    path = request.url.path
    if path.startswith("/api/"):
        if isinstance(exc, ValidationException) and isinstance(extra, list) and extra:
            hints = HINTS if TICKET_PATH.fullmatch(path) else {}
            detail = "; ".join(describe(p, hints) for p in extra if isinstance(p, dict)) or detail
        elif isinstance(exc.__cause__, SerializationException):  # Litestar says only "Input data was truncated"
            reason = detail.removeprefix("JSON is malformed: ")
            detail = f"The request body is not valid JSON: {reason[:1].lower()}{reason[1:]}."
    body: dict[str, Any] = {"status_code": exc.status_code, "detail": detail}
    if extra:
        body["extra"] = extra
    return Response(body, status_code=exc.status_code, media_type=MediaType.JSON, headers=exc.headers)


# Malformed JSON reaches handlers as a plain ClientException; the app-wide handler only sees ValidationException.
JSON_ERRORS: ExceptionHandlersMap = {ClientException: client_error}


def bad_input(key: str, message: str, source: str) -> ValidationException:
    """A 400 for one parameter or field, shaped like Litestar's own validation errors."""
    return ValidationException(detail=f"{key}: {message}", extra=[{"message": message, "key": key, "source": source}])


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
        raise NotFoundException(f"There is no ticket {identifier}.")
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
    if data.ticket is not None and await tickets.get_ticket(db, data.ticket.upper()) is None:
        raise HTTPException(status_code=422, detail=f"There is no ticket {data.ticket}.")
    ticket = data.ticket.upper() if data.ticket else None
    return HeartbeatOut(await ops.record_heartbeat(db, data.worker, data.status, data.detail, ticket))


ROUTES = [list_tickets, create_ticket, get_ticket, patch_ticket, delete_ticket, post_comment, put_tags, post_heartbeat]

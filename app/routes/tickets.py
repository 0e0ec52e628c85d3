"""The ticket page: header with inline edits, conversation, worker messages, links and the activity log."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response, get, post
from litestar.enums import MediaType
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.response import Redirect
from markupsafe import Markup

from app import markdown
from app.columns import known_choices
from app.db import Database
from app.edits import NUL, Edit, EditForm, parse_edit
from app.event_summary import EventRow, summarise
from app.frame import frame_for
from app.htmx import render, wants_fragment
from app.state import app_state
from app.store import links, queue, tickets, transcripts
from app.templates import render_html

# The newest this many messages and events come with the page; `?messages=all` / `?events=all` shows the rest.
SHOWN = 200
QUEUE_SHOWN = 10  # the ticket page lists this many of its newest queued messages; GET /api/v1/queue has all


class HeaderSection(msgspec.Struct, frozen=True):
    """Context of the header: the ticket's fields, and the choices its inline edits offer."""

    ticket: tickets.Ticket
    tags: list[str]
    assignees: list[str]
    statuses: dict[str, str]
    priorities: dict[int, str]
    can_write: bool


class RelationshipsSection(msgspec.Struct, frozen=True):
    """Context of the relationships section: links from both ends and the add form's kinds."""

    identifier: str
    links: list[links.LinkView]
    kinds: tuple[tuple[str, str], ...]
    statuses: dict[str, str]
    can_write: bool


class ContextSection(msgspec.Struct, frozen=True):
    """Context of the vault files section."""

    identifier: str
    files: list[links.ContextLink]
    actions: tuple[str, ...]
    can_write: bool


class MessagesSection(msgspec.Struct, frozen=True):
    """Context of the worker messages: the newest ones, oldest first, and a way to see all."""

    messages: list[transcripts.Message]
    page: transcripts.Page
    all_url: str


class ActivitySection(msgspec.Struct, frozen=True):
    """Context of the activity log: the newest events replayed in seq order, a way to see all, and the
    stream that appends what comes next (it starts after the last event replayed here, so none is missed)."""

    events: list[EventRow]
    page: transcripts.Page
    all_url: str
    stream_url: str = ""


class QueueSection(msgspec.Struct, frozen=True):
    """Context of the messages sent to the ticket's worker: the newest few with their status."""

    identifier: str
    worker: str | None  # the ticket's assignee; None means any worker may take them
    messages: list[queue.QueueItem]
    total: int
    sent: str = ""  # the confirmation shown after "Send to worker"


class TicketPage(msgspec.Struct, frozen=True):
    """Context of a ticket page: one section per fragment, top to bottom."""

    title: str
    ticket: tickets.Ticket
    header: HeaderSection
    relationships: RelationshipsSection
    context: ContextSection
    comments: list[tickets.Comment]
    messages: MessagesSection
    activity: ActivitySection
    queue: QueueSection
    can_write: bool


class CommentForm(msgspec.Struct, frozen=True):
    """What the comment composer posts."""

    body: str = ""


async def find_ticket(request: Request[Any, Any, Any], identifier: FromPath[str]) -> tickets.Ticket:
    """The ticket, or a 404 that names it."""
    ticket = await tickets.get_ticket(app_state(request).db, identifier.upper())
    if ticket is None:
        raise NotFoundException(f"There is no ticket {identifier}.")
    return ticket


def can_write(request: Request[Any, Any, Any]) -> bool:
    """Whether the page offers its forms (only admins may change a ticket from the page)."""
    return getattr(request.user, "scope", None) == "admin"


def refuse(status_code: int, message: str) -> Response[str]:
    """A refusal as plain text: app.js shows it as a toast for htmx, a browser shows it as the page."""
    return Response(message, status_code=status_code, media_type=MediaType.TEXT)


def swap_or_back(
    request: Request[Any, Any, Any], fragment: str, ctx: msgspec.Struct, identifier: str, anchor: str, said: str
) -> Response[Any]:
    """After a change: the re-rendered section (plus a spoken note) for htmx, a 303 back to the page otherwise."""
    if not wants_fragment(request):
        return Redirect(path=f"/ticket/{identifier}#{anchor}", status_code=303)
    html = render_html(fragment, ctx=ctx, frame=frame_for(request))
    # Screen readers hear what changed: the page's live region is replaced out of band.
    html += Markup('<p id="ticket-note" class="visually-hidden" role="status" hx-swap-oob="true">{}</p>').format(said)
    return Response(html, status_code=200, media_type=MediaType.HTML, headers={"Vary": "HX-Request"})


async def header_section(request: Request[Any, Any, Any], ticket: tickets.Ticket) -> HeaderSection:
    """The header's context."""
    db = app_state(request).db
    return HeaderSection(
        ticket=ticket,
        tags=await tickets.list_tags(db, ticket.id),
        assignees=(await known_choices(app_state(request)))[0],
        statuses=tickets.STATUS_LABELS,
        priorities=tickets.PRIORITY_LABELS,
        can_write=can_write(request),
    )


async def relationships_section(request: Request[Any, Any, Any], ticket: tickets.Ticket) -> RelationshipsSection:
    """The relationships section's context."""
    found = await links.list_links(app_state(request).db, ticket.id)
    return RelationshipsSection(ticket.identifier, found, links.FORM_KINDS, tickets.STATUS_LABELS, can_write(request))


async def context_section(request: Request[Any, Any, Any], ticket: tickets.Ticket) -> ContextSection:
    """The vault files section's context."""
    files = await links.list_context(app_state(request).db, ticket.id)
    return ContextSection(ticket.identifier, files, links.CONTEXT_ACTIONS, can_write(request))


async def queue_section(ticket: tickets.Ticket, db: Database, sent: str = "") -> QueueSection:
    """The queued-messages section's context."""
    items, total = await queue.list_for_ticket(db, ticket.id, QUEUE_SHOWN)
    return QueueSection(ticket.identifier, ticket.assigned_to, items, total, sent)


def page_url(identifier: str, messages: bool, events: bool, anchor: str) -> str:
    """The ticket page showing all messages and/or all events."""
    query = "&".join(name + "=all" for name, on in (("messages", messages), ("events", events)) if on)
    return f"/ticket/{identifier}?{query}#{anchor}"


@get("/ticket/{identifier:str}", cache=False)
async def ticket_page(
    request: Request[Any, Any, Any],
    identifier: FromPath[str],
    messages: FromQuery[str | None] = None,
    events: FromQuery[str | None] = None,
) -> Response[str]:
    """A ticket: header, description, links, conversation, worker messages and activity."""
    db = app_state(request).db
    ticket = await find_ticket(request, identifier)
    all_messages, all_events = messages == "all", events == "all"
    said, said_page = await transcripts.list_messages(db, ticket.id, None if all_messages else SHOWN)
    done, done_page = await transcripts.list_events(db, ticket.id, None if all_events else SHOWN)
    comments = await tickets.list_comments(db, ticket.id)
    await markdown.prepare([ticket.description, *(c.body for c in comments), *(m.content for m in said)])
    ctx = TicketPage(
        title=f"{ticket.identifier} {ticket.title}",
        ticket=ticket,
        header=await header_section(request, ticket),
        relationships=await relationships_section(request, ticket),
        context=await context_section(request, ticket),
        comments=comments,
        messages=MessagesSection(said, said_page, page_url(ticket.identifier, True, all_events, "messages")),
        activity=ActivitySection(
            [summarise(event) for event in done],
            done_page,
            page_url(ticket.identifier, all_messages, True, "activity"),
            f"/api/v1/tickets/{ticket.identifier}/stream?after={done[-1].seq if done else 0}",
        ),
        queue=await queue_section(ticket, db),
        can_write=can_write(request),
    )
    return render(request, "templates/page.html", "fragments/ticket/ticket.html", ctx)


async def apply_edit(request: Request[Any, Any, Any], ticket: tickets.Ticket, edit: Edit) -> None:
    """Store a checked edit in one transaction (a new status puts the card on top of its new column)."""
    if edit.patch != tickets.TicketPatch():
        await tickets.update_ticket(app_state(request).db, ticket.id, edit.patch)


@post("/ticket/{identifier:str}/edit", cache=False)
async def edit_ticket(
    request: Request[Any, Any, Any], identifier: FromPath[str], data: URLEncodedBody[EditForm]
) -> Response[Any]:
    """Change any of title, status, priority, assignee and tags: the new header for htmx, else back to the page."""
    ticket = await find_ticket(request, identifier)
    try:
        edit = parse_edit(data, ticket, await tickets.list_tags(app_state(request).db, ticket.id))
    except ValueError as exc:
        return refuse(400, str(exc))
    await apply_edit(request, ticket, edit)
    ticket = await find_ticket(request, ticket.identifier)
    ctx = await header_section(request, ticket)
    return swap_or_back(request, "fragments/ticket/header.html", ctx, ticket.identifier, "ticket", " ".join(edit.said))


def composer_text(raw: str, what: str) -> tuple[str, Response[Any] | None]:
    """The composer's text, or the 4xx that says what is wrong with it (`what`: "A comment", "A message")."""
    body = raw.strip()
    if not body:
        return body, refuse(400, f"{what} needs some text.")
    if len(body) > 100_000:
        return body, refuse(413, f"{what} can be at most 100,000 characters.")
    if NUL in body:
        return body, refuse(400, f"{what} cannot contain a NUL character.")
    return body, None


@post("/ticket/{identifier:str}/comments", cache=False)
async def add_comment(
    request: Request[Any, Any, Any],
    identifier: FromPath[str],
    data: URLEncodedBody[CommentForm],
) -> Response[Any]:
    """Append a comment: the new comment's fragment for htmx, a redirect back for a plain form."""
    ticket = await find_ticket(request, identifier)
    body, problem = composer_text(data.body, "A comment")
    if problem:
        return problem
    comment = await tickets.add_comment(app_state(request).db, ticket.id, request.user.name, body)
    if wants_fragment(request):
        await markdown.prepare([comment.body])
        html = render_html("fragments/ticket/comment.html", comment=comment)
        # The "No comments yet" line goes once there is one.
        html += Markup('<p id="no-comments" hx-swap-oob="delete"></p>')
        return Response(html, status_code=201, media_type=MediaType.HTML)
    return Redirect(path=f"/ticket/{ticket.identifier}#comment-{comment.id}", status_code=303)


ROUTES = [ticket_page, edit_ticket, add_comment]

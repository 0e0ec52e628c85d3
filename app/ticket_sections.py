"""The ticket page's sections (header, relationships, vault files, worker messages, activity, queue): each
one's context struct and how it is gathered. The page renders them all; a change to one section re-renders
just that one (swap_or_back), from whichever route made the change.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response
from litestar.enums import MediaType
from litestar.response import Redirect

from app import markdown, rules
from app.columns import known_choices
from app.db import Database
from app.frame import frame_for
from app.htmx import spoken_note, wants_fragment
from app.run_view import Run
from app.state import app_state
from app.store import links, queue, tickets, transcripts
from app.templates import render_html

QUEUE_SHOWN = 10  # the ticket page lists this many of its newest queued messages; GET /api/v1/queue has all


class HeaderSection(msgspec.Struct, frozen=True):
    """Context of the header: the ticket's fields, and the choices its inline edits offer."""

    ticket: tickets.Ticket
    tags: list[str]
    assignees: list[str]
    statuses: dict[str, str]
    priorities: dict[int, str]
    can_write: bool
    saved: list[str] = []  # the fields an edit just saved (each says "Saved" beside it)


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


class RunsSection(msgspec.Struct, frozen=True):
    """Context of the agent's runs: the newest events folded into runs, a way to see all, and the stream that
    brings what comes next (it starts after the last event shown here, so none is missed)."""

    identifier: str
    runs: list[Run]
    page: transcripts.Page
    all_url: str
    stream_url: str = ""
    stall_s: int = 600  # a running run with no event for this long reads "stalled"


class QueueSection(msgspec.Struct, frozen=True):
    """Context of the messages sent to the ticket's worker: the newest few with their status."""

    identifier: str
    worker: str | None  # the ticket's assignee; None means any worker may take them
    messages: list[queue.QueueItem]
    total: int
    sent: str = ""  # the confirmation shown after "Send to worker"


def can_write(request: Request[Any, Any, Any]) -> bool:
    """Whether the page offers its forms (only admins may change a ticket from the page)."""
    return getattr(request.user, "scope", None) == "admin"


def swap_or_back(
    request: Request[Any, Any, Any], fragment: str, ctx: msgspec.Struct, identifier: str, anchor: str, said: str
) -> Response[Any]:
    """After a change: the re-rendered section (plus a spoken note) for htmx, a 303 back to the page otherwise."""
    if not wants_fragment(request):
        return Redirect(path=f"/ticket/{identifier}#{anchor}", status_code=303)
    # Screen readers hear what changed: the page's live region is replaced out of band.
    html = render_html(fragment, ctx=ctx, frame=frame_for(request)) + spoken_note("ticket-note", said)
    return Response(html, status_code=200, media_type=MediaType.HTML, headers={"Vary": "HX-Request"})


async def header_section(
    request: Request[Any, Any, Any], ticket: tickets.Ticket, saved: list[str] | None = None
) -> HeaderSection:
    """The context of the header and the properties."""
    db = app_state(request).db
    await markdown.prepare([ticket.description])
    return HeaderSection(
        ticket=ticket,
        tags=await tickets.list_tags(db, ticket.id),
        assignees=(await known_choices(app_state(request)))[0],
        statuses=rules.STATUS_LABELS,
        priorities=rules.PRIORITY_LABELS,
        can_write=can_write(request),
        saved=saved or [],
    )


async def relationships_section(request: Request[Any, Any, Any], ticket: tickets.Ticket) -> RelationshipsSection:
    """The relationships section's context."""
    found = await links.list_links(app_state(request).db, ticket.id)
    return RelationshipsSection(ticket.identifier, found, links.FORM_KINDS, rules.STATUS_LABELS, can_write(request))


async def context_section(request: Request[Any, Any, Any], ticket: tickets.Ticket) -> ContextSection:
    """The vault files section's context."""
    files = await links.list_context(app_state(request).db, ticket.id)
    return ContextSection(ticket.identifier, files, links.CONTEXT_ACTIONS, can_write(request))


async def queue_section(ticket: tickets.Ticket, db: Database, sent: str = "") -> QueueSection:
    """The queued-messages section's context."""
    items, total = await queue.list_for_ticket(db, ticket.id, QUEUE_SHOWN)
    return QueueSection(ticket.identifier, ticket.assigned_to, items, total, sent)

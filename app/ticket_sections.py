"""The ticket page's sections (header and properties, relationships, vault files, the timeline): each
one's context struct and how it is gathered. The page renders them all; a change to one section re-renders
just that one (swap_or_back), from whichever route made the change.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response
from litestar.enums import MediaType
from litestar.response import Redirect
from markupsafe import Markup

from app import markdown, rules
from app.agent_session import SessionStatus
from app.columns import known_choices
from app.db import Database
from app.frame import frame_for
from app.htmx import spoken_note, wants_fragment
from app.run_view import Run
from app.state import app_state
from app.store import links, queue, tickets, transcripts
from app.templates import render_html

QUEUE_SHOWN = 50  # the ticket page lists this many of its newest queued messages; GET /api/v1/queue has all


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


class Entry(msgspec.Struct, frozen=True):
    """One entry of a ticket's timeline: a comment, a message sent to a worker, or an agent's run."""

    kind: str  # comment, sent or run
    at: str
    comment: tickets.Comment | None = None
    sent: queue.QueueItem | None = None
    run: Run | None = None


class TimelineSection(msgspec.Struct, frozen=True):
    """Context of the conversation: comments, messages sent to workers and runs in the order they happened,
    the newest last; how much of the agent's events it shows; and the stream that brings what comes next (it
    starts after the last event shown, so none is missed)."""

    identifier: str
    entries: list[Entry]
    run_html: dict[str, Markup]  # each run rendered (app/run_pages.py keeps them), by its key
    events: transcripts.Page
    all_url: str
    earlier_url: str  # the page of events before these ('' when these are the first)
    newer_url: str  # the page after these, on a page further back ('' on the newest)
    worker: str | None  # whom "Send to worker" reaches: the ticket's assignee (None: any worker)
    sent_total: int
    sent_shown: int
    session: SessionStatus | None = None  # the ticket's interactive session (app/agent_session.py)
    last_seq: int = 0  # the newest event shown (the stream and the session's socket go on after it)
    stream_url: str = ""
    stall_s: int = 600  # a running run with no event for this long reads "stalled"
    can_write: bool = False


def timeline(comments: list[tickets.Comment], sent: list[queue.QueueItem], runs: list[Run]) -> list[Entry]:
    """Everything said and done on a ticket, oldest first (a run goes where it started)."""
    entries = [Entry("comment", c.created_at, comment=c) for c in comments]
    entries += [Entry("sent", m.created_at, sent=m) for m in sent]
    entries += [Entry("run", r.header.started, run=r) for r in runs]
    return sorted(entries, key=lambda e: e.at)


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


async def sent_to_workers(ticket: tickets.Ticket, db: Database) -> tuple[list[queue.QueueItem], int]:
    """The newest messages sent from the ticket to its worker, and how many there are in all."""
    return await queue.list_for_ticket(db, ticket.id, QUEUE_SHOWN)

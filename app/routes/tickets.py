"""The ticket page: header with inline edits, conversation, worker messages, links and the activity log."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response, get, post
from litestar.enums import MediaType
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.response import Redirect

from app import markdown
from app.agent_session import SessionStatus
from app.composer import CommentForm, composer_text
from app.edits import Edit, EditForm, parse_edit
from app.frame import frame_for
from app.htmx import refuse, render_text, wants_fragment
from app.kept_pages import KeptPage, send_page
from app.lookup import find_ticket, no_such_ticket
from app.params import Before
from app.rules import RuleBroken, check_description
from app.run_pages import SHOWN, RunsShown
from app.run_view import markdown_of
from app.state import app_state
from app.store import sessions, tickets
from app.store.transcripts import Page
from app.streams import NO_COMPRESSION
from app.templates import render_html
from app.ticket_sections import (
    ContextSection,
    HeaderSection,
    RelationshipsSection,
    TimelineSection,
    can_write,
    context_section,
    header_section,
    relationships_section,
    sent_to_workers,
    swap_or_back,
    timeline,
)

SESSIONS_SHOWN = 5  # the newest sessions of a ticket on its page; /sessions?ticket= has all


class TicketPage(msgspec.Struct, frozen=True):
    """Context of a ticket page: one section per fragment, top to bottom."""

    title: str
    ticket: tickets.Ticket
    header: HeaderSection
    relationships: RelationshipsSection
    context: ContextSection
    conversation: TimelineSection
    can_write: bool
    sessions: list[sessions.Session] = []


def page_url(identifier: str, anchor: str) -> str:
    """The ticket page showing all of its events."""
    return f"/ticket/{identifier}?events=all#{anchor}"


def earlier_url(identifier: str, page: Page) -> str:
    """The page of the agent's events before this one's ('' when it starts at the first)."""
    return f"/ticket/{identifier}?before={page.first_seq}#conversation" if page.first_seq > 1 else ""


def newer_url(identifier: str, page: Page) -> str:
    """From a page further back, the page after it (the newest page once that is what comes next)."""
    if not page.before:
        return ""
    after = page.last_seq + SHOWN + 1
    if after > page.total:
        return f"/ticket/{identifier}#conversation"
    return f"/ticket/{identifier}?before={after}#conversation"


@get("/ticket/{identifier:str}", cache=False, opt={NO_COMPRESSION: True})  # gzipped once: app/kept_pages.py
async def ticket_page(
    request: Request[Any, Any, Any],
    identifier: FromPath[str],
    events: FromQuery[str | None] = None,
    before: Before = None,
) -> Response[bytes]:
    """A ticket: header and properties, then one timeline of comments, messages sent to workers and the
    agent's runs; links and vault files.

    The page is kept, rendered, by everything it shows: the ticket's version (one read of index probes), the
    state of its runs (they stall with time), its session, and who is looking; a view that finds it renders
    nothing."""
    mc = app_state(request)
    version = await tickets.page_version(mc.db, identifier.upper())
    if version is None:
        raise NotFoundException(no_such_ticket(identifier))
    show_all = events == "all"
    back = 0 if show_all or before is None or before > version.last_seq else before  # a page further back
    stall_s = mc.settings.run_stall_s
    shown = await mc.run_pages.shown(mc.db, version.ticket_id, show_all, stall_s, version.last_seq, back)
    session = mc.sessions.status(version.ticket_id, identifier.upper())
    frame = frame_for(request)
    states = tuple(run.header.state for run in shown.runs)
    key = (version, show_all, back, states, session, frame.user, frame.scope, frame.csrf_token, wants_fragment(request))
    page = mc.pages.get(key)
    if page is None:
        html, complete = await build_ticket_page(request, identifier, shown, session)
        page = KeptPage(html)
        if complete:  # every markdown text rendered in time (a late one shows as typed, this view only)
            mc.pages.put(key, page)
    return send_page(request, page)


async def build_ticket_page(
    request: Request[Any, Any, Any], identifier: str, shown: RunsShown, session: SessionStatus
) -> tuple[str, bool]:
    """The page's HTML, and whether all its markdown was rendered in time."""
    mc = app_state(request)
    db = mc.db
    ticket = await find_ticket(request, identifier)
    further_back = bool(shown.events.before)  # a page of older agent events: no comments, composer or stream
    comments = [] if further_back else await tickets.list_comments(db, ticket.id)
    sent, sent_total = ([], 0) if further_back else await sent_to_workers(ticket, db)
    texts = [ticket.description, *(c.body for c in comments)]
    await markdown.prepare(texts[1:])  # (the description: header_section)
    run_html = {run.header.key: await mc.run_pages.html(ticket.id, ticket.identifier, run) for run in shown.runs}
    ctx = TicketPage(
        title=f"{ticket.identifier} {ticket.title}",
        ticket=ticket,
        header=await header_section(request, ticket),
        relationships=await relationships_section(request, ticket),
        context=await context_section(request, ticket),
        conversation=TimelineSection(
            identifier=ticket.identifier,
            entries=timeline(comments, sent, shown.runs),
            run_html=run_html,
            events=shown.events,
            all_url=page_url(ticket.identifier, "conversation"),
            earlier_url=earlier_url(ticket.identifier, shown.events),
            newer_url=newer_url(ticket.identifier, shown.events),
            worker=ticket.assigned_to,
            sent_total=sent_total,
            sent_shown=len(sent),
            session=session,
            last_seq=shown.last_seq,
            stream_url="" if further_back else f"/api/v1/tickets/{ticket.identifier}/stream?after={shown.last_seq}",
            stall_s=mc.settings.run_stall_s,
            can_write=can_write(request),
        ),
        can_write=can_write(request),
        sessions=await sessions.of_ticket(db, ticket.id, SESSIONS_SHOWN),
    )
    html = render_text(request, "templates/page.html", "fragments/ticket/ticket.html", ctx)
    runs_texts = [text for run in shown.runs for text in markdown_of(run.items)]
    return html, markdown.all_ready([*texts, *runs_texts])


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
    except RuleBroken as exc:
        return refuse(exc.status_code, str(exc))
    await apply_edit(request, ticket, edit)
    ticket = await find_ticket(request, ticket.identifier)
    ctx = await header_section(request, ticket, edit.fields)
    return swap_or_back(request, "fragments/ticket/edited.html", ctx, ticket.identifier, "ticket", " ".join(edit.said))


class PreviewForm(msgspec.Struct, frozen=True):
    """A description to preview."""

    description: str = ""


class Preview(msgspec.Struct, frozen=True):
    """Context of a preview."""

    text: str


@post("/ticket/{identifier:str}/preview", cache=False)
async def preview_description(
    request: Request[Any, Any, Any], identifier: FromPath[str], data: URLEncodedBody[PreviewForm]
) -> Response[Any]:
    """A description as the page would show it (markdown made safe), for the edit form's Preview."""
    await find_ticket(request, identifier)
    try:
        text = check_description(data.description)
    except RuleBroken as exc:
        return refuse(exc.status_code, str(exc))
    await markdown.prepare([text])
    html = render_html("fragments/ticket/preview.html", ctx=Preview(text))
    return Response(html, status_code=200, media_type=MediaType.HTML)


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
        html += render_html("fragments/ticket/no_comments.html", oob_delete=True)
        return Response(html, status_code=201, media_type=MediaType.HTML)
    return Redirect(path=f"/ticket/{ticket.identifier}#comment-{comment.id}", status_code=303)


ROUTES = [ticket_page, edit_ticket, preview_description, add_comment]

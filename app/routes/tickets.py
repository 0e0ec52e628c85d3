"""The ticket page: header with inline edits, conversation, worker messages, links and the activity log."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response, get, post
from litestar.enums import MediaType
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.response import Redirect

from app import markdown
from app.composer import CommentForm, composer_text
from app.edits import Edit, EditForm, parse_edit
from app.htmx import refuse, render, wants_fragment
from app.lookup import find_ticket
from app.rules import RuleBroken, check_description
from app.state import app_state
from app.store import tickets
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


class TicketPage(msgspec.Struct, frozen=True):
    """Context of a ticket page: one section per fragment, top to bottom."""

    title: str
    ticket: tickets.Ticket
    header: HeaderSection
    relationships: RelationshipsSection
    context: ContextSection
    conversation: TimelineSection
    can_write: bool


def page_url(identifier: str, anchor: str) -> str:
    """The ticket page showing all of its events."""
    return f"/ticket/{identifier}?events=all#{anchor}"


@get("/ticket/{identifier:str}", cache=False)
async def ticket_page(
    request: Request[Any, Any, Any],
    identifier: FromPath[str],
    events: FromQuery[str | None] = None,
) -> Response[str]:
    """A ticket: header and properties, then one timeline of comments, messages sent to workers and the
    agent's runs; links and vault files."""
    mc = app_state(request)
    db = mc.db
    ticket = await find_ticket(request, identifier)
    shown = await mc.run_pages.shown(db, ticket.id, events == "all", mc.settings.run_stall_s)
    comments = await tickets.list_comments(db, ticket.id)
    sent, sent_total = await sent_to_workers(ticket, db)
    await markdown.prepare([c.body for c in comments])  # (the description: header_section)
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
            worker=ticket.assigned_to,
            sent_total=sent_total,
            sent_shown=len(sent),
            session=mc.sessions.status(ticket.id, ticket.identifier),
            last_seq=shown.last_seq,
            stream_url=f"/api/v1/tickets/{ticket.identifier}/stream?after={shown.last_seq}",
            stall_s=mc.settings.run_stall_s,
            can_write=can_write(request),
        ),
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

"""The ticket page and its conversation."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response, get, post
from litestar.enums import MediaType
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect

from app.htmx import render, render_html, wants_fragment
from app.state import app_state
from app.store import tickets


class TicketPage(msgspec.Struct, frozen=True):
    """Context of a ticket page."""

    title: str
    ticket: tickets.Ticket
    status_label: str
    priority_label: str
    tags: list[str]
    comments: list[tickets.Comment]
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


@get("/ticket/{identifier:str}", cache=False)
async def ticket_page(request: Request[Any, Any, Any], identifier: FromPath[str]) -> Response[str]:
    """A ticket with its conversation."""
    db = app_state(request).db
    ticket = await find_ticket(request, identifier)
    ctx = TicketPage(
        title=f"{ticket.identifier} {ticket.title}",
        ticket=ticket,
        status_label=tickets.STATUS_LABELS[ticket.status],
        priority_label=tickets.PRIORITY_LABELS[ticket.priority],
        tags=await tickets.list_tags(db, ticket.id),
        comments=await tickets.list_comments(db, ticket.id),
        can_write=getattr(request.user, "scope", None) == "admin",
    )
    return render(request, "templates/page.html", "fragments/ticket/ticket.html", ctx)


@post("/ticket/{identifier:str}/comments", cache=False)
async def add_comment(
    request: Request[Any, Any, Any],
    identifier: FromPath[str],
    data: URLEncodedBody[CommentForm],
) -> Response[Any]:
    """Append a comment: the new comment's fragment for htmx, a redirect back for a plain form."""
    ticket = await find_ticket(request, identifier)
    body = data.body.strip()
    if not body:
        return Response("A comment needs some text.", status_code=400, media_type=MediaType.TEXT)
    if len(body) > 100_000:
        return Response("A comment can be at most 100,000 characters.", status_code=413, media_type=MediaType.TEXT)
    comment = await tickets.add_comment(app_state(request).db, ticket.id, request.user.name, body)
    if wants_fragment(request):
        html = render_html("fragments/ticket/comment.html", comment=comment)
        # The "No comments yet" line goes once there is one.
        html += '<p id="no-comments" hx-swap-oob="delete"></p>'
        return Response(html, status_code=201, media_type=MediaType.HTML)
    return Redirect(path=f"/ticket/{ticket.identifier}#comment-{comment.id}", status_code=303)


ROUTES = [ticket_page, add_comment]

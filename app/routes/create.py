"""Creating a ticket: a form page without JavaScript, the same form in a dialog on the board with it."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import msgspec
from litestar import Request, Response, get, post
from litestar.enums import MediaType
from litestar.params import FromQuery, URLEncodedBody
from litestar.plugins.htmx import ClientRedirect
from litestar.response import Redirect
from markupsafe import Markup

from app.autotag import clean_tags
from app.columns import known_choices, render_slots
from app.edits import NUL
from app.htmx import render, wants_fragment
from app.routes.board import board_note, filter_from_url
from app.state import app_state
from app.store import tickets
from app.templates import render_html


class NewTicketForm(msgspec.Struct, frozen=True):
    """What the new-ticket form posts (all text, as forms send it)."""

    title: str = ""
    description: str = ""
    status: str = "backlog"
    priority: str = "3"
    assigned_to: str = ""
    tags: str = ""


class NewTicketPage(msgspec.Struct, frozen=True):
    """Context of the new-ticket form: the values so far and what is wrong with them."""

    title: str
    form: NewTicketForm
    errors: dict[str, str]
    labels: dict[str, str]
    priorities: dict[int, str]
    assignees: list[str]


class Checked(msgspec.Struct, frozen=True):
    """A valid new ticket."""

    title: str
    description: str
    status: str
    priority: int
    assigned_to: str | None
    tags: list[str] | None


def check_form(form: NewTicketForm) -> Checked | dict[str, str]:
    """The ticket to create, or a message per field that is wrong."""
    errors: dict[str, str] = {}
    title = " ".join(form.title.split())
    if not title:
        errors["title"] = "A ticket needs a title."
    elif len(title) > 300:
        errors["title"] = "A title can be at most 300 characters."
    elif NUL in title:
        errors["title"] = "A title cannot contain a NUL character."
    if len(form.description) > 100_000:
        errors["description"] = "The description can be at most 100,000 characters."
    elif NUL in form.description:
        errors["description"] = "The description cannot contain a NUL character."
    if form.status not in tickets.STATUSES:
        errors["status"] = "Choose one of the board's columns."
    if form.priority not in ("1", "2", "3", "4"):
        errors["priority"] = "Choose a priority."
    if len(form.assigned_to.strip()) > 80:
        errors["assigned_to"] = "An assignee name can be at most 80 characters."
    tags: list[str] | None = None
    try:
        tags = clean_tags(form.tags) if form.tags.strip() else None
    except ValueError as exc:
        errors["tags"] = str(exc)
    if errors:
        return errors
    return Checked(title, form.description, form.status, int(form.priority), form.assigned_to.strip() or None, tags)


async def form_page(request: Request[Any, Any, Any], form: NewTicketForm, errors: dict[str, str]) -> NewTicketPage:
    """The form's context."""
    return NewTicketPage(
        title="New ticket",
        form=form,
        errors=errors,
        labels=tickets.STATUS_LABELS,
        priorities=tickets.PRIORITY_LABELS,
        assignees=(await known_choices(app_state(request)))[0],
    )


@get("/tickets/new", cache=False)
async def new_ticket(request: Request[Any, Any, Any], status: FromQuery[str] = "backlog") -> Response[str]:
    """The new-ticket form (a page, or the fragment the board's dialog shows)."""
    form = NewTicketForm(status=status if status in tickets.STATUSES else "backlog")
    ctx = await form_page(request, form, {})
    return render(request, "templates/page.html", "fragments/tickets/new.html", ctx)


def posted_from_board(request: Request[Any, Any, Any]) -> bool:
    """True when htmx posted the form from the board (its dialog), where the new card's column is swapped in."""
    return urlsplit(request.headers.get("hx-current-url") or "").path == "/board"


@post("/tickets", cache=False)
async def create_ticket(request: Request[Any, Any, Any], data: URLEncodedBody[NewTicketForm]) -> Response[Any]:
    """Create a ticket: a redirect to it for a plain form; for htmx a fresh form, its column and a notice."""
    checked = check_form(data)
    if isinstance(checked, dict):
        ctx = await form_page(request, data, checked)
        return render(request, "templates/page.html", "fragments/tickets/new.html", ctx, status_code=422)
    mc = app_state(request)
    identifier = await tickets.create_ticket(
        mc.db, mc.settings.ticket_prefix, checked.title, checked.description, checked.status,
        checked.priority, checked.assigned_to, checked.tags,
    )  # fmt: skip
    if not wants_fragment(request):
        return Redirect(path=f"/ticket/{identifier}", status_code=303)
    if not posted_from_board(request):  # the form page with JavaScript: no board to update, so go to the ticket
        return ClientRedirect(f"/ticket/{identifier}")
    fresh = render_html(
        "fragments/tickets/new.html", ctx=await form_page(request, NewTicketForm(status=checked.status), {})
    )
    slots = await render_slots(mc, filter_from_url(request.headers.get("hx-current-url")), {checked.status})
    note = board_note(Markup("Created {}.").format(identifier))
    trigger = msgspec.json.encode({"ticketCreated": {"identifier": identifier}}).decode()
    # After settle, not on arrival: the board script focuses the new card, which must be swapped in by then.
    return Response(fresh + slots + note, media_type=MediaType.HTML, status_code=201,
                    headers={"HX-Trigger-After-Settle": trigger})  # fmt: skip


ROUTES = [new_ticket, create_ticket]

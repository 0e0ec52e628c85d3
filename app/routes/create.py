"""Creating a ticket: a form page without JavaScript, the same form in a dialog on the board with it."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import msgspec
from litestar import Request, Response, get, post
from litestar.enums import MediaType
from litestar.params import FromQuery, URLEncodedBody
from litestar.plugins.htmx import ClientRedirect, TriggerEvent
from litestar.response import Redirect
from markupsafe import Markup

from app import rules
from app.autotag import clean_tags
from app.columns import filter_from_url, known_choices, render_slots
from app.frame import frame_for
from app.htmx import render, spoken_note, wants_fragment
from app.rules import RuleBroken, check_assignee, check_description, check_priority, check_status, check_title
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
    checks = {
        "title": lambda: check_title(form.title),
        "description": lambda: check_description(form.description),
        "status": lambda: check_status(form.status),
        "priority": lambda: check_priority(form.priority),
        "assigned_to": lambda: check_assignee(form.assigned_to),
    }
    checked: dict[str, Any] = {}
    for name, check in checks.items():
        try:
            checked[name] = check()
        except RuleBroken as exc:
            errors[name] = str(exc)
    tags: list[str] | None = None
    try:
        tags = clean_tags(form.tags) if form.tags.strip() else None
    except ValueError as exc:
        errors["tags"] = str(exc)
    if errors:
        return errors
    return Checked(**checked, tags=tags)


async def form_page(request: Request[Any, Any, Any], form: NewTicketForm, errors: dict[str, str]) -> NewTicketPage:
    """The form's context."""
    return NewTicketPage(
        title="New ticket",
        form=form,
        errors=errors,
        labels=rules.STATUS_LABELS,
        priorities=rules.PRIORITY_LABELS,
        assignees=(await known_choices(app_state(request)))[0],
    )


@get("/tickets/new", cache=False)
async def new_ticket(request: Request[Any, Any, Any], status: FromQuery[str] = "backlog") -> Response[str]:
    """The new-ticket form (a page, or the fragment the board's dialog shows)."""
    form = NewTicketForm(status=status if status in rules.STATUSES else "backlog")
    ctx = await form_page(request, form, {})
    return render(request, "templates/page.html", "fragments/ticket/new.html", ctx)


def posted_from_board(request: Request[Any, Any, Any]) -> bool:
    """True when htmx posted the form from the board (its dialog), where the new card's column is swapped in."""
    return urlsplit(request.headers.get("hx-current-url") or "").path == "/board"


@post("/tickets", cache=False)
async def create_ticket(request: Request[Any, Any, Any], data: URLEncodedBody[NewTicketForm]) -> Response[Any]:
    """Create a ticket: a redirect to it for a plain form; for htmx a fresh form, its column and a notice."""
    checked = check_form(data)
    if isinstance(checked, dict):
        ctx = await form_page(request, data, checked)
        return render(request, "templates/page.html", "fragments/ticket/new.html", ctx, status_code=422)
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
        "fragments/ticket/new.html",
        ctx=await form_page(request, NewTicketForm(status=checked.status), {}),
        frame=frame_for(request),
    )
    slots = await render_slots(mc, filter_from_url(request.headers.get("hx-current-url")), {checked.status})
    note = spoken_note("board-status", Markup("Created {}.").format(identifier), polite=True)
    # After settle, not on arrival: the board script focuses the new card, which must be swapped in by then.
    return TriggerEvent(
        fresh + slots + note, name="ticketCreated", after="settle", params={"identifier": identifier},
        media_type=MediaType.HTML, status_code=201,
    )  # fmt: skip


ROUTES = [new_ticket, create_ticket]

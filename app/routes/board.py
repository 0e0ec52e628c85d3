"""The board: columns of cards, filters in the URL, load more, and moving a card."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post
from litestar.enums import MediaType
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery, Parameter, URLEncodedBody
from litestar.response import Redirect
from markupsafe import Markup

from app import rules
from app.columns import MorePage, board_filter, filter_from_url, more_url, render_columns, render_slots
from app.htmx import refuse, render, spoken_note, wants_fragment
from app.lookup import find_ticket
from app.params import MAX_ID
from app.state import app_state
from app.store import board, tickets
from app.store.board import BoardFilter
from app.templates import render_html

Priority = Annotated[int, msgspec.Meta(ge=1, le=4)]


class BoardPage(msgspec.Struct, frozen=True):
    """Context of the board."""

    title: str
    filt: BoardFilter
    columns_html: Markup
    counts: dict[str, int]
    labels: dict[str, str]
    assignees: list[str]
    tags: list[str]
    priorities: dict[int, str]


class CardForm(msgspec.Struct, frozen=True):
    """A quick change from the board's keyboard: priority (1-4) or assignee (empty unassigns)."""

    priority: str = ""
    assigned_to: str | None = None
    next: str = ""


class MoveForm(msgspec.Struct, frozen=True):
    """A move: the new column, optionally the card it goes right below, and where a plain form returns to."""

    status: str
    after: str = ""
    next: str = ""


@get("/board", cache=False)
async def board_page(
    request: Request[Any, Any, Any],
    assignee: FromQuery[str | None] = None,
    tag: FromQuery[str | None] = None,
    priority: FromQuery[str | None] = None,
    q: FromQuery[str | None] = None,
) -> Response[str]:
    """Every column with its first 30 cards under the URL's filters."""
    mc = app_state(request)
    filt = board_filter(assignee, tag, priority, q)
    columns = await render_columns(mc, filt)
    ctx = BoardPage(
        title="Board",
        filt=filt,
        columns_html=columns.html,
        counts=columns.counts,
        labels=rules.STATUS_LABELS,
        assignees=columns.assignees,
        tags=columns.tags,
        priorities=rules.PRIORITY_LABELS,
    )
    return render(request, "templates/page.html", "fragments/board/board.html", ctx)


@get("/board/columns/{status:str}", cache=False)
async def load_more(
    request: Request[Any, Any, Any],
    status: FromPath[str],
    after_key: Annotated[float, Parameter(ge=-1e300, le=1e300, description="The last card's sort key")],
    after_id: Annotated[int, Parameter(ge=0, le=MAX_ID, description="The last card's id")],
    since: FromQuery[str] = "",
    assignee: FromQuery[str | None] = None,
    tag: FromQuery[str | None] = None,
    priority: FromQuery[str | None] = None,
    q: FromQuery[str | None] = None,
) -> Response[str]:
    """The next 30 cards of a column after the cursor, plus cards that moved above it since `since`."""
    if status not in rules.STATUSES:
        raise NotFoundException(f"There is no column {status!r}.")
    mc = app_state(request)
    filt = board_filter(assignee, tag, priority, q)
    version = (await board.board_state(mc.db))[status].version
    live = await mc.live.get()
    # Everything the answer depends on is in the key; the column's version moves with any change in it.
    key = ("more", status, filt.key(), after_key, after_id, since, version, live)
    ctx = mc.board.more_pages.get(key)
    if ctx is None:
        cards = await board.next_page(mc.db, status, filt, after_key, after_id, limit=board.PAGE_SIZE + 1)
        moved = await board.changed_above(mc.db, status, filt, since, after_key, after_id) if since else []
        page, has_more = cards[: board.PAGE_SIZE], len(cards) > board.PAGE_SIZE
        ctx = mc.board.more_pages.put(key, MorePage(
            title=f"{rules.STATUS_LABELS[status]}: more cards",
            status=status,
            label=rules.STATUS_LABELS[status],
            cards=page,
            moved=moved,
            more_url=more_url(status, filt, page[-1], since) if has_more else None,
            live=live,
        ))  # fmt: skip
    if not wants_fragment(request):
        return render(request, "templates/column_page.html", "fragments/board/more.html", ctx)
    html = mc.board.more_html.get(key)
    if html is None:
        html = mc.board.more_html.put(key, render_html(
            "fragments/board/more.html", ctx=ctx
        ))  # fmt: skip
    return Response(str(html), media_type=MediaType.HTML, headers={"Vary": "HX-Request"})


@post("/ticket/{identifier:str}/move", cache=False)
async def move_card(
    request: Request[Any, Any, Any], identifier: FromPath[str], data: URLEncodedBody[MoveForm]
) -> Response[Any]:
    """Move a card (one POST): htmx gets both columns re-rendered out of band, a plain form a redirect."""
    if data.status not in rules.STATUSES:
        return Response(f"There is no column {data.status!r}.", status_code=400, media_type=MediaType.TEXT)
    mc = app_state(request)
    ticket = await find_ticket(request, identifier)
    await tickets.move_ticket(mc.db, ticket.id, data.status, data.after.upper() or None)
    if not wants_fragment(request):
        return Redirect(path=back_to(data.next), status_code=303)
    filt = filter_from_url(request.headers.get("hx-current-url"))
    slots = await render_slots(mc, filt, {ticket.status, data.status})
    label = rules.STATUS_LABELS[data.status]
    if ticket.status != data.status:
        said = Markup("{} moved to {}.").format(ticket.identifier, label)
    elif data.after:
        said = Markup("{} placed below {} in {}.").format(ticket.identifier, data.after.upper(), label)
    else:
        said = Markup("{} moved to the top of {}.").format(ticket.identifier, label)
    return Response(slots + spoken_note("board-status", said, polite=True), media_type=MediaType.HTML)


def back_to(target: str) -> str:
    """Where a plain form returns: a local path, else the board."""
    return target if target.startswith("/") and not target.startswith("//") else "/board"


@post("/board/cards/{identifier:str}", cache=False)
async def change_card(
    request: Request[Any, Any, Any], identifier: FromPath[str], data: URLEncodedBody[CardForm]
) -> Response[Any]:
    """Set a card's priority or assignee from the board; htmx gets its column re-rendered out of band."""
    mc = app_state(request)
    ticket = await find_ticket(request, identifier)
    try:
        priority = rules.check_priority(data.priority) if data.priority else None
        assignee = None if data.assigned_to is None else rules.check_assignee(data.assigned_to)
    except rules.RuleBroken as exc:
        return refuse(exc.status_code, str(exc))
    patch = tickets.TicketPatch(
        priority=priority or msgspec.UNSET,
        assigned_to=assignee if data.assigned_to is not None else msgspec.UNSET,
    )
    await tickets.update_ticket(mc.db, ticket.id, patch)
    if not wants_fragment(request):
        return Redirect(path=back_to(data.next), status_code=303)
    slots = await render_slots(mc, filter_from_url(request.headers.get("hx-current-url")), {ticket.status})
    if data.priority:
        said = Markup("{} priority set to {}.").format(ticket.identifier, rules.PRIORITY_LABELS[priority or 3])
    else:
        said = Markup("{} assigned to {}.").format(ticket.identifier, assignee or "nobody")
    return Response(slots + spoken_note("board-status", said, polite=True), media_type=MediaType.HTML)


ROUTES = [board_page, load_more, move_card, change_card]

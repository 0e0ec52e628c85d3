"""The board: columns of cards, filters in the URL, load more, and moving a card."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import parse_qsl, urlsplit

import msgspec
from litestar import Request, Response, get, post
from litestar.enums import MediaType
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery, Parameter, URLEncodedBody
from litestar.response import Redirect
from markupsafe import Markup

from app.columns import more_url, render_columns, render_slots
from app.htmx import render, wants_fragment
from app.params import MAX_ID
from app.routes.tickets import find_ticket
from app.state import app_state
from app.store import board, tickets
from app.store.board import BoardFilter, Card
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


class MorePage(msgspec.Struct, frozen=True):
    """Context of a load-more: the next cards of one column, and what moved above the cursor meanwhile."""

    title: str
    status: str
    label: str
    cards: list[Card]
    moved: list[Card]
    more_url: str | None
    live: frozenset[int]


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


def board_filter(assignee: str | None, tag: str | None, priority: str | None, q: str | None) -> BoardFilter:
    """Filters from query parameters; a priority that is not 1-4 is ignored rather than refused."""
    level = int(priority) if priority in ("1", "2", "3", "4") else None
    return BoardFilter(assignee=assignee or None, tag=tag or None, priority=level, q=(q or "").strip() or None)


def filter_from_url(url: str | None) -> BoardFilter:
    """The filters of the page a request came from (htmx sends it as HX-Current-URL)."""
    params = dict(parse_qsl(urlsplit(url or "").query))
    return board_filter(params.get("assignee"), params.get("tag"), params.get("priority"), params.get("q"))


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
        labels=tickets.STATUS_LABELS,
        assignees=columns.assignees,
        tags=columns.tags,
        priorities=tickets.PRIORITY_LABELS,
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
    if status not in tickets.STATUSES:
        raise NotFoundException(f"There is no column {status!r}.")
    mc = app_state(request)
    filt = board_filter(assignee, tag, priority, q)
    version = (await board.board_state(mc.db))[status].version
    live = await mc.live.get()
    # Everything the answer depends on is in the key; the column's version moves with any change in it.
    key = ("more", status, filt.key(), after_key, after_id, since, version, live)
    ctx = mc.fragments.get(key)
    if ctx is None:
        cards = await board.next_page(mc.db, status, filt, after_key, after_id, limit=board.PAGE_SIZE + 1)
        moved = await board.changed_above(mc.db, status, filt, since, after_key, after_id) if since else []
        page, has_more = cards[: board.PAGE_SIZE], len(cards) > board.PAGE_SIZE
        ctx = mc.fragments.put(key, MorePage(
            title=f"{tickets.STATUS_LABELS[status]}: more cards",
            status=status,
            label=tickets.STATUS_LABELS[status],
            cards=page,
            moved=moved,
            more_url=more_url(status, filt, page[-1], since) if has_more else None,
            live=live,
        ))  # fmt: skip
    assert isinstance(ctx, MorePage)
    if not wants_fragment(request):
        return render(request, "templates/column_page.html", "fragments/board/more.html", ctx,
                      cards=ctx.cards, live=ctx.live, priorities=tickets.PRIORITY_LABELS)  # fmt: skip
    html = mc.fragments.get(("more-html", key))
    if html is None:
        html = mc.fragments.put(("more-html", key), render_html(
            "fragments/board/more.html", ctx=ctx, cards=ctx.cards, live=ctx.live, priorities=tickets.PRIORITY_LABELS
        ))  # fmt: skip
    return Response(str(html), media_type=MediaType.HTML, headers={"Vary": "HX-Request"})


@post("/ticket/{identifier:str}/move", cache=False)
async def move_card(
    request: Request[Any, Any, Any], identifier: FromPath[str], data: URLEncodedBody[MoveForm]
) -> Response[Any]:
    """Move a card (one POST): htmx gets both columns re-rendered out of band, a plain form a redirect."""
    if data.status not in tickets.STATUSES:
        return Response(f"There is no column {data.status!r}.", status_code=400, media_type=MediaType.TEXT)
    mc = app_state(request)
    ticket = await find_ticket(request, identifier)
    await tickets.move_ticket(mc.db, ticket.id, data.status, data.after.upper() or None)
    if not wants_fragment(request):
        return Redirect(path=back_to(data.next), status_code=303)
    filt = filter_from_url(request.headers.get("hx-current-url"))
    slots = await render_slots(mc, filt, {ticket.status, data.status})
    label = tickets.STATUS_LABELS[data.status]
    if ticket.status != data.status:
        said = Markup("{} moved to {}.").format(ticket.identifier, label)
    elif data.after:
        said = Markup("{} placed below {} in {}.").format(ticket.identifier, data.after.upper(), label)
    else:
        said = Markup("{} moved to the top of {}.").format(ticket.identifier, label)
    return Response(slots + board_note(said), media_type=MediaType.HTML)


def back_to(target: str) -> str:
    """Where a plain form returns: a local path, else the board."""
    return target if target.startswith("/") and not target.startswith("//") else "/board"


def board_note(text: Markup) -> Markup:
    """The screen-reader announcement that rides along with a board swap."""
    return Markup('<p id="board-status" class="visually-hidden" role="status" aria-live="polite" '
                  'hx-swap-oob="true">{}</p>').format(text)  # fmt: skip


@post("/board/cards/{identifier:str}", cache=False)
async def change_card(
    request: Request[Any, Any, Any], identifier: FromPath[str], data: URLEncodedBody[CardForm]
) -> Response[Any]:
    """Set a card's priority or assignee from the board; htmx gets its column re-rendered out of band."""
    mc = app_state(request)
    ticket = await find_ticket(request, identifier)
    if data.priority and data.priority not in ("1", "2", "3", "4"):
        return Response("Priority is 1 (urgent) to 4 (low).", status_code=400, media_type=MediaType.TEXT)
    assignee = None if data.assigned_to is None else data.assigned_to.strip()
    if assignee is not None and len(assignee) > 80:
        return Response("An assignee name can be at most 80 characters.", status_code=400, media_type=MediaType.TEXT)
    patch = tickets.TicketPatch(
        priority=int(data.priority) if data.priority else msgspec.UNSET,
        assigned_to=(assignee or None) if assignee is not None else msgspec.UNSET,
    )
    await tickets.update_ticket(mc.db, ticket.id, patch)
    if not wants_fragment(request):
        return Redirect(path=back_to(data.next), status_code=303)
    slots = await render_slots(mc, filter_from_url(request.headers.get("hx-current-url")), {ticket.status})
    if data.priority:
        said = Markup("{} priority set to {}.").format(ticket.identifier, tickets.PRIORITY_LABELS[int(data.priority)])
    else:
        said = Markup("{} assigned to {}.").format(ticket.identifier, assignee or "nobody")
    return Response(slots + board_note(said), media_type=MediaType.HTML)


ROUTES = [board_page, load_more, move_card, change_card]

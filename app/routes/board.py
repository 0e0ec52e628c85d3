"""The board: columns of cards, filters in the URL, load more, and moving a card."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import parse_qsl, urlsplit

import msgspec
from litestar import Request, Response, get, post
from litestar.enums import MediaType
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.response import Redirect
from markupsafe import Markup

from app.columns import more_url, render_columns, render_slots
from app.htmx import render, wants_fragment
from app.routes.tickets import find_ticket
from app.state import app_state
from app.store import board, tickets
from app.store.board import BoardFilter, Card

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


class MoveForm(msgspec.Struct, frozen=True):
    """A move: the new column, optionally the card it goes right below, and where a plain form returns to."""

    status: str
    after: str = ""
    next: str = ""


def board_filter(assignee: str | None, tag: str | None, priority: str | None, q: str | None) -> BoardFilter:
    """Filters from query parameters; a priority that is not 1-4 is ignored rather than refused."""
    level = int(priority) if priority and priority.isdigit() and 1 <= int(priority) <= 4 else None
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
        assignees=await board.known_assignees(mc.db),
        tags=await board.known_tags(mc.db),
        priorities=tickets.PRIORITY_LABELS,
    )
    return render(request, "templates/page.html", "fragments/board/board.html", ctx)


@get("/board/columns/{status:str}", cache=False)
async def load_more(
    request: Request[Any, Any, Any],
    status: FromPath[str],
    after_key: FromQuery[float],
    after_id: FromQuery[int],
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
    cards = await board.next_page(mc.db, status, filt, after_key, after_id, limit=board.PAGE_SIZE + 1)
    moved = await board.changed_above(mc.db, status, filt, since, after_key, after_id) if since else []
    page, has_more = cards[: board.PAGE_SIZE], len(cards) > board.PAGE_SIZE
    ctx = MorePage(
        title=f"{tickets.STATUS_LABELS[status]}: more cards",
        status=status,
        label=tickets.STATUS_LABELS[status],
        cards=page,
        moved=moved,
        more_url=more_url(status, filt, page[-1], since) if has_more else None,
        live=await mc.live.get(),
    )
    return render(request, "templates/column_page.html", "fragments/board/more.html", ctx,
                  cards=page, live=ctx.live, priorities=tickets.PRIORITY_LABELS)  # fmt: skip


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
        target = data.next if data.next.startswith("/") and not data.next.startswith("//") else "/board"
        return Redirect(path=target, status_code=303)
    filt = filter_from_url(request.headers.get("hx-current-url"))
    slots = await render_slots(mc, filt, {ticket.status, data.status})
    label = tickets.STATUS_LABELS[data.status]
    note = Markup('<p id="board-status" class="visually-hidden" role="status" aria-live="polite" '
                  'hx-swap-oob="true">{} moved to {}.</p>').format(ticket.identifier, label)  # fmt: skip
    return Response(slots + note, media_type=MediaType.HTML)


ROUTES = [board_page, load_more, move_card]

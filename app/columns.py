"""Board columns rendered once per (status, filter, version, live cards) and reused until one changes.

Nothing user-specific (CSRF token, user name) goes into a column: those live in the page frame, so one
cached column is right for every viewer. The version in the key comes from board_state, which triggers
bump in the same transaction as any change to a card of that column: a changed column gets a new key.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit

import msgspec
from markupsafe import Markup

from app.live_marks import LiveMarks
from app.rules import STATUS_LABELS, STATUSES
from app.state import AppState
from app.store import board
from app.store.board import BoardFilter, Card
from app.templates import render_html


class ColumnView(msgspec.Struct, frozen=True):
    """Context of one column fragment."""

    status: str
    label: str
    count: int
    limit: int | None
    cards: list[Card]
    more_url: str | None
    live: LiveMarks

    @property
    def over_limit(self) -> bool:
        """Past its soft WIP limit."""
        return self.limit is not None and self.count > self.limit


class MorePage(msgspec.Struct, frozen=True):
    """Context of a load-more: the next cards of one column, and what moved above the cursor meanwhile."""

    title: str
    status: str
    label: str
    cards: list[Card]
    moved: list[Card]
    more_url: str | None
    live: LiveMarks


class BoardColumns(msgspec.Struct, frozen=True):
    """Every column's HTML (in its slot) and count, in board order; `parts` are the bare columns.

    `assignees` and `tags` are the filter menus' choices, which change only when some column does.
    """

    html: Markup
    counts: dict[str, int]
    parts: list[str]
    assignees: list[str]
    tags: list[str]


def more_url(status: str, filt: BoardFilter, last: Card, since: str) -> str:
    """The load-more address after `last`: keyset cursor plus when the page was drawn."""
    cursor = urlencode({"after_key": repr(last.sort_key), "after_id": last.id, "since": since})
    query = filt.query()
    return f"/board/columns/{status}?{query + '&' if query else ''}{cursor}"


async def _counts(mc: AppState, filt: BoardFilter, state: dict[str, board.ColumnState]) -> dict[str, int]:
    if not filt.active:
        return {s: state[s].n for s in STATUSES}
    key = ("counts", filt.key(), tuple(state[s].version for s in STATUSES))
    cached = mc.board.counts.get(key)
    if cached is None:
        found = await board.filtered_counts(mc.db, filt)
        cached = mc.board.counts.put(key, {s: found.get(s, 0) for s in STATUSES})
    return cached


async def render_columns(mc: AppState, filt: BoardFilter) -> BoardColumns:
    """All six columns: one read for versions and counts, then only the changed columns are rendered."""
    state = await board.board_state(mc.db)
    live = await mc.live.get()
    counts = await _counts(mc, filt, state)
    parts: list[str] = []
    for status in STATUSES:
        key = ("column", status, filt.key(), state[status].version, live)
        html = mc.board.columns.get(key)
        if html is None:
            cards, has_more, since = await board.column_first_page(mc.db, status, filt)
            view = ColumnView(
                status=status,
                label=STATUS_LABELS[status],
                count=counts[status],
                limit=mc.wip_limits.get(status),
                cards=cards,
                more_url=more_url(status, filt, cards[-1], since) if has_more else None,
                live=live,
            )
            html = mc.board.columns.put(key, render_html("fragments/board/column.html", column=view))
        parts.append(html)
    slots = Markup("").join(slot(s, html) for s, html in zip(STATUSES, parts, strict=True))
    assignees, tags = await known_choices(mc, state)
    return BoardColumns(slots, counts, parts, assignees, tags)


async def known_choices(mc: AppState, state: dict[str, board.ColumnState] | None = None) -> tuple[list[str], list[str]]:
    """Assignees and tags in use, for menus and datalists, cached until any ticket or tag changes."""
    # Both are DISTINCT scans over every ticket; any change to a ticket or a tag moves some version.
    state = state or await board.board_state(mc.db)
    key = ("choices", tuple(state[s].version for s in STATUSES))
    cached = mc.board.choices.get(key)
    if cached is None:
        cached = mc.board.choices.put(key, (await board.known_assignees(mc.db), await board.known_tags(mc.db)))
    return cached


def slot(status: str, column_html: str, oob: bool = False) -> Markup:
    """A column inside its stable slot: the target an out-of-band swap replaces after a move."""
    # The column HTML was rendered by an autoescaping template.
    column = Markup(column_html)  # noqa: S704
    return render_html("fragments/board/slot.html", status=status, column_html=column, oob=oob)


async def render_slots(mc: AppState, filt: BoardFilter, statuses: set[str]) -> Markup:
    """Out-of-band slots for the columns in `statuses` (after a move, both the old and the new column)."""
    columns = await render_columns(mc, filt)
    return Markup("").join(
        slot(s, str(part), oob=True) for s, part in zip(STATUSES, columns.parts, strict=True) if s in statuses
    )


def board_filter(assignee: str | None, tag: str | None, priority: str | None, q: str | None) -> BoardFilter:
    """Filters from query parameters; a priority that is not 1-4 is ignored rather than refused."""
    level = int(priority) if priority in ("1", "2", "3", "4") else None
    return BoardFilter(assignee=assignee or None, tag=tag or None, priority=level, q=(q or "").strip() or None)


def filter_from_url(url: str | None) -> BoardFilter:
    """The filters of the page a request came from (htmx sends it as HX-Current-URL)."""
    params = dict(parse_qsl(urlsplit(url or "").query))
    return board_filter(params.get("assignee"), params.get("tag"), params.get("priority"), params.get("q"))

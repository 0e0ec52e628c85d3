"""The board: columns of cards by status."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response, get

from app.htmx import render
from app.state import app_state
from app.store import tickets


class Column(msgspec.Struct, frozen=True):
    """One status column: its label, its count and its first page of cards."""

    status: str
    label: str
    count: int
    cards: list[tickets.Card]


class BoardPage(msgspec.Struct, frozen=True):
    """Context of the board."""

    title: str
    columns: list[Column]


@get("/board", cache=False)
async def board(request: Request[Any, Any, Any]) -> Response[str]:
    """Every column with its 30 most recently updated cards."""
    db = app_state(request).db
    counts = await tickets.count_by_status(db)
    cards = await tickets.list_board(db, limit=30)
    columns = [Column(s, tickets.STATUS_LABELS[s], counts[s], cards[s]) for s in tickets.STATUSES]
    ctx = BoardPage("Board", columns)
    return render(request, "templates/page.html", "fragments/board/board.html", ctx, priorities=tickets.PRIORITY_LABELS)

"""One search over tickets, comments, transcript messages and what agents did on tickets (their events, indexed
by app/event_index.py), ranked by bm25 within the newest hits.

Ranking every hit of a broad word is what makes full-text search slow: bm25 over the ~580,000 messages holding a
common word took 1.4 s here. So each kind ranks only its newest WINDOW hits (under the filters), found by rowid
order, which FTS5 walks cheaply; an older window is asked for by `before` (the page's "Older messages"). What this
trades: the best match older than the newest WINDOW hits of a broad query is not on the first page. A narrow query
(fewer hits than WINDOW) is ranked whole. The kinds are searched at once on readers of their own (SQLite lets go
of the GIL while it works), and snippets are made only for the hits shown. (sql/search.sql)"""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec

from app.db import Database
from app.search import normal_snippet, snippet_markers
from app.store import as_json, queries, run_once, structs_once

KINDS = ("ticket", "comment", "message", "event")
WINDOW = 1000  # hits ranked per kind and window
COUNT_CAP = 10_000  # hits are counted up to this ("10,000+")
NEWEST = 1 << 62  # `before` when no older window is asked for: above any rowid
_TABLES = {"ticket": "tickets", "comment": "comments", "message": "messages", "event": "events"}


class Filters(msgspec.Struct, frozen=True):
    """What narrows a search; None is "any"."""

    ticket: str | None = None  # an identifier
    agent: str | None = None  # a session's agent, a comment's author, a ticket's assignee
    since: str | None = None  # UTC stamps, since inclusive, until exclusive
    until: str | None = None


class Hit(msgspec.Struct, frozen=True):
    """One match: a ticket, a comment on one, a message of a session, or one of an agent's events on a ticket."""

    kind: str
    id: int  # the row of its kind (ticket id, comment id, indexed message id, indexed event block id)
    at: str
    ticket: str | None
    title: str  # the ticket's or the session's
    status: str | None
    session_id: str | None
    seq: int | None  # a message's line in its session, an event's seq on its ticket
    who: str  # assignee, author, agent or worker
    role: str  # a message's kind: user, assistant, tool_use, tool_result
    tool: str | None
    snippet: str  # its matches between app.search.OPEN and CLOSE
    rank: float = 0.0  # bm25: lower is better


class Page(msgspec.Struct, frozen=True):
    """A page of hits and what is needed to ask for the next."""

    hits: list[Hit]
    counts: dict[str, int]  # per kind searched, each up to COUNT_CAP
    more: bool  # another page in the same window
    older_before: int | None  # for a single kind: `before` of its next older window, when there is one


class _Ranked(msgspec.Struct, frozen=True):
    kind: str
    ids: list[tuple[int, float]]  # (id, rank), best first
    floor: int  # a full window's lowest rowid, where the next older one starts (0: the window held every hit)
    count: int


def _query(kind: str, part: str) -> Any:
    return getattr(queries, f"search_{_TABLES[kind]}_{part}")


def _filter_params(filters: Filters) -> dict[str, Any]:
    params: dict[str, Any] = msgspec.structs.asdict(filters)
    return params | {"filtered": int(any(v is not None for v in params.values()))}


async def _count(conn: Any, kind: str, match: str, filters: Filters) -> int:
    rows = await run_once(conn, _query(kind, "count"), match=match, cap=COUNT_CAP, **_filter_params(filters))
    return int(rows[0][0])


async def _rank(db: Database, kind: str, match: str, filters: Filters, wanted: int, before: int | None) -> _Ranked:
    """One kind's best `wanted` hits among its newest WINDOW (below `before`), and how many hits it has.

    One walk of the newest hits ranks them and says how many the window holds: when it is not full, that is the
    count, and a rare phrase (whose every candidate FTS5 must check) is walked once, not twice."""
    async with db.read() as conn:
        rows = await run_once(
            conn, _query(kind, "rank"), match=match, before=before or NEWEST, window=WINDOW, limit=wanted,
            **_filter_params(filters),
        )  # fmt: skip
        in_window, floor = (rows[0][2], rows[0][3]) if rows else (0, 0)
        full = in_window >= WINDOW
        count = await _count(conn, kind, match, filters) if full or before is not None else in_window
    return _Ranked(kind, [(row[0], row[1]) for row in rows], floor if full else 0, count)


async def _shown(db: Database, kind: str, match: str, ids: list[int], markers: tuple[str, str]) -> list[Hit]:
    if not ids:
        return []
    async with db.read() as conn:
        return await structs_once(
            Hit, conn, _query(kind, "shown"), match=match, ids=as_json(ids), open=markers[0], close=markers[1]
        )


async def search(
    db: Database,
    match: str,
    filters: Filters,
    kinds: tuple[str, ...] = KINDS,
    limit: int = 20,
    offset: int = 0,
    before: int | None = None,
) -> Page:
    """The best `limit` hits after `offset` among the newest WINDOW hits of each kind (below `before`)."""
    ranked = await asyncio.gather(*(_rank(db, k, match, filters, offset + limit + 1, before) for k in kinds))
    merged = sorted(((rank, -hit_id, r.kind, hit_id) for r in ranked for hit_id, rank in r.ids))
    page = merged[offset : offset + limit]
    markers = snippet_markers()
    shown_lists = await asyncio.gather(
        *(_shown(db, k, match, [hit_id for _, _, kind, hit_id in page if kind == k], markers) for k in kinds)
    )
    by_key = {(h.kind, h.id): h for hits in shown_lists for h in hits}
    hits = [
        msgspec.structs.replace(
            by_key[(kind, hit_id)], rank=rank, snippet=normal_snippet(by_key[(kind, hit_id)].snippet, markers)
        )
        for rank, _, kind, hit_id in page
        if (kind, hit_id) in by_key  # (a row deleted between the two reads is simply not shown)
    ]
    more = len(merged) > offset + limit
    older = ranked[0].floor if len(kinds) == 1 and not more and ranked[0].floor > 0 else None
    return Page(hits, {r.kind: r.count for r in ranked}, more, older)


async def count(db: Database, match: str, filters: Filters, kinds: tuple[str, ...] = KINDS) -> dict[str, int]:
    """Hits per kind, each counted up to COUNT_CAP."""

    async def one(kind: str) -> int:
        async with db.read() as conn:
            return await _count(conn, kind, match, filters)

    return dict(zip(kinds, await asyncio.gather(*(one(k) for k in kinds)), strict=True))

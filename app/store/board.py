"""The board's reads: column pages by keyset, counts and versions, filters, live markers."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

import msgspec

from app.clock import stamp_ago
from app.db import Database
from app.search import fts_query
from app.store import queries, to_structs
from app.store.events import WorkerEvent

PAGE_SIZE = 30
LIVE_WINDOW = timedelta(minutes=5)  # a busy heartbeat older than this no longer marks a card live


class Card(msgspec.Struct, frozen=True):
    """What a board card shows, with its place (sort_key, id) for keyset paging."""

    id: int
    identifier: str
    title: str
    status: str
    priority: int
    assigned_to: str | None
    sort_key: float
    tags: str | None = None

    @property
    def tag_list(self) -> list[str]:
        """Tags, sorted."""
        return sorted(self.tags.split()) if self.tags else []


class BoardFilter(msgspec.Struct, frozen=True):
    """The board's filters, as they appear in the URL. None means "any"; assignee "none" means unassigned."""

    assignee: str | None = None
    tag: str | None = None
    priority: int | None = None
    q: str | None = None

    @property
    def active(self) -> bool:
        """Whether any filter is set."""
        return any(v not in (None, "") for v in msgspec.structs.astuple(self))

    def key(self) -> tuple[object, ...]:
        """A hashable identity for caches."""
        return msgspec.structs.astuple(self)

    def query(self) -> str:
        """The filters as a query string (empty when none)."""
        pairs = [(k, v) for k, v in msgspec.structs.asdict(self).items() if v not in (None, "")]
        return urlencode(pairs)

    def params(self) -> dict[str, object]:
        """Named parameters for the board queries."""
        return {
            "assignee": "" if self.assignee == "none" else self.assignee or None,
            "tag": self.tag or None,
            "priority": self.priority,
            "match": fts_query(self.q),
        }


class ColumnState(msgspec.Struct, frozen=True):
    """A column's ticket count and version (the version moves with every change to a card in it)."""

    status: str
    n: int
    version: int


class _Count(msgspec.Struct, frozen=True):
    status: str
    n: int


class _Name(msgspec.Struct, frozen=True):
    name: str


async def board_state(db: Database) -> dict[str, ColumnState]:
    """Every column's count and version: one tiny read."""
    async with db.read() as conn:
        return {s.status: s for s in await to_structs(ColumnState, queries.board_state(conn))}


async def first_page(db: Database, status: str, filt: BoardFilter, limit: int = PAGE_SIZE) -> list[Card]:
    """A column's first cards under the filter."""
    async with db.read() as conn:
        rows = queries.board_first_page(conn, status=status, limit=limit, **filt.params())
        return await to_structs(Card, rows)


async def next_page(
    db: Database, status: str, filt: BoardFilter, after_key: float, after_id: int, limit: int = PAGE_SIZE
) -> list[Card]:
    """The cards after (after_key, after_id) in a column."""
    async with db.read() as conn:
        rows = queries.board_next_page(
            conn, status=status, after_key=after_key, after_id=after_id, limit=limit, **filt.params()
        )
        return await to_structs(Card, rows)


async def filtered_counts(db: Database, filt: BoardFilter) -> dict[str, int]:
    """Ticket counts per column under a filter."""
    async with db.read() as conn:
        return {c.status: c.n for c in await to_structs(_Count, queries.board_filtered_counts(conn, **filt.params()))}


class BusyBeat(msgspec.Struct, frozen=True):
    """A worker whose newest heartbeat says it is busy on a ticket."""

    ticket_id: int
    worker: str
    detail: str
    at: str


class RunGoingOn(msgspec.Struct, frozen=True):
    """A ticket whose run is going on: who posts it, when it last did, and that last event."""

    ticket_id: int
    worker: str
    at: str
    seq: int
    event_type: str
    payload_json: str
    rowid: int
    ts: str

    def event(self) -> WorkerEvent:
        """The run's last event."""
        return WorkerEvent(self.rowid, self.ticket_id, self.seq, self.event_type, self.payload_json, self.ts)


async def busy_beats(db: Database) -> list[BusyBeat]:
    """Workers busy on a ticket by their newest heartbeat, within LIVE_WINDOW."""
    async with db.read() as conn:
        return await to_structs(BusyBeat, queries.board_live_tickets(conn, since=stamp_ago(LIVE_WINDOW)))


async def runs_going_on(db: Database, stall_s: float) -> list[RunGoingOn]:
    """Tickets a worker posted to within `stall_s` seconds, where its last event was not a run's end."""
    since = stamp_ago(timedelta(seconds=stall_s))
    async with db.read() as conn:
        return await to_structs(RunGoingOn, queries.board_live_runs(conn, since=since))


class RunStalled(msgspec.Struct, frozen=True):
    """A ticket whose run went quiet without ending: who, and when it was last heard of."""

    ticket_id: int
    worker: str
    at: str


async def runs_stalled(db: Database, stall_s: float) -> list[RunStalled]:
    """Tickets whose worker's last event, between a day and `stall_s` seconds ago, was not a run's end."""
    quiet_since, seen_since = stamp_ago(timedelta(seconds=stall_s)), stamp_ago(timedelta(days=1))
    async with db.read() as conn:
        rows = queries.board_stalled_runs(conn, quiet_since=quiet_since, seen_since=seen_since)
        return await to_structs(RunStalled, rows)


async def known_assignees(db: Database) -> list[str]:
    """Names tickets are assigned to."""
    async with db.read() as conn:
        return [n.name for n in await to_structs(_Name, queries.board_assignees(conn))]


async def known_tags(db: Database) -> list[str]:
    """Tags in use."""
    async with db.read() as conn:
        return [n.name for n in await to_structs(_Name, queries.board_tags(conn))]


async def column_first_page(db: Database, status: str, filt: BoardFilter) -> tuple[list[Card], bool, str]:
    """A column's first page, whether more follow, and when the column last changed (one read each)."""
    async with db.read() as conn:
        rows = queries.board_first_page(conn, status=status, limit=PAGE_SIZE + 1, **filt.params())
        cards = await to_structs(Card, rows)
        since = await queries.board_column_last_change(conn, status=status) or ""
    return cards[:PAGE_SIZE], len(cards) > PAGE_SIZE, str(since)


async def changed_above(
    db: Database, status: str, filt: BoardFilter, since: str, after_key: float, after_id: int
) -> list[Card]:
    """Cards changed since `since` that now sort above the cursor (a page drawn before has not shown them)."""
    async with db.read() as conn:
        rows = queries.board_changed_above(
            conn, status=status, since=since, after_key=after_key, after_id=after_id, **filt.params()
        )
        return await to_structs(Card, rows)


class Found(msgspec.Struct, frozen=True):
    """A ticket a search found."""

    identifier: str
    title: str
    status: str


async def search_tickets(db: Database, text: str, limit: int = 8) -> list[Found]:
    """Tickets matching `text` in title or description, best first."""
    match = fts_query(text)
    if match is None:
        return []
    async with db.read() as conn:
        return await to_structs(Found, queries.board_search(conn, match=match, limit=limit))

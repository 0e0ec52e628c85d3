"""Operations data: heartbeats, scheduled task runs, the message queue, the activity feed."""

from __future__ import annotations

import msgspec

from app.db import Database
from app.store import queries, to_structs


class Heartbeat(msgspec.Struct, frozen=True):
    """One health report from a worker or service."""

    worker: str
    status: str
    detail: str
    ts: str
    ticket: str | None


class LastEvent(msgspec.Struct, frozen=True):
    """What a worker last posted on a ticket (worker_activity)."""

    worker: str
    last_at: str
    last_type: str
    ticket: str | None


class TaskSummary(msgspec.Struct, frozen=True):
    """A scheduled task across its runs."""

    task_name: str
    runs: int
    failures: int
    last_started_at: str
    last_status: str
    avg_ms: int | None


class ActivityItem(msgspec.Struct, frozen=True):
    """One line of the activity feed."""

    kind: str  # comment | run | created
    at: str
    key: str  # with `at`, where the item stands in the feed (the next page starts after it)
    identifier: str
    title: str
    actor: str
    summary: str
    ticket_id: int
    seq: int  # a run's: its worker's last event


class StatusCount(msgspec.Struct, frozen=True):
    """How many queued messages have a status."""

    status: str
    n: int


async def latest_heartbeats(db: Database) -> list[Heartbeat]:
    """Each worker's newest heartbeat."""
    async with db.read() as conn:
        return await to_structs(Heartbeat, queries.ops_latest_heartbeats(conn))


async def last_events(db: Database) -> list[LastEvent]:
    """Each worker's newest event, with the ticket it was on."""
    async with db.read() as conn:
        return await to_structs(LastEvent, queries.ops_last_events(conn))


async def task_summaries(db: Database) -> list[TaskSummary]:
    """One line per scheduled task."""
    async with db.read() as conn:
        return await to_structs(TaskSummary, queries.ops_task_summaries(conn))


async def queue_counts(db: Database) -> dict[str, int]:
    """Queued messages by status."""
    async with db.read() as conn:
        return {c.status: c.n for c in await to_structs(StatusCount, queries.ops_queue_counts(conn))}


async def count_sessions(db: Database) -> int:
    """Registered agent sessions."""
    async with db.read() as conn:
        return int(await queries.ops_count_sessions(conn))


class FeedFilter(msgspec.Struct, frozen=True):
    """What the feed is narrowed to (None: everything)."""

    kind: str | None = None  # comment, run, created
    ticket: str | None = None  # an identifier
    actor: str | None = None  # who commented, whose run, whose ticket


async def recent_activity(
    db: Database, limit: int = 60, before: tuple[str, str] | None = None, only: FeedFilter | None = None
) -> list[ActivityItem]:
    """The activity feed, newest first, after the keyset `before` (an item's (at, key)), narrowed by `only`."""
    only = only or FeedFilter()
    async with db.read() as conn:
        return await to_structs(
            ActivityItem,
            queries.ops_recent_activity(
                conn, before_at=before[0] if before else None, before_key=before[1] if before else None,
                kind=only.kind, ticket=only.ticket, actor=only.actor, limit=limit,
            ),
        )  # fmt: skip


async def record_heartbeat(db: Database, worker: str, status: str, detail: str, ticket: str | None) -> int:
    """Store a worker's heartbeat; return its id."""
    async with db.write() as conn:
        return int(
            await queries.ops_insert_heartbeat(
                conn, worker=worker, ticket_identifier=ticket, status=status, detail=detail
            )
        )


class WorkerCount(msgspec.Struct, frozen=True):
    worker: str
    n: int


class WorkerHour(msgspec.Struct, frozen=True):
    worker: str
    hour: str  # '2026-12-02T09' (UTC)
    n: int


class TeamNumbers(msgspec.Struct, frozen=True):
    """What Team counts per worker: sessions started today, tickets closed this week, events per hour."""

    sessions: dict[str, int]
    done: dict[str, int]
    hours: dict[str, dict[str, int]]  # worker -> hour -> events


async def team_numbers(db: Database, today: str, week: str, since_hour: str) -> TeamNumbers:
    """Sessions since `today`, tickets done since `week`, events per hour since `since_hour` (one read)."""
    async with db.read() as conn:
        sessions = await to_structs(WorkerCount, queries.ops_sessions_since(conn, since=today))
        done = await to_structs(WorkerCount, queries.ops_done_since(conn, since=week))
        hours = await to_structs(WorkerHour, queries.ops_worker_hours(conn, since=since_hour))
    by_worker: dict[str, dict[str, int]] = {}
    for row in hours:
        by_worker.setdefault(row.worker, {})[row.hour] = row.n
    return TeamNumbers({c.worker: c.n for c in sessions}, {c.worker: c.n for c in done}, by_worker)

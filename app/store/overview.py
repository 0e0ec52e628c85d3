"""What the Overview's "Needs you" lists (sql/overview.sql)."""

from __future__ import annotations

import msgspec

from app.db import Database
from app.store import as_json, queries, run_once, structs_once

SHOWN = 8  # items of each kind (the rest is counted and linked)


class WaitingTicket(msgspec.Struct, frozen=True):
    identifier: str
    title: str
    status: str
    updated_at: str
    assignee: str
    id: int
    sort_key: float | None


class LostMessage(msgspec.Struct, frozen=True):
    id: int
    ticket: str | None
    worker: str
    body: str
    status: str  # dead or expired
    attempts: int
    last_error: str
    updated_at: str


class FailedTask(msgspec.Struct, frozen=True):
    task_name: str
    started_at: str
    exit_code: int | None
    output_tail: str


class StalledRun(msgspec.Struct, frozen=True):
    worker: str
    ticket: str
    title: str
    last_at: str
    last_type: str


class NeedsYou(msgspec.Struct, frozen=True):
    """Everything that waits on a person, each kind oldest first."""

    tickets: list[WaitingTicket]
    tickets_total: int
    messages: list[LostMessage]
    tasks: list[FailedTask]
    stalled: list[StalledRun]


async def needs_you(db: Database, quiet_since: str, seen_since: str) -> NeedsYou:
    """What waits on a person: tickets in review or blocked, undeliverable messages, failed tasks, stalled runs."""
    async with db.read() as conn:
        return NeedsYou(
            tickets=await structs_once(WaitingTicket, conn, queries.overview_waiting_tickets, limit=SHOWN),
            tickets_total=(await run_once(conn, queries.overview_count_waiting_tickets))[0][0],
            messages=await structs_once(LostMessage, conn, queries.overview_lost_messages, limit=SHOWN),
            tasks=await structs_once(FailedTask, conn, queries.overview_failed_tasks),
            stalled=await structs_once(
                StalledRun, conn, queries.overview_stalled_runs, quiet_since=quiet_since, seen_since=seen_since,
                limit=SHOWN,
            ),
        )  # fmt: skip


class DayCount(msgspec.Struct, frozen=True):
    day: str  # a UTC date
    n: int


class HourCount(msgspec.Struct, frozen=True):
    hour: str  # '2026-12-02T09' (UTC)
    n: int


class Trends(msgspec.Struct, frozen=True):
    """What the Overview charts: tickets created and closed per day, events posted per hour."""

    created: list[DayCount]
    closed: list[DayCount]
    hours: list[HourCount]


class TicketName(msgspec.Struct, frozen=True):
    id: int
    identifier: str
    title: str


class QueueWaiting(msgspec.Struct, frozen=True):
    depth: int  # queued or leased out
    oldest: str | None  # when the oldest of them was queued


class LastTaskRun(msgspec.Struct, frozen=True):
    task_name: str
    started_at: str
    status: str


async def trends(db: Database, since_day: str, since_hour: str) -> Trends:
    """Created and closed tickets per day from `since_day`, events per hour from `since_hour` (one read)."""
    async with db.read() as conn:
        return Trends(
            created=await structs_once(DayCount, conn, queries.overview_created_per_day, since=since_day),
            closed=await structs_once(DayCount, conn, queries.overview_closed_per_day, since=since_day),
            hours=await structs_once(HourCount, conn, queries.overview_event_hours, since=since_hour),
        )


async def ticket_names(db: Database, ids: list[int]) -> dict[int, TicketName]:
    """Identifier and title of each of `ids` that still exists."""
    if not ids:
        return {}
    async with db.read() as conn:
        rows = await structs_once(TicketName, conn, queries.overview_tickets_named, ids=as_json(ids))
    return {row.id: row for row in rows}


async def queue_waiting(db: Database) -> QueueWaiting:
    """How many messages wait for a worker, and since when the oldest."""
    async with db.read() as conn:
        rows = await structs_once(QueueWaiting, conn, queries.overview_queue_waiting)
    return rows[0]


async def last_task_run(db: Database) -> LastTaskRun | None:
    """The newest task run, if any."""
    async with db.read() as conn:
        rows = await structs_once(LastTaskRun, conn, queries.overview_last_task_run)
    return rows[0] if rows else None

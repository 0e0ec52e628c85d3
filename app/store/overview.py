"""What the Overview's "Needs you" lists (sql/overview.sql)."""

from __future__ import annotations

import msgspec

from app.db import Database
from app.store import queries, run_once, structs_once

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

"""The Logs page's history from the database: task runs and heartbeats, filtered, paged by keyset
(sql/logs.sql). Each function picks the query whose index serves its filter."""

from __future__ import annotations

import msgspec

from app.db import Database
from app.store import queries, structs_once
from app.store.tasks import Run

OUTPUT_TAIL = 8000  # characters of a run's output the page shows (the rest is on /tasks)


class RunLine(Run, frozen=True):
    """A task run as the log shows it: its output's tail, and how long the whole output is."""

    output_chars: int

    def cursor(self) -> str:
        """Its place in the keyset: the next page starts after it."""
        return f"{self.started_at}.{self.id}"


class Beat(msgspec.Struct, frozen=True):
    """One heartbeat, with the ticket its worker was on."""

    id: int
    worker: str
    status: str
    detail: str
    ts: str
    ticket: str | None


class RunFilter(msgspec.Struct, frozen=True):
    """Which runs: of one task (None: all), only failed ones, holding some text (None: any)."""

    task: str | None = None
    failed: bool = False
    q: str | None = None


class BeatFilter(msgspec.Struct, frozen=True):
    """Which heartbeats: of one worker, of one status, holding some text (each None: any)."""

    worker: str | None = None
    status: str | None = None
    q: str | None = None


async def task_runs(db: Database, only: RunFilter, before: tuple[str, int] | None, limit: int) -> list[RunLine]:
    """Runs newest first under the filter, after the keyset `before` (a run's (started_at, id))."""
    keyset = {"before_started": before[0] if before else None, "before_id": before[1] if before else None}
    common = {"q": only.q, "limit": limit, "tail": OUTPUT_TAIL, **keyset}
    async with db.read() as conn:
        if only.task is not None:
            query, args = queries.logs_task_runs_of, {"task": only.task, "failed": int(only.failed), **common}
        elif only.failed:
            query, args = queries.logs_failed_runs, common
        else:
            query, args = queries.logs_task_runs, common
        return await structs_once(RunLine, conn, query, **args)


async def heartbeats(db: Database, only: BeatFilter, before: int | None, limit: int) -> list[Beat]:
    """Heartbeats newest first under the filter, before the id `before`."""
    common = {"q": only.q, "before": before, "limit": limit}
    async with db.read() as conn:
        if only.worker is not None:
            query, args = queries.logs_heartbeats_of, {"worker": only.worker, "status": only.status, **common}
        elif only.status is not None:
            query, args = queries.logs_heartbeats_in, {"status": only.status, **common}
        else:
            query, args = queries.logs_heartbeats, common
        return await structs_once(Beat, conn, query, **args)

"""Scheduled task runs: what the scheduler writes, what /tasks reads (sql/tasks.sql)."""

from __future__ import annotations

from collections.abc import Mapping

import msgspec

from app.db import Database
from app.store import queries, run_once, structs_once


class Run(msgspec.Struct, frozen=True):
    """One run of a task."""

    id: int
    task_name: str
    status: str  # running, ok, error, skipped
    started_at: str
    finished_at: str | None
    duration_ms: int | None
    exit_code: int | None
    trigger: str  # schedule, manual, external
    output: str


class Point(msgspec.Struct, frozen=True):
    """A run as its task's line and sparkline show it."""

    task_name: str
    id: int
    status: str
    started_at: str
    duration_ms: int | None
    exit_code: int | None


class Request(msgspec.Struct, frozen=True):
    """A run a person asked for."""

    task_name: str
    requested_by: str | None


class Waiting(msgspec.Struct, frozen=True):
    task_name: str
    requested_at: str


async def start_run(db: Database, task_name: str, trigger: str, started_at: str) -> int:
    """Record a run as under way; its id."""
    async with db.write() as conn:
        rows = await run_once(
            conn, queries.tasks_start_run, task_name=task_name, trigger=trigger, started_at=started_at
        )
    return int(rows[0][0])


async def finish_run(
    db: Database, run_id: int, status: str, finished_at: str, duration_ms: int, exit_code: int | None, output: str
) -> None:
    """Record how a run ended."""
    async with db.write() as conn:
        await run_once(
            conn, queries.tasks_finish_run, id=run_id, status=status, finished_at=finished_at,
            duration_ms=duration_ms, exit_code=exit_code, output=output,
        )  # fmt: skip


async def report_run(db: Database, run: Mapping[str, object]) -> int:
    """Record a finished run an external scheduler reports; its id."""
    async with db.write() as conn:
        rows = await run_once(conn, queries.tasks_report_run, **run)
    return int(rows[0][0])


async def running(db: Database, task_name: str) -> bool:
    """Whether a run of the task is under way (in any process)."""
    async with db.read() as conn:
        return bool((await run_once(conn, queries.tasks_running, task_name=task_name))[0][0])


async def abandon_running(db: Database, finished_at: str) -> None:
    """Close the runs a scheduler that died left under way (only the one scheduler calls this, at its start)."""
    async with db.write() as conn:
        await run_once(conn, queries.tasks_abandon_running, finished_at=finished_at)


async def request_run(db: Database, task_name: str, requested_by: str | None) -> None:
    """Ask the scheduler to run a task now."""
    async with db.write() as conn:
        await run_once(conn, queries.tasks_request, task_name=task_name, requested_by=requested_by)


async def take_requests(db: Database, taken_at: str) -> list[Request]:
    """The runs people asked for, each handed out once."""
    async with db.write() as conn:
        return await structs_once(Request, conn, queries.tasks_take_requests, taken_at=taken_at)


async def waiting(db: Database) -> list[Waiting]:
    """Tasks with a "Run now" not taken yet."""
    async with db.read() as conn:
        return await structs_once(Waiting, conn, queries.tasks_waiting)


async def recent_runs(db: Database, task_name: str | None, before: tuple[str, int] | None, limit: int) -> list[Run]:
    """Runs newest first, of one task or all, after a keyset."""
    async with db.read() as conn:
        return await structs_once(
            Run, conn, queries.tasks_recent_runs, task_name=task_name,
            before_started=before[0] if before else None, before_id=before[1] if before else None, limit=limit,
        )  # fmt: skip


async def history(db: Database, per_task: int) -> dict[str, list[Point]]:
    """Each task's newest `per_task` runs, newest first."""
    async with db.read() as conn:
        points = await structs_once(Point, conn, queries.tasks_history, per_task=per_task)
    found: dict[str, list[Point]] = {}
    for point in points:
        found.setdefault(point.task_name, []).append(point)
    return found

"""Scheduled tasks: /tasks (each task with its schedule, next run, last result, a duration sparkline and Run now;
the runs, paged by keyset), POST /tasks/<name>/run, and POST /api/v1/task-runs for an external scheduler."""

from __future__ import annotations

import datetime as dt
import time
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

import msgspec
from litestar import Request, Response, get, post
from litestar.exceptions import HTTPException, NotFoundException
from litestar.params import FromPath, JSONBody, Parameter
from litestar.response import Redirect
from markupsafe import Markup

from app.auth import WORKER
from app.charts import sparkline
from app.clock import stamp, utcnow
from app.htmx import render_text
from app.kept_pages import keep, view_key
from app.openapi import refusals
from app.params import MOMENT, parse_moment
from app.reaper import ProcessLock
from app.state import AppState, app_state
from app.store import tasks as store
from app.streams import NO_COMPRESSION
from app.tasks import NAME, Task, TaskFile, current_tasks, tasks_version

RUNS_SHOWN = 30
KEPT_S = 5.0
HISTORY = 20  # runs per task in its line and sparkline
Moment = Annotated[
    str, msgspec.Meta(pattern=MOMENT, extra_json_schema={"format": "date-time"}, description="2026-12-01T03:15:00Z")
]
RUN_CURSOR = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]{12}Z\.[0-9]{1,16}$"


class TaskRow(msgspec.Struct, frozen=True):
    """A task as its line on /tasks shows it."""

    name: str
    anchor: str
    task: Task | None  # None: only known from its runs (an external scheduler's, or gone from the file)
    next_at: str | None
    last: store.Point | None
    runs: int  # in the history shown
    failures: int
    spark: Markup
    waiting_since: str | None


class TasksPage(msgspec.Struct, frozen=True):
    """Context of /tasks."""

    title: str
    tasks_file: str
    problems: list[str]
    rows: list[TaskRow]
    runs: list[store.Run]
    task: str  # the runs' filter ("" for all)
    older_url: str
    scheduling: bool  # a scheduler holds its lock (in some process)


class TaskRunIn(msgspec.Struct, frozen=True):
    """A finished run an external scheduler reports (cron, systemd timers…)."""

    task: Annotated[str, msgspec.Meta(pattern=NAME, description="The task's name")]
    status: Literal["ok", "error", "skipped"]
    started_at: Moment
    finished_at: Moment | None = None
    # (gt=-1, not ge=0: Litestar leaves a minimum of 0 out of the OpenAPI document, as if it were no minimum.)
    duration_ms: Annotated[int, msgspec.Meta(gt=-1, le=31_536_000_000)] | None = None
    exit_code: Annotated[int, msgspec.Meta(ge=-255, le=255)] | None = None
    output: Annotated[str, msgspec.Meta(max_length=65_536, description="Its output's tail")] = ""


class Reported(msgspec.Struct, frozen=True):
    id: int


def anchor_of(name: str) -> str:
    """The id of a task's line on the page."""
    return "task-" + "".join(ch if ch.isalnum() else "-" for ch in name.lower())


def rows_of(tasks: list[Task], history: dict[str, list[store.Point]], waiting: dict[str, str]) -> list[TaskRow]:
    """The file's tasks in its order, then the names only runs know, by name."""
    now = utcnow()
    named = {t.name: t for t in tasks}
    found = []
    for name in [*named, *sorted(n for n in history if n not in named)]:
        task, points = named.get(name), history.get(name, [])
        oldest_first = list(reversed(points))
        durations = [p.duration_ms / 1000 if p.duration_ms is not None else None for p in oldest_first]
        failed = [p.status == "error" for p in oldest_first]
        label = f"{name}: durations of its last {len(points)} runs, {sum(failed)} failed"
        next_at = stamp(task.next_run(now)) if task and task.enabled else None
        found.append(
            TaskRow(
                name, anchor_of(name), task, next_at, points[0] if points else None, len(points), sum(failed),
                sparkline(durations, failed, label), waiting.get(name),
            )
        )  # fmt: skip
    return found


@get("/tasks", cache=False, opt={NO_COMPRESSION: True})  # kept gzipped: app/kept_pages.py
async def tasks_page(
    request: Request[Any, Any, Any],
    task: Annotated[str | None, Parameter(max_length=100)] = None,
    before: Annotated[str | None, Parameter(pattern=RUN_CURSOR)] = None,
) -> Response[bytes]:
    """Scheduled tasks: what runs when, how it went, and Run now; the runs newest first. Kept, rendered, while
    nothing is written and the tasks file is unchanged, for at most KEPT_S seconds (next runs, the scheduler)."""
    mc = app_state(request)
    tasks = current_tasks(mc.settings.tasks_file)
    version = tasks_version(mc.settings.tasks_file)
    key = view_key(request, mc.db.generation, int(time.monotonic() // KEPT_S), version)
    return await keep(mc.ops_pages, request, key, lambda: build_tasks_page(request, mc, tasks, task, before))


async def build_tasks_page(
    request: Request[Any, Any, Any], mc: AppState, tasks: TaskFile, task: str | None, before: str | None
) -> str:
    """The page (or its fragment) as the database and the tasks file have it now."""
    cursor = None
    if before:
        started, _, run_id = before.rpartition(".")
        cursor = (started, int(run_id))
    runs = await store.recent_runs(mc.db, task or None, cursor, RUNS_SHOWN + 1)
    older = ""
    if len(runs) > RUNS_SHOWN:
        last = runs[RUNS_SHOWN - 1]
        older = "/tasks?" + urlencode(
            {k: v for k, v in {"task": task or "", "before": f"{last.started_at}.{last.id}"}.items() if v}
        )
    waiting = {w.task_name: w.requested_at for w in await store.waiting(mc.db)}
    ctx = TasksPage(
        title="Tasks",
        tasks_file=tasks.path,
        problems=tasks.problems,
        rows=rows_of(tasks.tasks, await store.history(mc.db, HISTORY), waiting),
        runs=runs[:RUNS_SHOWN],
        task=task or "",
        older_url=older,
        scheduling=ProcessLock(mc.db.path, "scheduler").taken_elsewhere(),
    )
    return render_text(request, "templates/page.html", "fragments/ops/tasks.html", ctx)


@post("/tasks/{name:str}/run")
async def run_now(request: Request[Any, Any, Any], name: FromPath[str]) -> Redirect:
    """Ask the scheduler to run a task now (it starts within its tick, unless a run is under way)."""
    mc = app_state(request)
    if current_tasks(mc.settings.tasks_file).named(name) is None:
        raise NotFoundException(f"There is no task {name!r} in the tasks file.")
    user = request.scope.get("user")
    await store.request_run(mc.db, name, getattr(user, "name", None))
    return Redirect(path=f"/tasks#{anchor_of(name)}", status_code=303)


@post(
    "/api/v1/task-runs",
    opt=WORKER,
    status_code=201,
    responses=refusals({422: "finished_at is before started_at"}),
    tags=["Tasks"],
)
async def report_run(request: Request[Any, Any, Any], data: JSONBody[TaskRunIn]) -> Reported:
    """Record a run of a task that another scheduler ran; it shows on /tasks with the scheduler's own."""
    began = parse_moment(data.started_at, "started_at")
    ended = parse_moment(data.finished_at, "finished_at") if data.finished_at else None
    started, finished = stamp(began), stamp(ended) if ended else None
    duration = data.duration_ms
    if ended is not None:
        took = ended - began
        if took < dt.timedelta(0):
            raise HTTPException(status_code=422, detail="finished_at is before started_at")
        duration = duration if duration is not None else round(took.total_seconds() * 1000)
    row: dict[str, object] = {
        "task_name": data.task, "status": data.status, "started_at": started, "finished_at": finished,
        "duration_ms": duration, "exit_code": data.exit_code, "output": data.output,
    }  # fmt: skip
    return Reported(await store.report_run(app_state(request).db, row))


ROUTES = [tasks_page, run_now, report_run]

"""Logs: /logs (task runs' output), /logs/heartbeats, and /logs/files/<slug> for each file MC_LOG_FILES lists,
each filtered in the URL and paged by keyset; /logs/files/<slug>/tail follows a file over SSE (?follow=1)."""

from __future__ import annotations

import asyncio
from functools import partial
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

import msgspec
from litestar import Request, Response, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, HeaderParameter, Parameter

from app.htmx import render, render_text
from app.kept_pages import keep, view_key
from app.logfiles import LogFile, Record, RecordFilter, log_files
from app.logstream import follow_file
from app.logtail import FileView, Position, read_page
from app.params import MAX_ID
from app.settings import Settings
from app.state import AppState, app_state
from app.store import logs as store
from app.streams import NO_COMPRESSION, TAILS_WHEN_FOLLOWING, StreamResponse

PAGE = "templates/page.html"
RUNS_SHOWN, BEATS_SHOWN, RECORDS_SHOWN = 50, 100, 100
RUN_CURSOR = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]{12}Z\.[0-9]{1,16}$"  # a run's "started_at.id"
POSITION = r"^[0-9]{1,20}\.[0-9]{1,19}$"  # "inode.offset": where in which file a follow goes on
Text = Annotated[str | None, Parameter(max_length=200, description="Only entries holding this text (any case)")]
Offset = Annotated[int | None, Parameter(ge=1, le=MAX_ID, description="Records before this byte offset")]


class Tab(msgspec.Struct, frozen=True):
    """One source of logs, as its tab shows it."""

    label: str
    url: str
    current: bool
    title: str = ""  # a file's whole path


class RunsLog(msgspec.Struct, frozen=True):
    """Context of /logs: task runs, newest first."""

    title: str
    tabs: list[Tab]
    runs: list[store.RunLine]
    task: str
    failed: bool
    q: str
    older_url: str
    filtered: bool


class BeatsLog(msgspec.Struct, frozen=True):
    """Context of /logs/heartbeats."""

    title: str
    tabs: list[Tab]
    beats: list[store.Beat]
    worker: str
    status: str
    q: str
    older_url: str
    filtered: bool


class FileLog(msgspec.Struct, frozen=True):
    """Context of /logs/files/<slug>: a page of the file's records, newest first, and the links around it."""

    title: str
    tabs: list[Tab]
    file: LogFile
    view: FileView
    level: str
    q: str
    paged: bool  # an older page (not the newest)
    following: bool

    @property
    def filtered(self) -> bool:
        """Whether a filter hides some records."""
        return self.level != "all" or bool(self.q)

    def url(self, suffix: str = "", **query: object) -> str:
        """This file's page (or `suffix` of it) under the same filters."""
        shown = "" if self.level == "all" else self.level
        return link(f"/logs/files/{self.file.slug}{suffix}", level=shown, q=self.q, **query)

    @property
    def older_url(self) -> str:
        """The page before this one ("" at the file's start)."""
        return self.url(before=self.view.older) if self.view.older else ""

    @property
    def newest_url(self) -> str:
        """Back to the newest page, from an older one."""
        return self.url() if self.paged else ""

    @property
    def follow_url(self) -> str:
        """This page following the file, or while it follows, not."""
        return self.url(follow=int(not self.following))

    @property
    def tail_url(self) -> str:
        """While following: the stream of what the file appends after what this page read."""
        at = self.view.position
        return self.url("/tail", follow=1, after=at.text()) if self.following and at else ""


def link(path: str, **query: object) -> str:
    """`path` with the query parameters that have a value."""
    kept = {k: v for k, v in query.items() if v not in (None, "", False)}
    return f"{path}?{urlencode(kept)}" if kept else path


def tabs_of(settings: Settings, current: str) -> list[Tab]:
    """The sources: task runs, heartbeats, then each listed file."""
    tabs = [Tab("Task runs", "/logs", current == "/logs"), Tab("Heartbeats", "/logs/heartbeats", current == "beats")]
    for file in log_files(settings.log_file_paths):
        tabs.append(Tab(file.name, f"/logs/files/{file.slug}", current == file.slug, file.path))
    return tabs


def listed(settings: Settings, slug: str) -> LogFile:
    """The listed file with this slug; only these are ever read."""
    for file in log_files(settings.log_file_paths):
        if file.slug == slug:
            return file
    raise NotFoundException(f"No log file is called {slug!r} here: the Logs page reads only those MC_LOG_FILES lists.")


@get("/logs", cache=False, opt={NO_COMPRESSION: True})  # kept gzipped: app/kept_pages.py
async def runs_log(
    request: Request[Any, Any, Any],
    task: Annotated[str | None, Parameter(max_length=100, description="Only this task's runs")] = None,
    failed: Annotated[bool, Parameter(description="Only failed runs")] = False,
    q: Text = None,
    before: Annotated[str | None, Parameter(pattern=RUN_CURSOR, description="Runs after this one")] = None,
) -> Response[bytes]:
    """Task runs with their output, newest first (kept, rendered, while nothing is written)."""
    mc = app_state(request)
    build = partial(runs_page, request, mc, (task or "").strip(), failed, (q or "").strip(), before)
    return await keep(mc.ops_pages, request, view_key(request, mc.db.generation), build)


async def runs_page(
    request: Request[Any, Any, Any], mc: AppState, task: str, failed: bool, q: str, before: str | None
) -> str:
    """A page of task runs (or its fragment) as the database has it now."""
    cursor = None
    if before:
        started, _, run_id = before.rpartition(".")
        cursor = (started, int(run_id))
    runs = await store.task_runs(mc.db, store.RunFilter(task or None, failed, q or None), cursor, RUNS_SHOWN + 1)
    older = ""
    if len(runs) > RUNS_SHOWN:
        older = link("/logs", task=task, failed=int(failed), q=q, before=runs[RUNS_SHOWN - 1].cursor())
    ctx = RunsLog(
        "Logs", tabs_of(mc.settings, "/logs"), runs[:RUNS_SHOWN], task, failed, q, older,
        bool(task or failed or q or before),
    )  # fmt: skip
    return render_text(request, PAGE, "fragments/logs/runs.html", ctx)


@get("/logs/heartbeats", cache=False, opt={NO_COMPRESSION: True})  # kept gzipped: app/kept_pages.py
async def heartbeats_log(
    request: Request[Any, Any, Any],
    worker: Annotated[str | None, Parameter(max_length=100, description="Only this worker's")] = None,
    status: Annotated[
        Literal["any", "ok", "busy", "idle", "degraded", "down"], Parameter(description="Only of this status")
    ] = "any",
    q: Text = None,
    before: Annotated[int | None, Parameter(ge=1, le=MAX_ID, description="Heartbeats before this id")] = None,
) -> Response[bytes]:
    """Every heartbeat workers sent, newest first (kept, rendered, while nothing is written)."""
    mc = app_state(request)
    build = partial(beats_page, request, mc, (worker or "").strip(), status, (q or "").strip(), before)
    return await keep(mc.ops_pages, request, view_key(request, mc.db.generation), build)


async def beats_page(
    request: Request[Any, Any, Any], mc: AppState, worker: str, status: str, q: str, before: int | None
) -> str:
    """A page of heartbeats (or its fragment) as the database has it now."""
    only = store.BeatFilter(worker or None, None if status == "any" else status, q or None)
    beats = await store.heartbeats(mc.db, only, before, BEATS_SHOWN + 1)
    older = ""
    if len(beats) > BEATS_SHOWN:
        shown = "" if status == "any" else status
        older = link("/logs/heartbeats", worker=worker, status=shown, q=q, before=beats[BEATS_SHOWN - 1].id)
    ctx = BeatsLog(
        "Heartbeats · Logs", tabs_of(mc.settings, "beats"), beats[:BEATS_SHOWN], worker, status, q, older,
        bool(worker or status != "any" or q or before),
    )  # fmt: skip
    return render_text(request, PAGE, "fragments/logs/heartbeats.html", ctx)


Level = Annotated[Literal["all", "debug", "info", "warning", "error"], Parameter(description="At least this level")]


@get("/logs/files/{slug:str}", cache=False)
async def file_log(
    request: Request[Any, Any, Any],
    slug: FromPath[str],
    level: Level = "all",
    q: Text = None,
    before: Offset = None,
    follow: Annotated[bool, Parameter(description="Keep adding what the file appends (needs JavaScript)")] = False,
) -> Response[str]:
    """A listed log file's records, newest first, read from its end; following it as it grows."""
    mc = app_state(request)
    file, q = listed(mc.settings, slug), (q or "").strip()
    keep = RecordFilter(None if level == "all" else level, q)
    view = await asyncio.to_thread(read_page, file.path, before, keep, RECORDS_SHOWN)
    following = follow and before is None and not view.problem
    ctx = FileLog(
        f"{file.name} · Logs", tabs_of(mc.settings, slug), file, view, level, q, before is not None, following
    )
    return render(request, PAGE, "fragments/logs/file.html", ctx)


@get("/logs/files/{slug:str}/tail", cache=False, opt=TAILS_WHEN_FOLLOWING)
async def file_tail(
    request: Request[Any, Any, Any],
    slug: FromPath[str],
    follow: Annotated[Literal["0", "1", "true", "false"], Parameter(description="1: keep streaming")] = "0",
    level: Level = "all",
    q: Text = None,
    lines: Annotated[int, Parameter(ge=1, le=5000, description="How many of the last records")] = 100,
    after: Annotated[str | None, Parameter(pattern=POSITION, description="Go on from here (inode.offset)")] = None,
    last_event_id: Annotated[str | None, HeaderParameter(name="Last-Event-ID", pattern=POSITION)] = None,
) -> Response[str] | StreamResponse:
    """The file's last records as text, or with ?follow=1 a stream of what it appends (after `after`, or
    Last-Event-ID, else from now), each frame the page's records, newest first."""
    mc = app_state(request)
    file = listed(mc.settings, slug)
    keep = RecordFilter(None if level == "all" else level, (q or "").strip())
    if follow in ("1", "true"):
        start = last_event_id or after
        return follow_file(mc, file.path, Position.parse(start) if start else None, keep)
    view = await asyncio.to_thread(read_page, file.path, None, keep, lines)
    if view.problem:
        raise NotFoundException(f"{file.path}: {view.problem}")
    return Response(as_text(view.records), media_type="text/plain; charset=utf-8")


def as_text(records: list[Record]) -> str:
    """Records (newest first) as the file has them, oldest first."""
    return "".join("\n".join(record.lines) + "\n" for record in reversed(records))


ROUTES = [runs_log, heartbeats_log, file_log, file_tail]

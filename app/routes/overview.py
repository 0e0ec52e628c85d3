"""The Overview: what needs the person first, then what runs now, the trends, the tasks and the health of it all.

The page is kept, rendered, while nothing is written (the database's generation moves at every commit, any
process's) and for at most KEPT_S seconds (what reads by age: stale workers, stalled runs, the queue's wait)."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import msgspec
from litestar import Request, Response, get

from app import rules
from app.charts import BarChart, bar_chart
from app.clock import stamp, stamp_ago, utcnow
from app.htmx import render_text
from app.kept_pages import keep, view_key
from app.live_marks import LiveMark, live_marks
from app.state import AppState, app_state
from app.store import admin, board, ops
from app.store import overview as store
from app.streams import NO_COMPRESSION
from app.tasks import current_tasks
from app.team import Member, team_now
from app.vitals import Vital, database_vitals, process_vitals, queue_vital, sqlite_vital, stream_vital, task_vital

PAGE = "templates/page.html"
FRAGMENT = "fragments/overview/overview.html"
KEPT_S = 5.0
CHART_DAYS = 30
CHART_HOURS = 24


class StatusStat(msgspec.Struct, frozen=True):
    """A status and its ticket count."""

    status: str
    label: str
    count: int


class RunningNow(msgspec.Struct, frozen=True):
    """A run going on: who, on which ticket, doing what, last heard of when."""

    worker: str
    ticket: str
    title: str
    action: str
    at: str


class OverviewPage(msgspec.Struct, frozen=True):
    """Context of the overview."""

    title: str
    needs: store.NeedsYou
    workers_away: list[Member]  # stale or offline, heard of in the last week
    tasks_in_file: list[str]  # failed tasks that Run now can start again
    running: list[RunningNow]
    statuses: list[StatusStat]
    flow: BarChart  # created and closed per day
    events: BarChart  # events per hour
    workers: list[Member]
    queue: dict[str, int]
    tasks: list[ops.TaskSummary]
    vitals: list[Vital]

    @property
    def needs_count(self) -> int:
        """How many things wait on the person."""
        n = self.needs
        return n.tickets_total + len(n.messages) + len(n.tasks) + len(n.stalled) + len(self.workers_away)

    @property
    def vitals_wrong(self) -> int:
        """How many signs of health are wrong."""
        return sum(v.wrong for v in self.vitals)


@get("/", cache=False, opt={NO_COMPRESSION: True})  # kept gzipped: app/kept_pages.py
async def overview(request: Request[Any, Any, Any]) -> Response[bytes]:
    """What needs the person first; then what runs, the trends, the tasks and the health of it all."""
    mc = app_state(request)
    key = view_key(request, mc.db.generation, int(time.monotonic() // KEPT_S))
    return await keep(mc.ops_pages, request, key, lambda: build(request, mc))


async def build(request: Request[Any, Any, Any], mc: AppState) -> str:
    """The page (or its fragment) as the database has it now."""
    db, settings = mc.db, mc.settings
    workers = await team_now(db, settings)
    counts = {status: column.n for status, column in (await board.board_state(db)).items()}
    week_ago = stamp_ago(timedelta(days=7))
    info = await admin.health(db)
    now = stamp()
    vitals = [
        *database_vitals(db.path, db.last_checkpoint, now, db.opened),  # "not yet" is wrong only well after
        sqlite_vital(str(info["sqlite_version"])),
        *process_vitals(db.path, settings.tasks_file, settings.reaper_interval_s, time.monotonic() - db.opened_at),
        stream_vital(mc.broker.buckets),
        queue_vital(await store.queue_waiting(db), now),
        task_vital(await store.last_task_run(db)),
    ]
    ctx = OverviewPage(
        title="Overview",
        needs=await store.needs_you(
            db, stamp_ago(timedelta(seconds=settings.run_stall_s)), stamp_ago(timedelta(days=1))
        ),
        workers_away=[w for w in workers if w.presence in ("stale", "offline") and w.last_seen >= week_ago],
        tasks_in_file=[t.name for t in current_tasks(settings.tasks_file).tasks],
        running=await running_now(mc),
        statuses=[StatusStat(s, rules.STATUS_LABELS[s], counts.get(s, 0)) for s in rules.STATUSES],
        **await trend_charts(mc),
        workers=workers,
        queue=await ops.queue_counts(db),
        tasks=await ops.task_summaries(db),
        vitals=vitals,
    )
    return render_text(request, PAGE, FRAGMENT, ctx)


async def running_now(mc: AppState) -> list[RunningNow]:
    """The board's live marks (runs going on, workers busy by heartbeat), newest first, with their tickets."""
    # Read afresh, not from the board's one-second cache: this page is kept by the database's generation already.
    found = await live_marks(mc.db, mc.settings.run_stall_s)
    marks: list[LiveMark] = sorted((m for m in found.marks if not m.stale), key=lambda m: m.at, reverse=True)
    named = await store.ticket_names(mc.db, [m.ticket_id for m in marks])
    return [
        RunningNow(m.worker, named[m.ticket_id].identifier, named[m.ticket_id].title, m.action, m.at)
        for m in marks
        if m.ticket_id in named
    ]


async def trend_charts(mc: AppState) -> dict[str, BarChart]:
    """Tickets created and closed per day over CHART_DAYS, events per hour over CHART_HOURS (UTC)."""
    now = utcnow()
    days = [(now - timedelta(days=back)).strftime("%Y-%m-%d") for back in range(CHART_DAYS - 1, -1, -1)]
    hours = [(now - timedelta(hours=back)).strftime("%Y-%m-%dT%H") for back in range(CHART_HOURS - 1, -1, -1)]
    found = await store.trends(mc.db, days[0], hours[0])
    created = {d.day: d.n for d in found.created}
    closed = {d.day: d.n for d in found.closed}
    posted = {h.hour: h.n for h in found.hours}
    flow = bar_chart(
        [(_day_name(d), [created.get(d, 0), closed.get(d, 0)]) for d in days],
        ["created", "closed"], _day_name(days[0]), "today", f"in the last {CHART_DAYS} days",
    )  # fmt: skip
    events = bar_chart(
        [(f"{h[11:13]}:00 UTC", [posted.get(h, 0)]) for h in hours],
        ["events"], f"{hours[0][11:13]}:00", "now", f"posted in the last {CHART_HOURS} hours",
    )  # fmt: skip
    return {"flow": flow, "events": events}


def _day_name(day: str) -> str:
    """'2026-11-03' as 'Nov 3'."""
    months = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
    return f"{months[int(day[5:7]) - 1]} {int(day[8:10])}"


ROUTES = [overview]

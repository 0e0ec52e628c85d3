"""Overview, activity and the operations pages; the dashboards still waiting for their data."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

import msgspec
from litestar import Request, Response, get
from litestar.params import Parameter

from app import rules, sqlite
from app.activity import FeedItem, activity_feed
from app.clock import stamp, stamp_ago
from app.htmx import render
from app.state import app_state
from app.store import admin, board, ops
from app.store import overview as needs_store
from app.tasks import current_tasks
from app.team import Member, members

PAGE = "templates/page.html"


class StatusStat(msgspec.Struct, frozen=True):
    """A status and its ticket count."""

    status: str
    label: str
    count: int


class OverviewPage(msgspec.Struct, frozen=True):
    """Context of the overview: health and counts."""

    title: str
    journal_mode: str
    sqlite_version: str
    sqlite_library: str
    sqlite_has_wal_reset_bug: bool
    schema_version: int
    sessions: int
    statuses: list[StatusStat]
    workers: list[Member]
    queue: dict[str, int]
    tasks: list[ops.TaskSummary]
    needs: needs_store.NeedsYou
    workers_away: list[Member]  # stale or offline, heard of in the last week
    tasks_in_file: list[str]  # failed tasks that Run now can start again

    @property
    def needs_count(self) -> int:
        """How many things wait on the person."""
        n = self.needs
        return n.tickets_total + len(n.messages) + len(n.tasks) + len(n.stalled) + len(self.workers_away)


class ActivityPage(msgspec.Struct, frozen=True):
    """Context of the activity feed: a page of it under the filters, and the way to the next."""

    title: str
    items: list[FeedItem]
    kind: str
    ticket: str
    agent: str
    next_url: str
    filtered: bool


class OpsPage(msgspec.Struct, frozen=True):
    """Context of Tasks, Team and Logs: the operations data each shows a part of."""

    title: str
    workers: list[Member] = []
    heartbeats: list[ops.Heartbeat] = []
    tasks: list[ops.TaskSummary] = []
    runs: list[ops.TaskRun] = []


class EmptyPage(msgspec.Struct, frozen=True):
    """Context of a page whose data source is not connected yet: says what will fill it."""

    slug: str
    title: str
    purpose: str
    waiting_for: str


async def team_of(request: Request[Any, Any, Any]) -> list[Member]:
    """Every worker heard of, by heartbeat or by event, and how each stands now."""
    mc = app_state(request)
    beats, events = await ops.latest_heartbeats(mc.db), await ops.last_events(mc.db)
    return members(beats, events, stamp(), mc.settings.worker_stale_s, mc.settings.worker_offline_s)


@get("/", cache=False)
async def overview(request: Request[Any, Any, Any]) -> Response[str]:
    """What needs the person first; then what runs, the counts, the tasks and the health of it all."""
    mc = app_state(request)
    db = mc.db
    info = await admin.health(db)
    counts = {status: column.n for status, column in (await board.board_state(db)).items()}
    workers = await team_of(request)
    week_ago = stamp_ago(timedelta(days=7))
    ctx = OverviewPage(
        title="Overview",
        journal_mode=str(info["journal_mode"]),
        sqlite_version=str(info["sqlite_version"]),
        sqlite_library=sqlite.library_name(),
        sqlite_has_wal_reset_bug=sqlite.has_wal_reset_bug(str(info["sqlite_version"])),
        schema_version=await db.schema_version(),
        sessions=await ops.count_sessions(db),
        statuses=[StatusStat(s, rules.STATUS_LABELS[s], counts.get(s, 0)) for s in rules.STATUSES],
        workers=workers,
        queue=await ops.queue_counts(db),
        tasks=await ops.task_summaries(db),
        needs=await needs_store.needs_you(
            db, stamp_ago(timedelta(seconds=mc.settings.run_stall_s)), stamp_ago(timedelta(days=1))
        ),
        workers_away=[w for w in workers if w.presence in ("stale", "offline") and w.last_seen >= week_ago],
        tasks_in_file=[t.name for t in current_tasks(mc.settings.tasks_file).tasks],
    )
    return render(request, PAGE, "fragments/overview/overview.html", ctx)


FEED_PAGE = 50
FEED_CURSOR = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z~[crt][0-9]{16}[^\x00]{0,100}$"


@get("/activity", cache=False)
async def activity(
    request: Request[Any, Any, Any],
    kind: Annotated[Literal["all", "comment", "run", "created"], Parameter(description="Only this kind")] = "all",
    ticket: Annotated[str | None, Parameter(max_length=40)] = None,
    agent: Annotated[str | None, Parameter(max_length=100)] = None,
    before: Annotated[str | None, Parameter(pattern=FEED_CURSOR)] = None,
) -> Response[str]:
    """Comments, agents' runs (one item each) and new tickets, newest first, filtered in the URL, paged by keyset
    (the next page: items before the last one shown)."""
    mc = app_state(request)
    ticket, agent = (ticket or "").strip().upper(), (agent or "").strip()
    only = ops.FeedFilter(None if kind == "all" else kind, ticket or None, agent or None)
    cursor = None
    if before:
        at, _, key = before.partition("~")
        cursor = (at, key)
    items = await activity_feed(mc.db, mc.run_headers, mc.settings.run_stall_s, FEED_PAGE + 1, cursor, only)
    next_url = ""
    if len(items) > FEED_PAGE:
        last = items[FEED_PAGE - 1].item
        query = {"kind": kind if kind != "all" else "", "ticket": ticket, "agent": agent}
        next_url = "/activity?" + urlencode({k: v for k, v in query.items() if v} | {"before": f"{last.at}~{last.key}"})
    ctx = ActivityPage(
        "Activity", items[:FEED_PAGE], kind, ticket, agent, next_url, bool(kind != "all" or ticket or agent or before)
    )
    return render(request, PAGE, "fragments/ops/activity.html", ctx)


@get("/team", cache=False)
async def team(request: Request[Any, Any, Any]) -> Response[str]:
    """The agent team by latest heartbeat."""
    ctx = OpsPage("Team", workers=await team_of(request))
    return render(request, PAGE, "fragments/ops/team.html", ctx)


@get("/logs", cache=False)
async def logs(request: Request[Any, Any, Any]) -> Response[str]:
    """Scheduler and heartbeat logs."""
    db = app_state(request).db
    ctx = OpsPage("Logs", heartbeats=await ops.recent_heartbeats(db, 200), runs=await ops.recent_task_runs(db, 100))
    return render(request, PAGE, "fragments/ops/logs.html", ctx)


# Pages of the seed whose data source arrives with a later piece of work: an honest empty state each.
WAITING = {
    "/life-manager": EmptyPage(
        "life-manager",
        "Life Manager",
        "WhatsApp and email scan results, with what needs your attention.",
        "The Life Manager scanner has not reported a scan to Mission Control yet; its results will be listed here.",
    ),
    "/skills": EmptyPage(
        "skills",
        "Skills",
        "The skills installed for your assistant, with what each one does.",
        "No skills folder has been indexed yet; installed skills will be browsable here once it is.",
    ),
    "/reports": EmptyPage(
        "reports",
        "Reports",
        "HTML research reports from the reports folder.",
        "No reports folder is configured yet; its reports will be listed and served here.",
    ),
    "/spotify": EmptyPage(
        "spotify",
        "Radio",
        "The Spotify radio: what is playing, and mood controls to steer it.",
        "Spotify is not connected yet; playback and mood controls will appear here once it is.",
    ),
    "/f1": EmptyPage(
        "f1",
        "F1",
        "The F1 Predictor's season dashboard: predictions against results.",
        "The F1 Predictor has not published a season to Mission Control yet.",
    ),
    "/apps": EmptyPage(
        "apps",
        "Apps",
        "External dashboards such as Smart Money and Price Watch.",
        "No external dashboard is registered yet; registered dashboards will be linked here.",
    ),
}


@get(list(WAITING), cache=False)
async def waiting_page(request: Request[Any, Any, Any]) -> Response[str]:
    """A page whose feature comes later: say what will fill it, show nothing fake."""
    ctx = WAITING[request.url.path]
    return render(request, "templates/empty.html", "fragments/empty_state.html", ctx)


ROUTES = [overview, activity, team, logs, waiting_page]

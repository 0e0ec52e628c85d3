"""Team: each agent worker, how it stands (working, idle, stale, offline by how long ago it was heard of), what it is
on, and what it did: sessions today, tickets done this week, its last 24 hours of events as a strip.

Kept, rendered, like the Overview: while nothing is written, and for at most KEPT_S seconds (presence reads by age)."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import msgspec
from litestar import Request, Response, get
from markupsafe import Markup

from app.charts import strip
from app.clock import utcnow
from app.htmx import render_text
from app.kept_pages import keep, view_key
from app.state import AppState, app_state
from app.store import ops
from app.streams import NO_COMPRESSION
from app.team import Member, current_team, team_now, team_version
from app.templates import duration

PAGE = "templates/page.html"
FRAGMENT = "fragments/ops/team.html"
KEPT_S = 5.0
HOURS = 24


class TeamRow(msgspec.Struct, frozen=True):
    """One worker as Team shows it."""

    member: Member
    sessions_today: int
    done_this_week: int
    events_24h: int
    strip: Markup  # its events per hour over the last day


class TeamPage(msgspec.Struct, frozen=True):
    """Context of Team."""

    title: str
    rows: list[TeamRow]
    stale_after: str  # "5 min": the thresholds, in words
    offline_after: str
    team_file: str  # where names, roles and commands come from
    problems: list[str]  # what is wrong in it


@get("/team", cache=False, opt={NO_COMPRESSION: True})  # kept gzipped: app/kept_pages.py
async def team(request: Request[Any, Any, Any]) -> Response[bytes]:
    """The agent team."""
    mc = app_state(request)
    team_file = str(mc.settings.team_path)
    current_team(team_file)
    key = view_key(request, mc.db.generation, int(time.monotonic() // KEPT_S), team_version(team_file))
    return await keep(mc.ops_pages, request, key, lambda: build(request, mc))


async def build(request: Request[Any, Any, Any], mc: AppState) -> str:
    """The page (or its fragment) as the database has it now."""
    db, settings = mc.db, mc.settings
    workers = await team_now(db, settings)
    now = utcnow()
    today = now.strftime("%Y-%m-%dT00:00:00.000Z")
    week = (now - timedelta(days=now.weekday())).strftime("%Y-%m-%dT00:00:00.000Z")  # since Monday, UTC
    hours = [(now - timedelta(hours=back)).strftime("%Y-%m-%dT%H") for back in range(HOURS - 1, -1, -1)]
    numbers = await ops.team_numbers(db, today, week, hours[0])
    rows = []
    for member in workers:
        per_hour = numbers.hours.get(member.worker, {})
        values = [per_hour.get(h, 0) for h in hours]
        label = f"{member.worker}: {sum(values):,} events in the last {HOURS} hours"
        rows.append(
            TeamRow(
                member, numbers.sessions.get(member.worker, 0), numbers.done.get(member.worker, 0), sum(values),
                strip(values, label),
            )
        )  # fmt: skip
    team_file = str(settings.team_path)
    ctx = TeamPage(
        "Team", rows, duration(settings.worker_stale_s), duration(settings.worker_offline_s), team_file,
        current_team(team_file).problems,
    )  # fmt: skip
    return render_text(request, PAGE, FRAGMENT, ctx)


ROUTES = [team]

"""What one running app holds: its settings, its database, its login limiter."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from litestar import Request

from app.agent_session import Sessions
from app.apps import HealthChecker
from app.auth import LoginRateLimiter
from app.cache import BoardCaches, FragmentCache, Recent
from app.db import Database
from app.ingest import EventWriter
from app.kept_pages import KeptPages
from app.live import Broker, Poller
from app.live_marks import LiveMarks
from app.relay import RedisRelay
from app.run_pages import RunPages
from app.run_view import RunHeader
from app.settings import Settings
from app.spotify import Spotify


@dataclass
class AppState:
    """Per-process state, reached from a request as `app_state(request)`."""

    settings: Settings
    db: Database
    login_limiter: LoginRateLimiter
    board: BoardCaches
    # The board's live marks: read at most once a second, and afresh after news of a run or a worker.
    live: Recent[LiveMarks]
    wip_limits: dict[str, int]
    # The live path: events in through one group-committing writer, out through the broker.
    broker: Broker
    writer: EventWriter
    poller: Poller
    # Rings every process at each commit when MC_REDIS_URL is set; None: each process polls SQLite.
    relay: RedisRelay | None
    # Identifier -> ticket row id for event posts (identifiers are never reused).
    ticket_ids: FragmentCache[int]
    # Tickets' runs folded and rendered once per (ticket, last event): app/run_pages.py.
    run_pages: RunPages = field(default_factory=RunPages)
    # Ticket pages as rendered, by everything they show (app/routes/tickets.py): ~100 KB each.
    pages: KeptPages = field(default_factory=lambda: KeptPages(64))
    # The Overview and the operations pages as rendered, by the database's generation (app/kept_pages.py).
    ops_pages: KeptPages = field(default_factory=lambda: KeptPages(64))
    # Runs summed up for the activity feed, by (ticket, seq): app/activity.py.
    run_headers: FragmentCache[RunHeader] = field(default_factory=lambda: FragmentCache(1024))
    # Tickets' interactive sessions running in this process (app/agent_session.py); made once the state is.
    sessions: Sessions = field(init=False)
    # The Apps page's health checks, kept in memory (app/apps.py); made once the state is.
    apps: HealthChecker = field(init=False)
    # Radio's Spotify client: its access token and rate limit, per process (app/spotify.py).
    spotify: Spotify = field(init=False)


def app_state(request: Request[Any, Any, Any]) -> AppState:
    """This app's state."""
    state: AppState = request.app.state.mc
    return state

"""create_app(settings) -> Litestar: routes, plugins, middleware, lifespan; nothing else."""

from __future__ import annotations

import gc
import logging
from typing import Any

import msgspec
from litestar import Litestar, Request, Response
from litestar.config.allowed_hosts import AllowedHostsConfig
from litestar.config.compression import CompressionConfig
from litestar.datastructures import CacheControlHeader, State
from litestar.enums import MediaType
from litestar.exceptions import HTTPException, NotFoundException, ValidationException
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins.htmx import HTMXPlugin, HTMXRequest
from litestar.static_files import create_static_files_router

from app import ROOT, markdown
from app.agent_session import Sessions
from app.apierrors import client_error
from app.apps import HealthChecker
from app.auth import AuthMiddleware, LoginRateLimiter
from app.cache import BoardCaches, FragmentCache, Recent
from app.caps import StreamCaps
from app.db import Database, DatabaseBusy
from app.event_index import EventIndexer
from app.housekeeping import Housekeeper
from app.htmx import render
from app.ingest import EventWriter
from app.live import Broker, Poller
from app.live_marks import live_marks
from app.openapi import ApiDocument
from app.params import StaticFileSystem
from app.reaper import Reaper
from app.relay import RedisRelay
from app.routes import (
    activity,
    api,
    apps,
    board,
    create,
    events,
    f1,
    health,
    life_manager,
    links,
    login,
    logs,
    overview,
    palette,
    queue,
    reports,
    runs,
    search,
    session,
    sessions,
    skills,
    spotify,
    stream,
    tasks,
    team,
    tickets,
)
from app.run_frames import RunFrames
from app.scheduler import Scheduler
from app.security import JsonBodiesOnly, add_security_headers, fix_allow_header
from app.settings import Settings, load_settings, parse_wip_limits
from app.spotify import Spotify
from app.sqlite import driver
from app.state import AppState
from app.streams import NO_COMPRESSION
from app.vk_sync import VkSyncer

log = logging.getLogger("mc.app")

# Each area's module lists its own handlers.
ROUTES = [
    *health.ROUTES,
    *login.ROUTES,
    *overview.ROUTES,
    *activity.ROUTES,
    *board.ROUTES,
    *create.ROUTES,
    *palette.ROUTES,
    *search.ROUTES,
    *tickets.ROUTES,
    *runs.ROUTES,
    *session.ROUTES,
    *sessions.ROUTES,
    *reports.ROUTES,
    *skills.ROUTES,
    *links.ROUTES,
    *api.ROUTES,
    *queue.ROUTES,
    *events.ROUTES,
    *stream.ROUTES,
    *tasks.ROUTES,
    *apps.ROUTES,
    *spotify.ROUTES,
    *team.ROUTES,
    *logs.ROUTES,
    *life_manager.ROUTES,
    *f1.ROUTES,
]


class ErrorPage(msgspec.Struct, frozen=True):
    """Context of an error page."""

    title: str
    message: str


def wants_json(request: Request[Any, Any, Any]) -> bool:
    """API paths and JSON clients get JSON errors; people get a page."""
    accept = request.headers.get("accept", "")
    return request.url.path.startswith("/api/") or ("application/json" in accept and "text/html" not in accept)


def http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    """An error as JSON for APIs, as a page with the layout for people."""
    status = exc.status_code
    if wants_json(request) or status not in (404, 405):
        body: dict[str, Any] = {"status_code": status, "detail": exc.detail}
        if getattr(exc, "extra", None):
            body["extra"] = exc.extra
        return Response(body, status_code=status, media_type=MediaType.JSON, headers=exc.headers)
    title = "Not found" if status == 404 else "Not allowed"
    message = (
        exc.detail
        if exc.detail and exc.detail not in ("Not Found", "Method Not Allowed")
        else ("There is nothing at this address." if status == 404 else "This address does not take that method.")
    )
    page = render(request, "templates/error.html", "templates/error.html", ErrorPage(title, message), status)
    page.headers.update(exc.headers or {})  # a 405's Allow
    return page


def too_deep(request: Request[Any, Any, Any], exc: RecursionError) -> Response[Any]:
    """A body nested past what the decoder's stack allows: the client's fault, said plainly."""
    body = {"status_code": 400, "detail": "The JSON body nests arrays or objects too deeply."}
    return Response(body, status_code=400, media_type=MediaType.JSON)


def database_unavailable(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """The database cannot take the request now (another process holds its lock, or its disk is full or
    failing): 503 with Retry-After, and the next request tries afresh. Any other database error is a bug."""
    text = str(exc).lower()
    if isinstance(exc, DatabaseBusy) or "locked" in text or "busy" in text:
        detail, retry = "The database is busy (another process is writing): try again in a few seconds.", 2
    elif "full" in text or "disk i/o" in text:
        detail, retry = "The database's disk is full or failing: the operator has been told.", 30
        log.error("database unavailable answering %s %s: %s", request.method, request.url.path, exc)
    else:
        return internal_error(request, exc)
    if wants_json(request):
        body = {"status_code": 503, "detail": detail}
        return Response(body, status_code=503, media_type=MediaType.JSON, headers={"Retry-After": str(retry)})
    page = render(request, "templates/error.html", "templates/error.html", ErrorPage("Try again soon", detail), 503)
    page.headers["Retry-After"] = str(retry)
    return page


def internal_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """A bug: logged with its traceback for the operator; the client learns only that it happened."""
    log.error("unhandled error answering %s %s", request.method, request.url.path, exc_info=exc)
    if wants_json(request):
        body = {"status_code": 500, "detail": "Something went wrong on the server; it has been logged."}
        return Response(body, status_code=500, media_type=MediaType.JSON)
    page = ErrorPage("Something went wrong", "The server could not answer this request; the error has been logged.")
    return render(request, "templates/error.html", "templates/error.html", page, 500)


def create_app(settings: Settings | None = None, db: Database | None = None) -> Litestar:
    """A new app on `settings` (read from MC_* when None); a fresh app per test client."""
    settings = settings or load_settings()
    database = db or Database(settings.db_path, readers=settings.readers)
    mc = AppState(
        settings=settings,
        db=database,
        login_limiter=LoginRateLimiter(settings.login_attempts_per_minute),
        board=BoardCaches(),
        live=Recent(1.0, lambda: live_marks(database, settings.run_stall_s)),
        wip_limits=parse_wip_limits(settings.wip_limits),
        broker=(broker := Broker(settings.sse_max_total_clients, settings.sse_max_tail_clients, RunFrames(database))),
        writer=EventWriter(database, broker.publish_events),
        poller=(
            poller := Poller(
                database, broker, settings.live_fallback_poll_s if settings.redis_url else settings.live_poll_ms / 1000
            )
        ),
        ticket_ids=FragmentCache(4096),
        relay=RedisRelay(settings.redis_url, settings.db_path, poller.wake) if settings.redis_url else None,
    )

    mc.sessions = Sessions(settings, mc.writer, session.announce(mc))
    mc.apps = HealthChecker(settings)
    mc.spotify = Spotify(settings)
    # A run started, moved on or ended, or a worker came or went: the board's live marks are read afresh.
    broker.on_news.append(lambda kind: mc.live.expire() if kind in ("run", "worker") else None)
    relay = mc.relay
    reaper = Reaper(database, settings)  # reaps only in the one process that holds its lock
    housekeeper = Housekeeper(database)
    indexer = EventIndexer(database, mc.writer.busy)
    scheduler = Scheduler(database, settings) if settings.tasks_file else None
    vk_syncer = VkSyncer(database, settings) if settings.vk_url else None  # syncs in whichever process has the lock

    async def open_db(app: Litestar) -> None:
        markdown.renderer.configure(settings.markdown_workers, settings.markdown_budget_s)
        markdown.renderer.start()  # the worker process belongs to this process, not to one app: never stopped
        if database._writer is None:
            await database.open()
        mc.writer.start()
        await mc.poller.start()
        housekeeper.start()
        indexer.start()
        mc.apps.start()
        if scheduler is not None:
            scheduler.start()  # schedules only in the process that holds its lock
        if vk_syncer is not None:
            vk_syncer.start()
        if relay is not None:
            await relay.start()
            database.on_commit = relay.committed
        # Full garbage collections over thousands of long-lived objects (open streams, caches) paused the
        # event loop for 150-500 ms in the fan-out benchmark: keep what start-up made out of them, and
        # collect the young generation less often.
        gc.freeze()
        gc.set_threshold(20_000, 20, 20)

    async def close_db(app: Litestar) -> None:
        if relay is not None:
            database.on_commit = None
            await relay.stop()
        await housekeeper.stop()
        await indexer.stop()
        await mc.apps.stop()
        await mc.spotify.close()
        if scheduler is not None:
            await scheduler.stop()  # a run under way is stopped and recorded before the database closes
        if vk_syncer is not None:
            await vk_syncer.stop()  # a round under way is cancelled: each of its writes is whole
        await mc.sessions.stop_all()  # each session's end is stored before the writer stops
        await mc.poller.stop()
        await mc.writer.stop()  # what was acknowledged is committed already; this commits what is waiting
        await mc.broker.stop()
        await database.close()

    return Litestar(
        route_handlers=[
            *ROUTES,
            create_static_files_router(
                path="/static",
                directories=[ROOT / "static"],
                file_system=StaticFileSystem(),
                # Pages link to static files by content hash (app.templates.static_url): safe to keep for a year.
                cache_control=CacheControlHeader(max_age=31_536_000, public=True, immutable=True),
            ),
        ],
        on_startup=[open_db, reaper.start],
        on_shutdown=[reaper.stop, close_db],  # in this order: the reaper's last write before the close
        state=State({"mc": mc}),
        middleware=[StreamCaps, AuthMiddleware, JsonBodiesOnly],
        # Pages and fragments go gzipped (a board page: ~48 KB of HTML, ~7 KB on the wire); event streams never
        # (a compressor holds frames back until its buffer fills, so live updates would arrive late).
        compression_config=CompressionConfig(
            backend="gzip", gzip_compress_level=6, minimum_size=1024, exclude_opt_key=NO_COMPRESSION
        ),
        before_send=[add_security_headers, fix_allow_header],
        plugins=[HTMXPlugin()],
        request_class=HTMXRequest,
        allowed_hosts=AllowedHostsConfig(allowed_hosts=settings.allowed_host_list),
        exception_handlers={
            HTTPException: http_error,
            NotFoundException: http_error,
            # Litestar's detail names only the route; the API's names the field at fault.
            ValidationException: client_error,
            RecursionError: too_deep,
            DatabaseBusy: database_unavailable,
            driver.OperationalError: database_unavailable,
            Exception: internal_error,
        },
        openapi_config=OpenAPIConfig(
            title="Mission Control",
            version="1",
            path="/schema",
            components=Components(
                security_schemes={"bearer": SecurityScheme(type="http", scheme="bearer", description="mc token")}
            ),
            security=[{"bearer": []}],
            render_plugins=[ApiDocument()],
        ),
        debug=False,
    )

"""Apps: the external dashboards of the apps file (MC_APPS_FILE, TOML), and their health, checked in the background.

    [[apps]]
    name = "Smart Money"
    url = "https://money.example.org/"
    description = "Portfolio signals and insider trades"
    icon = "💰"                                      # an emoji or a short text
    health_url = "https://money.example.org/healthz"  # optional; the url itself otherwise

A file that cannot be read or an app that is wrong (not an http(s) address, a name twice, an unknown key) is a
problem shown on /apps, never an error page: the apps that are right are still shown and checked. Only http://
and https:// addresses pass, since the page puts `url` in a link and the server fetches `health_url`.

Health lives in memory, per server process: a check is one cheap GET, so each process of `mc serve --workers N`
checks for itself rather than sharing results through the database (no writes for data that is stale in a minute
anyway; a restart knows nothing and checks at once)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from typing import Annotated, Literal
from urllib.parse import urlsplit

import httpx
import msgspec

from app.background import stop_task
from app.clock import stamp
from app.settings import Settings
from app.toml_file import Watched, read_entries

log = logging.getLogger("mc.apps")
# The first round waits this long after start: the server's own address, often in the file, listens only once the
# app's start-up is over (a check before that would read "connection refused" for a server about to answer).
FIRST_ROUND_AFTER_S = 1.0
MAX_APPS = 100  # more than a page of cards can hold; the rest is a problem, not a slow page


class App(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One external dashboard."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=80)]
    url: Annotated[str, msgspec.Meta(max_length=2000)]
    description: Annotated[str, msgspec.Meta(max_length=500)] = ""
    icon: Annotated[str, msgspec.Meta(max_length=16)] = ""  # an emoji (several code points) or a few letters
    health_url: Annotated[str, msgspec.Meta(max_length=2000)] = ""

    @property
    def check_url(self) -> str:
        """What the health check fetches."""
        return self.health_url or self.url


class AppsFile(msgspec.Struct, frozen=True):
    """What the apps file holds: the apps that are right, and what is wrong with the rest."""

    path: str
    exists: bool
    apps: list[App]
    problems: list[str]


def web_address_problem(value: str, shown: bool = False) -> str | None:
    """Why `value` is not an http(s) address with a host (None when it is one); a `shown` one (the card's link
    and host) may not carry a user name or password either."""
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port that is not one
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname or any(ch <= " " for ch in value):
        return f"{value!r} is not an http:// or https:// address"
    if shown and (parts.username or parts.password):
        return "its url carries a user name or password, which the page would show (a health_url may)"
    return None


def load_apps(path: str) -> AppsFile:
    """The apps in `path` (a missing file: none, and no problem: the page says how to write one)."""
    too_many = (
        MAX_APPS,
        lambda app: f"Only the first {MAX_APPS} apps are shown; {app.name!r} and those after it are not.",
    )
    read = read_entries(path, "apps", App, "App", _app_problem, too_many)
    return AppsFile(path, read.exists, read.entries, read.problems)


def _past_the_limit(app: App) -> str:
    return f"Only the first {MAX_APPS} apps are shown; {app.name!r} and those after it are not."


def _app_problem(app: App, before: list[App]) -> str | None:
    wrong = web_address_problem(app.url, shown=True) or (app.health_url and web_address_problem(app.health_url))
    if wrong:
        return f"App {app.name!r}: {wrong}."
    if any(a.name == app.name for a in before):
        return f"App {app.name!r} is named twice: only the first is shown."
    return None


# The apps in a file as it is now: read again only when it changed, so every page view and every round of checks
# may ask.
current_apps = Watched(load_apps).current


State = Literal["up", "slow", "down", "timeout"]


class Health(msgspec.Struct, frozen=True):
    """The last check of one address."""

    state: State
    checked_at: str  # UTC, as app/clock.py stamps it (the page shows it with `|when`)
    latency_ms: int | None  # until the answer's status line and headers; None without an answer
    http_status: int | None
    detail: str  # what a person reads: "HTTP 200", "HTTP 503", "connection refused", "no answer in 5 s"


class HealthChecker:
    """Checks every app of the apps file every `apps_check_interval_s`, at most `apps_check_concurrency` at once,
    each within `apps_check_timeout_s`; keeps the last result per address in memory."""

    def __init__(self, settings: Settings) -> None:
        self.path = str(settings.apps_path)
        self.interval_s = settings.apps_check_interval_s
        self.timeout_s = settings.apps_check_timeout_s
        self.slow_s = settings.apps_slow_ms / 1000
        self.concurrency = settings.apps_check_concurrency
        self.results: dict[str, Health] = {}
        self._checking: set[str] = set()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._client: httpx.AsyncClient | None = None

    def start(self) -> None:
        """Begin checking (the first round almost at once: a fresh process knows nothing yet)."""
        self._task = asyncio.create_task(self._run(), name="apps-health")

    async def stop(self) -> None:
        """Stop checking (a round under way is cancelled) and close the connections."""
        await stop_task(self._task)
        self._task = None
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def health_of(self, app: App) -> Health | None:
        """The last check of `app`'s address (None: not checked yet)."""
        return self.results.get(app.check_url)

    def wake(self, apps: list[App]) -> None:
        """Check now if one of `apps` has never been checked and is not being checked (a new or edited file)."""
        if any(a.check_url not in self.results and a.check_url not in self._checking for a in apps):
            self._wake.set()

    async def check_all(self, apps: list[App]) -> None:
        """Check each address once, a bounded number at a time; forget addresses no longer in the file."""
        urls = list(dict.fromkeys(a.check_url for a in apps))
        self._checking = set(urls)
        gate = asyncio.Semaphore(self.concurrency)

        async def one(url: str) -> None:
            async with gate:
                self.results[url] = await self.check(url)

        try:
            await asyncio.gather(*(one(url) for url in urls))
        finally:
            self._checking = set()
        for gone in set(self.results) - set(urls):
            del self.results[gone]

    async def check(self, url: str) -> Health:
        """One GET of `url`: up (below 400, in time), slow, down (a refusal, an error status) or timeout. Only
        the status line and headers are waited for; a redirect is followed (a login page is a live dashboard)."""
        if self._client is None:
            self._client = httpx.AsyncClient(
                follow_redirects=True, max_redirects=5, timeout=self.timeout_s,
                headers={"User-Agent": "MissionControl-health-check/1"},
            )  # fmt: skip
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self.timeout_s), self._client.stream("GET", url) as response:
                took = time.perf_counter() - started
                status = response.status_code
        except (TimeoutError, httpx.TimeoutException):
            return Health("timeout", stamp(), None, None, f"no answer in {self.timeout_s:g} s")
        except (httpx.HTTPError, httpx.InvalidURL) as exc:  # (InvalidURL is not an HTTPError)
            return Health("down", stamp(), None, None, failure_text(exc))
        latency = round(took * 1000)
        state: State = "down" if status >= 400 else "slow" if took >= self.slow_s else "up"
        return Health(state, stamp(), latency, status, f"HTTP {status}")

    async def _run(self) -> None:
        with contextlib.suppress(TimeoutError):  # a page asking for a new file's apps cuts the wait short
            await asyncio.wait_for(self._wake.wait(), FIRST_ROUND_AFTER_S)
        while True:
            self._wake.clear()
            try:
                await self.check_all(current_apps(self.path).apps)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("checking the apps failed; trying again in %s s", self.interval_s)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.interval_s)


def failure_text(exc: httpx.HTTPError | httpx.InvalidURL) -> str:
    """A transport failure as a person reads it (never its URL: a health address may carry a key)."""
    if isinstance(exc, httpx.ConnectError):
        causes: list[BaseException] = []
        seen: BaseException | None = exc
        while seen is not None and len(causes) < 10:  # httpx wraps the socket's error two or three times
            causes.append(seen)
            seen = seen.__cause__ or seen.__context__
        if any(isinstance(c, ConnectionRefusedError) for c in causes):
            return "connection refused"
        if any(isinstance(c, socket.gaierror) for c in causes):
            return "unknown host"
        return "cannot connect"
    if isinstance(exc, httpx.TooManyRedirects):
        return "too many redirects"
    if isinstance(exc, httpx.RemoteProtocolError):
        return "not an HTTP answer"
    if isinstance(exc, httpx.InvalidURL):
        return "not an address httpx can fetch"
    return type(exc).__name__

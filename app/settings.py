"""Settings: one msgspec Struct read from MC_* environment variables."""

from __future__ import annotations

import ipaddress
import os
import re
import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

import msgspec

from app.rules import STATUSES

# An http:// or https:// address with a host (the external services' base URLs).
HTTP_URL = r"^https?://[^\s/?#@]+(/[^\s?#]*)?$"


class SettingsError(ValueError):
    """A setting has a value that cannot be used."""


class Settings(msgspec.Struct, kw_only=True, frozen=True):
    """Everything configurable, with the defaults a fresh checkout runs on."""

    # Where the embedded database lives unless `db` names a file.
    data_dir: str = "data"
    # The SQLite database file; empty means `<data_dir>/mc.db`.
    db: str = ""
    # Address `mc serve` listens on; keep it on loopback unless a TLS proxy sits in front.
    host: str = "127.0.0.1"
    port: int = 8000
    # The address people reach the app at, for the printed login link; empty means http://host:port.
    public_url: str = ""
    # Host headers accepted (DNS-rebinding guard), comma-separated; empty means loopback names + host.
    allowed_hosts: str = ""
    # Ticket identifiers are PREFIX-NUMBER, like the seed's MC-747.
    ticket_prefix: str = "MC"
    # Which SQLite: "auto" uses the bundled fixed one (pysqlite3) when installed, "bundled" insists on it,
    # "system" keeps Python's own. Read once at import by app/sqlite.py (every connection of a process alike).
    sqlite: Literal["auto", "bundled", "system"] = "auto"
    # Read-only connections for page renders and API reads; all writes go through one writer.
    readers: int = 4
    # How long a browser login lasts.
    session_hours: int = 720
    # Mark cookies Secure: turn on when served over HTTPS.
    cookie_secure: bool = False
    # Failed login attempts allowed per client address per minute.
    login_attempts_per_minute: int = 10
    # Seconds uvicorn waits for open streams at shutdown before closing them.
    shutdown_timeout_s: int = 3
    # Open SSE streams per server process: the global and per-ticket streams share the first bucket, log
    # tails have their own so a noisy tail page cannot starve the others. Over the cap: 503, retry in 30 s.
    sse_max_total_clients: int = 2000
    sse_max_tail_clients: int = 200
    # A stream ends after this many seconds (browsers reconnect and resume); at most 300.
    sse_max_lifetime_s: int = 300
    # Seconds between keep-alive comments on an idle stream; a client that cannot take one in this time
    # is treated as gone. At most 30.
    sse_heartbeat_s: int = 15
    # How often each process looks for commits made by other processes (ms), when MC_REDIS_URL is empty.
    live_poll_ms: int = 20
    # Redis (redis://host:port/db) that tells every server process of each commit at once; empty: no Redis,
    # each process polls SQLite every MC_LIVE_POLL_MS. SQLite stays the only record either way.
    redis_url: str = ""
    # With MC_REDIS_URL: seconds between the fallback looks into SQLite that still catch what no ring
    # announced (Redis down, or a writer without MC_REDIS_URL such as `mc demo`).
    live_fallback_poll_s: float = 2.0
    # Soft work-in-progress limits per board column, like "in_progress=5,review=3"; empty means none.
    wip_limits: str = ""
    # A queued message that fails (or whose lease runs out) this many times is dead-lettered.
    queue_max_attempts: Annotated[int, msgspec.Meta(ge=1, le=100)] = 5
    # A message queued or leased with no change for this long is expired (and alerted once).
    queue_stuck_minutes: Annotated[int, msgspec.Meta(ge=1)] = 30
    # Seconds between reaper passes inside `mc serve` (one process reaps, by a lock); 0 turns it off.
    reaper_interval_s: Annotated[float, msgspec.Meta(ge=0)] = 30
    # Addresses (IPs or CIDR ranges, comma-separated) of reverse proxies whose X-Forwarded-For and
    # X-Forwarded-Proto are believed; empty: none, so no client can pick its own address (the login rate
    # limit counts per address). Set it to the proxy's address, e.g. 127.0.0.1 for nginx on this host.
    trusted_proxies: str = ""
    # Open connections per server process; past it a new connection is closed at once, so slow or idle
    # clients cannot use up the process's file descriptors (streams are capped separately, below this).
    max_connections: Annotated[int, msgspec.Meta(ge=16)] = 4096
    # Seconds a client has to send a request's line and headers once it connects (or starts another
    # request); slower clients are answered 408 and cut off.
    header_timeout_s: Annotated[float, msgspec.Meta(gt=0, le=300)] = 10
    # A request's line and headers together, in bytes, and how many headers it may have: past either, 431.
    max_header_bytes: Annotated[int, msgspec.Meta(ge=4096, le=1_048_576)] = 65_536
    max_headers: Annotated[int, msgspec.Meta(ge=16, le=1000)] = 100
    # Markdown is rendered in worker processes, never on the event loop (some input takes seconds): how many,
    # and how long a page waits for their renders before it shows a slow text as plain text for this view.
    markdown_workers: Annotated[int, msgspec.Meta(ge=1, le=16)] = 1
    markdown_budget_s: Annotated[float, msgspec.Meta(gt=0, le=30)] = 2.0
    # A worker not heard of (heartbeat or event) for this many seconds reads "stale", then "offline".
    worker_stale_s: Annotated[int, msgspec.Meta(ge=10, le=86_400)] = 300
    worker_offline_s: Annotated[int, msgspec.Meta(ge=10, le=604_800)] = 3_600
    # A run with no event for this many seconds, and no result, reads "stalled" (its worker may be gone).
    run_stall_s: Annotated[int, msgspec.Meta(ge=10, le=86_400)] = 600
    # The agent a ticket's interactive session runs (its stdin and stdout in stream-json), split like a shell
    # line and never taken from the browser, e.g. "claude -p --input-format stream-json --output-format
    # stream-json --verbose"; empty: no sessions (the ticket page says how to turn them on).
    agent_command: str = ""
    # Where a session's agent runs; "{ticket}" in it becomes the ticket's identifier (that folder is made when
    # missing). Empty: <data_dir>/work/<identifier>.
    workdir: str = ""
    # The worker name a session's events are stored under (Team lists it).
    agent_name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)] = "agent"
    # Sessions running at once in one server process; past it, starting one says so.
    session_max: Annotated[int, msgspec.Meta(ge=1, le=64)] = 4
    # A session with nothing said either way for this long is ended.
    session_idle_s: Annotated[float, msgspec.Meta(gt=0, le=604_800)] = 1_800
    # Stop sends SIGTERM, then SIGKILL after this many seconds.
    session_stop_grace_s: Annotated[float, msgspec.Meta(gt=0, le=120)] = 5
    # The most one message to an agent may hold, in bytes (of its UTF-8).
    session_message_bytes: Annotated[int, msgspec.Meta(ge=1024, le=1_048_576)] = 65_536
    # Transcripts that name no ticket are given one by the folder they ran in: "folder=IDENTIFIER" pairs,
    # comma-separated (a transcript's cwd in the folder or below it); e.g. "/home/me/src/hub=MC-7".
    cwd_tickets: str = ""
    # The scheduled tasks (TOML, a [[tasks]] table each: name, cron, command, enabled, timeout); empty: none.
    tasks_file: str = ""
    # How often the scheduler looks for due tasks and "Run now" requests, in seconds.
    scheduler_tick_s: Annotated[float, msgspec.Meta(gt=0, le=60)] = 1
    # The folder of HTML research reports /reports lists and serves; empty: "reports" beside the database
    # (<data_dir>/reports by default).
    reports_dir: str = ""
    # Folders of installed skills (a folder per skill, each with a SKILL.md), separated by commas or the path
    # separator (":"); empty: ~/.claude/skills and "skills" beside the database (<data_dir>/skills by default).
    skills_dirs: str = ""
    # Log files the Logs page reads and follows, separated by commas or the path separator (":"); only these.
    log_files: str = ""
    # Telegram's Bot API address; a setting so tests (and proxies) can point it elsewhere.
    telegram_api_base: str = "https://api.telegram.org"
    # The bot's token from @BotFather; empty means alerts go to the log.
    telegram_bot_token: str = ""
    # The chat that receives alerts; empty means alerts go to the log.
    telegram_chat_id: str = ""
    # Team (/team): names, roles and commands of the agents, a TOML file of [[agents]] (name, role, command); empty:
    # team.toml beside the database. Optional: workers are known by their heartbeats and events without it.
    team_file: str = ""
    # Apps (/apps): the external dashboards, a TOML file of [[apps]] (name, url, description, icon, health_url);
    # empty: apps.toml beside the database (<data_dir>/apps.toml by default), so `mc demo --db X` and the server
    # it serves agree on one file.
    apps_file: str = ""
    # Seconds between health checks of every app (inside `mc serve`, each process checking for itself).
    apps_check_interval_s: Annotated[float, msgspec.Meta(ge=1, le=86_400)] = 60
    # A check with no answer in this many seconds reads "timeout"; at most this many checks run at once.
    apps_check_timeout_s: Annotated[float, msgspec.Meta(gt=0, le=60)] = 5
    apps_check_concurrency: Annotated[int, msgspec.Meta(ge=1, le=64)] = 4
    # An app that answers, but only after this many milliseconds, reads "slow" (it must be under the timeout).
    apps_slow_ms: Annotated[int, msgspec.Meta(ge=1, le=60_000)] = 1_500
    # Radio (/spotify): the Spotify Web API and its accounts service; settings so tests (and proxies) can point
    # them elsewhere. Only http(s) addresses.
    spotify_api_url: Annotated[str, msgspec.Meta(pattern=HTTP_URL)] = "https://api.spotify.com"
    spotify_accounts_url: Annotated[str, msgspec.Meta(pattern=HTTP_URL)] = "https://accounts.spotify.com"
    # The Spotify app's client id and secret (developer.spotify.com/dashboard) and a refresh token for the account
    # it plays on (README, "Radio", says how to get one); any of the three empty: the page says how to connect.
    spotify_client_id: str = ""
    spotify_client_secret: str = ""
    spotify_refresh_token: str = ""
    # A running Vibe Kanban to keep in sync with (its address, e.g. http://127.0.0.1:54321; README, "Coming from
    # Vibe Kanban"): set, `mc serve` syncs every MC_VK_SYNC_S seconds; empty: no sync. Only http(s) addresses.
    vk_url: Annotated[str, msgspec.Meta(pattern=f"^$|{HTTP_URL}")] = ""
    vk_sync_s: Annotated[float, msgspec.Meta(ge=1, le=86_400)] = 60
    # How long one request to Vibe Kanban may take before it is tried again (three tries, pauses doubling).
    vk_timeout_s: Annotated[float, msgspec.Meta(gt=0, le=120)] = 10

    @property
    def team_path(self) -> Path:
        """The Team file: MC_TEAM_FILE, or team.toml in the database's folder."""
        return Path(self.team_file) if self.team_file else self.db_path.parent / "team.toml"

    @property
    def apps_path(self) -> Path:
        """The Apps file: MC_APPS_FILE, or apps.toml in the database's folder."""
        return Path(self.apps_file) if self.apps_file else self.db_path.parent / "apps.toml"

    @property
    def log_file_paths(self) -> list[str]:
        """MC_LOG_FILES as a list of paths, in its order."""
        return [p.strip() for p in re.split(f"[,{re.escape(os.pathsep)}]", self.log_files) if p.strip()]

    @property
    def reports_path(self) -> Path:
        """The reports folder: MC_REPORTS_DIR, or "reports" beside the database."""
        return Path(self.reports_dir).expanduser() if self.reports_dir else self.db_path.parent / "reports"

    @property
    def skills_paths(self) -> list[Path]:
        """The skills folders, in MC_SKILLS_DIRS's order (a skill in an earlier one wins a name)."""
        if not self.skills_dirs.strip():
            return [Path("~/.claude/skills").expanduser(), self.db_path.parent / "skills"]
        parts = re.split(f"[,{re.escape(os.pathsep)}]", self.skills_dirs)
        return [Path(p.strip()).expanduser() for p in parts if p.strip()]

    @property
    def db_path(self) -> Path:
        """The database file this process uses."""
        return Path(self.db) if self.db else Path(self.data_dir) / "mc.db"

    @property
    def base_url(self) -> str:
        """Where a person opens the app."""
        if self.public_url:
            return self.public_url.rstrip("/")
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host  # noqa: S104
        return f"http://{host}:{self.port}"

    @property
    def allowed_host_list(self) -> list[str]:
        """Host headers the app answers to, each bare and with the port (Litestar matches the whole header)."""
        if self.allowed_hosts:
            hosts = [h.strip() for h in self.allowed_hosts.split(",") if h.strip()]
        elif self.host in ("0.0.0.0", "::"):  # noqa: S104 - listening everywhere: any name may reach it
            return ["*"]
        else:
            hosts = ["localhost", "127.0.0.1", "[::1]"]
            if self.host not in hosts:
                hosts.append(f"[{self.host}]" if ":" in self.host else self.host)
        if self.public_url:
            hosts.append(urlsplit(self.public_url).netloc)
        if "*" in hosts:
            return ["*"]
        return sorted({*hosts, *(f"{h}:{self.port}" for h in hosts if not h.rsplit("]", 1)[-1].count(":"))})


def parse_wip_limits(text: str) -> dict[str, int]:
    """'in_progress=5, review=3' -> {'in_progress': 5, 'review': 3}."""
    limits: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        status, _, number = part.partition("=")
        if status.strip() not in STATUSES or not number.strip().isdigit() or int(number) < 1:
            raise SettingsError(f"MC_WIP_LIMITS takes status=number pairs over {', '.join(STATUSES)}; not {part!r}")
        limits[status.strip()] = int(number)
    return limits


_PREFIX = "MC_"


def load_settings(environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
    """Read Settings from MC_* variables (and explicit overrides), converting and checking each."""
    env = os.environ if environ is None else environ
    raw: dict[str, object] = {}
    for field in msgspec.structs.fields(Settings):
        value = env.get(_PREFIX + field.name.upper())
        if value is not None:
            raw[field.name] = value
    raw.update({k: v for k, v in overrides.items() if v is not None})
    try:
        settings = msgspec.convert(raw, Settings, strict=False)
    except msgspec.ValidationError as exc:
        raise SettingsError(f"bad setting: {exc}") from None
    if not 1 <= settings.port <= 65535:
        raise SettingsError(f"MC_PORT must be 1-65535, not {settings.port}")
    if settings.readers < 1:
        raise SettingsError("MC_READERS must be at least 1")
    if not settings.ticket_prefix.isalnum() or not settings.ticket_prefix.isupper():
        raise SettingsError(f"MC_TICKET_PREFIX must be upper-case letters or digits, not {settings.ticket_prefix!r}")
    if not 1 <= settings.sse_max_lifetime_s <= 300:
        raise SettingsError("MC_SSE_MAX_LIFETIME_S must be 1-300 seconds")
    if not 1 <= settings.sse_heartbeat_s <= 30:
        raise SettingsError("MC_SSE_HEARTBEAT_S must be 1-30 seconds")
    if settings.sse_max_total_clients < 1 or settings.sse_max_tail_clients < 1:
        raise SettingsError("MC_SSE_MAX_TOTAL_CLIENTS and MC_SSE_MAX_TAIL_CLIENTS must be at least 1")
    if not 1 <= settings.live_poll_ms <= 5000:
        raise SettingsError("MC_LIVE_POLL_MS must be 1-5000")
    if not 0.05 <= settings.live_fallback_poll_s <= 600:
        raise SettingsError("MC_LIVE_FALLBACK_POLL_S must be 0.05-600 seconds")
    if settings.redis_url and not settings.redis_url.startswith(("redis://", "rediss://", "unix://")):
        raise SettingsError(f"MC_REDIS_URL must start with redis://, rediss:// or unix://, not {settings.redis_url!r}")
    if settings.max_connections <= settings.sse_max_total_clients + settings.sse_max_tail_clients:
        raise SettingsError("MC_MAX_CONNECTIONS must be above the two stream caps together, so pages still get in")
    if settings.worker_offline_s <= settings.worker_stale_s:
        raise SettingsError("MC_WORKER_OFFLINE_S must be longer than MC_WORKER_STALE_S")
    parse_trusted_proxies(settings.trusted_proxies)
    if settings.apps_slow_ms >= settings.apps_check_timeout_s * 1000:
        raise SettingsError("MC_APPS_SLOW_MS must be under MC_APPS_CHECK_TIMEOUT_S (a slow answer is still an answer)")
    parse_wip_limits(settings.wip_limits)
    agent_argv(settings.agent_command)
    return settings


def agent_argv(command: str) -> list[str]:
    """MC_AGENT_COMMAND as the program and its arguments (split as a shell would, but run without one)."""
    try:
        return shlex.split(command)
    except ValueError as exc:
        raise SettingsError(f"MC_AGENT_COMMAND cannot be split into words: {exc}") from None


def parse_trusted_proxies(text: str) -> list[str]:
    """'127.0.0.1, 10.0.0.0/8' -> ['127.0.0.1', '10.0.0.0/8'], each checked as an address or a network."""
    proxies = [p.strip() for p in text.split(",") if p.strip()]
    for proxy in proxies:
        try:
            ipaddress.ip_network(proxy, strict=False)
        except ValueError:
            raise SettingsError(f"MC_TRUSTED_PROXIES takes IP addresses or networks; not {proxy!r}") from None
    return proxies

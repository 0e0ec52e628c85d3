"""Shared pieces of the soak suite (bench/soak.py): the fixture, servers that can be killed and restarted, HTTP
posters that retry, read-only checks on the database, and the outcome of a scenario.

This process opens the database only with Python's own sqlite3 (read-only while a server runs). It imports only
app's pure modules (clock, rules), never its database ones, which would load pysqlite3: two SQLite libraries in
one process do not see each other's POSIX locks.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import uuid as uuidlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # imported by bench/soak.py run as a script
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from app.clock import stamp_ago
from bench.client import percentile
from bench.live.procfs import open_fds, proc_status
from bench.server import ROOT, Server, child_env, create_admin_token, locked_write, mc_command, run_mc

BUSY_TIMEOUT_S = 5.0  # app/db.py's BUSY_TIMEOUT_S (not imported: `app` would load another SQLite)
PASS, FAIL, SKIP = "PASS", "FAIL", "SKIP"


# ---------------------------------------------------------------------------------------------------------
# Outcome and context


@dataclass
class Outcome:
    """One scenario's row of the table: its figure and verdict; notes go to stderr as the run goes."""

    scenario: str
    figure: str
    verdict: str
    seconds: float = 0.0


@dataclass
class Checks:
    """Pass conditions, each checked from data: a failed one is named in the figure."""

    failed: list[str] = field(default_factory=list)

    def expect(self, ok: bool, what: str) -> bool:
        """Record `what` as failed unless `ok`."""
        if not ok:
            self.failed.append(what)
        return ok

    def outcome(self, scenario: str, figure: str) -> Outcome:
        """PASS when nothing failed, else FAIL with the failures first."""
        if self.failed:
            return Outcome(scenario, "FAILED: " + "; ".join(self.failed) + " | " + figure, FAIL)
        return Outcome(scenario, figure, PASS)


@dataclass
class Context:
    """What a scenario gets: the fixture, its own folder, and the run's mode."""

    fixture: Fixture
    workdir: Path
    quick: bool

    def db(self) -> Path:
        """A fresh copy of the demo database in this scenario's folder."""
        return self.fixture.copy_to(self.workdir)


def note(message: str) -> None:
    """A progress or detail line on stderr."""
    print(f"  {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------------------
# Fixture


class Fixture:
    """One demo database with an admin and a worker token, made once per run and copied for each scenario."""

    def __init__(self, root: Path) -> None:
        folder = root / "template"
        folder.mkdir(parents=True)
        self.template = folder / "mc.db"
        self.summary = run_mc("demo", "--db", str(self.template)).strip().splitlines()[-1]
        self.admin = create_admin_token(self.template)
        out = run_mc("token", "create", "--scope", "worker", "--name", "soak-worker", "--db", str(self.template))
        self.worker = out.strip().splitlines()[-1].strip()
        wal = Path(f"{self.template}-wal")
        if wal.exists() and wal.stat().st_size:
            raise RuntimeError(f"the template database still has a WAL ({wal.stat().st_size} bytes)")

    def copy_to(self, folder: Path, name: str = "mc.db") -> Path:
        """A copy of the template database (the main file only: it has no WAL)."""
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / name
        shutil.copyfile(self.template, target)
        return target


# ---------------------------------------------------------------------------------------------------------
# Processes: every one this suite starts is registered, so a failure or Ctrl-C leaves none behind


_PROCESSES: list[subprocess.Popen[Any]] = []


def register(proc: subprocess.Popen[Any]) -> subprocess.Popen[Any]:
    """Remember a process started in its own session (its pid leads its group)."""
    _PROCESSES.append(proc)
    return proc


def kill_group(proc: subprocess.Popen[Any], sig: int = signal.SIGKILL) -> None:
    """Signal a process's whole group (started with start_new_session), ignoring one that is gone."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)


def cleanup_processes() -> list[int]:
    """SIGKILL every registered process group still running; return their pids."""
    killed = []
    for proc in _PROCESSES:
        if proc.poll() is None:
            kill_group(proc)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=10)
            killed.append(proc.pid)
        else:
            kill_group(proc)  # a dead leader may leave children in its group (the markdown worker)
    _PROCESSES.clear()
    return killed


def spawn(args: list[str], env: dict[str, str] | None = None, **kwargs: Any) -> subprocess.Popen[str]:
    """Start a command in its own session, registered for cleanup."""
    proc: subprocess.Popen[str] = subprocess.Popen(
        args, cwd=ROOT, env={**child_env(), **(env or {})}, start_new_session=True, text=True, **kwargs
    )
    return register(proc)  # type: ignore[return-value]


def mc(*args: str) -> list[str]:
    """The argv of an `mc` subcommand with this Python."""
    return [*mc_command(), *args]


class SoakServer(Server):
    """A real `mc serve` (bench/server.py's) that can be killed, SIGTERMed and restarted on the same port; each
    start writes its own log file."""

    def __init__(self, db_path: Path, workdir: Path, env: dict[str, str] | None = None) -> None:
        super().__init__(db_path, workdir / "server-0.log", env)
        self.workdir = workdir
        self.starts = 0
        self.logs: list[Path] = []

    def start(self, timeout: float = 30) -> dict[str, Any]:
        """Start (again), logging to a new file."""
        self.starts += 1
        self.log_path = self.workdir / f"server-{self.starts}.log"
        self.logs.append(self.log_path)
        try:
            return super().start(timeout)
        finally:
            if self.proc is not None:
                register(self.proc)

    def alive(self) -> bool:
        """Whether the server process is running."""
        return self.proc is not None and self.proc.poll() is None

    def kill9(self) -> None:
        """SIGKILL the server's whole group (the markdown worker too) and reap it."""
        if self.proc is not None:
            kill_group(self.proc, signal.SIGKILL)
            self.proc.wait()

    def sigterm(self, limit: float = 30) -> tuple[float, int | None]:
        """SIGTERM the group as a service manager would; (seconds until the server exited, its status or None
        when it had to be killed after `limit`)."""
        assert self.proc is not None
        began = time.monotonic()
        kill_group(self.proc, signal.SIGTERM)
        try:
            code: int | None = self.proc.wait(timeout=limit)
        except subprocess.TimeoutExpired:
            code = None
            self.kill9()
        return time.monotonic() - began, code

    def log_text(self) -> str:
        """Everything every start of this server wrote."""
        return "".join(p.read_text(errors="replace") for p in self.logs if p.exists())

    def fds(self) -> int:
        """Its open file descriptors."""
        return open_fds(self.pid or 0)

    def rss(self) -> int:
        """Its resident memory, in bytes."""
        return proc_status(self.pid or 0)["VmRSS"]


def log_problems(text: str) -> dict[str, int]:
    """Counts of what should not be in a server's log."""
    lowered = text.lower()
    return {
        "database is locked": lowered.count("database is locked"),
        "Traceback": text.count("Traceback"),
        "unhandled error": lowered.count("unhandled error"),
    }


# ---------------------------------------------------------------------------------------------------------
# HTTP


def headers_for(token: str) -> dict[str, str]:
    """A bearer token and a JSON body."""
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


def client_for(server: Server, token: str, timeout: float = 15, connections: int = 10) -> httpx.AsyncClient:
    """An async client on the server with the token."""
    # Idle connections are dropped after 4 s, before uvicorn closes them at 5: with both at 5 s (httpx's
    # default) a POST could go out on a connection the server was closing that moment and fail unsent.
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections, keepalive_expiry=4.0)
    return httpx.AsyncClient(base_url=server.base_url, headers=headers_for(token), timeout=timeout, limits=limits)


async def create_tickets(server: Server, token: str, count: int, label: str) -> list[str]:
    """New tickets through the API; their identifiers."""
    found = []
    async with client_for(server, token) as client:
        for n in range(count):
            response = await client.post("/api/v1/tickets", json={"title": f"Soak {label} {n + 1}"})
            if response.status_code != 201:
                raise RuntimeError(f"POST /api/v1/tickets answered {response.status_code}: {response.text[:200]}")
            found.append(str(response.json()["identifier"]))
    return found


def new_uuid(prefix: str) -> str:
    """A unique event uuid, readable in the database."""
    return f"{prefix}-{uuidlib.uuid4().hex[:16]}"


def event(uid: str, text: str = "soak step") -> dict[str, Any]:
    """A stream-json event with a uuid, as agents post them."""
    return {
        "type": "assistant",
        "uuid": uid,
        "message": {"role": "assistant", "content": [{"type": "text", "text": text}]},
        "session_id": "soak",
    }


@dataclass
class Posted:
    """One POST's answer: its status (0: no answer), its seqs, when it started and how long it took."""

    uuids: list[str]
    status: int
    seqs: list[int]
    started: float
    seconds: float
    retry_after: str | None = None
    error: str = ""


async def post_once(
    client: httpx.AsyncClient, ticket: str, uuids: list[str], key: str | None = None, text: str = "soak step"
) -> Posted:
    """POST one event (one uuid) or a batch; never raises for a transport failure (status 0)."""
    body: Any = (
        event(uuids[0], text) if len(uuids) == 1 and key is None else {"events": [event(u, text) for u in uuids]}
    )
    extra = {"Idempotency-Key": key} if key else {}
    began = time.monotonic()
    try:
        response = await client.post(f"/api/v1/tickets/{ticket}/events", json=body, headers=extra)
    except httpx.TransportError as exc:
        return Posted(uuids, 0, [], began, time.monotonic() - began, error=type(exc).__name__)
    took = time.monotonic() - began
    seqs: list[int] = []
    if response.status_code in (200, 201):
        answer = response.json()
        seqs = [int(answer["seq"])] if "seq" in answer else [int(s) for s in answer["seqs"]]
    return Posted(
        uuids,
        response.status_code,
        seqs,
        began,
        took,
        response.headers.get("retry-after"),
        "" if response.status_code < 400 else response.text[:200],
    )


async def post_until_stored(
    client: httpx.AsyncClient,
    ticket: str,
    uuids: list[str],
    key: str | None = None,
    seen: dict[int, int] | None = None,
    give_up_s: float = 120,
) -> tuple[Posted, int]:
    """POST the same event or batch until it gets 200/201 (a transport error or a 5xx is retried); return the
    final answer and how many tries it took. A 4xx is final too (and wrong here). `seen` counts every answer's
    status (0: no answer)."""
    tries = 0
    deadline = time.monotonic() + give_up_s
    while True:
        tries += 1
        answer = await post_once(client, ticket, uuids, key)
        if seen is not None:
            seen[answer.status] = seen.get(answer.status, 0) + 1
        if answer.status in (200, 201) or 400 <= answer.status < 500 or time.monotonic() > deadline:
            return answer, tries
        await asyncio.sleep(0.05)


# ---------------------------------------------------------------------------------------------------------
# Read-only checks on the database (Python's own sqlite3)


def ro_connect(db: Path) -> sqlite3.Connection:
    """A read-only connection (never checkpoints, never writes)."""
    return sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)


def integrity(db: Path) -> str:
    """PRAGMA integrity_check's answer, joined on one line."""
    conn = ro_connect(db)
    try:
        rows = conn.execute("PRAGMA integrity_check").fetchall()
    finally:
        conn.close()
    return "; ".join(str(r[0]) for r in rows)[:300]


def ticket_events(db: Path, identifiers: Iterable[str]) -> dict[str, list[tuple[int, str | None]]]:
    """Each ticket's (seq, uuid) rows in seq order."""
    conn = ro_connect(db)
    try:
        found = {}
        for identifier in identifiers:
            found[identifier] = conn.execute(
                "SELECT e.seq, e.uuid FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id"
                " WHERE t.identifier = ? ORDER BY e.seq",
                (identifier,),
            ).fetchall()
        return found
    finally:
        conn.close()


@dataclass
class Ledger:
    """What the database holds for some tickets against what the clients were told."""

    rows: int = 0
    gaps: list[str] = field(default_factory=list)  # tickets whose seqs are not exactly 1..N
    duplicates: int = 0  # rows whose uuid is stored more than once (per ticket)
    lost: int = 0  # acknowledged uuids not stored
    wrong_seq: int = 0  # acknowledged uuids stored under another seq than the one acknowledged
    unexpected: int = 0  # stored uuids never acknowledged and not allowed (see `allowed`)
    no_uuid: int = 0


def reconcile(
    db: Path, tickets: Iterable[str], acked: dict[str, tuple[str, int]], allowed: set[str] | None = None
) -> Ledger:
    """Check the stored events of `tickets`: seqs exactly 1..N, each uuid once, every acknowledged uuid (uuid ->
    (ticket, seq)) stored under its seq, and nothing else stored but `allowed` uuids (None: anything)."""
    ledger = Ledger()
    stored: dict[tuple[str, str], list[int]] = {}
    for ticket, rows in ticket_events(db, tickets).items():
        ledger.rows += len(rows)
        seqs = [seq for seq, _ in rows]
        if seqs != list(range(1, len(seqs) + 1)):
            ledger.gaps.append(f"{ticket} ({len(seqs)} rows, max seq {max(seqs, default=0)})")
        for seq, uid in rows:
            if uid is None:
                ledger.no_uuid += 1
            else:
                stored.setdefault((ticket, uid), []).append(seq)
    ledger.duplicates = sum(len(s) - 1 for s in stored.values())
    for uid, (ticket, seq) in acked.items():
        found = stored.get((ticket, uid))
        if not found:
            ledger.lost += 1
        elif found[0] != seq:
            ledger.wrong_seq += 1
    if allowed is not None:
        ledger.unexpected = sum(1 for (_, uid) in stored if uid not in acked and uid not in allowed)
    return ledger


def ledger_ok(ledger: Ledger) -> bool:
    """Nothing lost, doubled, misnumbered or unexplained."""
    return not (ledger.gaps or ledger.duplicates or ledger.lost or ledger.wrong_seq or ledger.unexpected)


def ledger_text(ledger: Ledger) -> str:
    """One line."""
    gaps = f"gaps in {', '.join(ledger.gaps)}" if ledger.gaps else "seqs 1..N gap-free"
    return (
        f"{ledger.rows:,} rows; lost {ledger.lost}, duplicates {ledger.duplicates}, wrong seq {ledger.wrong_seq},"
        f" unexplained {ledger.unexpected}; {gaps}"
    )


# ---------------------------------------------------------------------------------------------------------
# Numbers


def p(values: list[float], pct: float) -> float:
    """Nearest-rank percentile of unsorted values."""
    return percentile(sorted(values), pct)


def ms(seconds: float) -> str:
    """Seconds as '12.3 ms'."""
    return "n/a" if math.isnan(seconds) else f"{seconds * 1000:.1f} ms"


def mb(size: float) -> str:
    """Bytes as '12.3 MB'."""
    return f"{size / 1e6:.1f} MB"


def close_wait(port: int) -> int:
    """Sockets in CLOSE-WAIT whose local port is the server's (`ss`)."""
    out = subprocess.run(
        ["ss", "-tanH", "state", "close-wait", f"( sport = :{port} )"], capture_output=True, text=True, timeout=10
    )
    return len([line for line in out.stdout.splitlines() if line.strip()])


# ---------------------------------------------------------------------------------------------------------
# The queue, filled directly (no server running yet)


def stamp(ago_s: float = 0.0) -> str:
    """A time as the database writes them, `ago_s` seconds before now (negative: in the future)."""
    return stamp_ago(timedelta(seconds=ago_s))


QUEUE_KINDS = ("stuck", "run_out", "failed", "fresh", "done")


def queue_kind(n: int) -> str:
    """The kind of the n-th message filled in: 40% stuck queued, 20% run-out leases, 15% failed and due,
    15% fresh (claimable), 10% done."""
    slot = n % 20
    return (
        "stuck" if slot < 8 else "run_out" if slot < 12 else "failed" if slot < 15 else "fresh" if slot < 18 else "done"
    )


def fill_queue(db: Path, count: int, max_attempts: int = 5) -> int:
    """Insert `count` messages in every state the reaper acts on (under the app's write lock, with no server
    running); return the first new id."""
    with locked_write(db) as conn:
        first = int(conn.execute("SELECT coalesce(max(id), 0) + 1 FROM queued_messages").fetchone()[0])
        rows = []
        for n in range(count):
            kind, attempts = queue_kind(n), n % max_attempts
            status, owner, lease, next_at, error, updated = "queued", None, None, None, None, stamp(60)
            if kind == "stuck":
                updated = stamp(2 * 3600)
            elif kind == "run_out":
                status, owner, lease, updated = "leased", "ghost-worker", stamp(60), stamp(300)
            elif kind == "failed":
                status, attempts, next_at, error = "failed", 1 + n % (max_attempts - 1), stamp(60), "soak failure"
            elif kind == "done":
                status, updated = "done", stamp(3600)
            rows.append(
                (
                    first + n,
                    None,
                    f"soak message {n} ({kind})",
                    status,
                    attempts,
                    owner,
                    lease,
                    next_at,
                    error,
                    updated,
                    updated,
                )
            )
        conn.executemany(
            "INSERT INTO queued_messages (id, ticket_id, body, status, attempts, lease_owner, lease_expires_at,"
            " next_attempt_at, last_error, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
    return first


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used (from /proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

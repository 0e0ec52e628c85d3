"""Benchmark the live path of a real `mc serve` on loopback: ingest, fan-out, delivery and starvation (issue 4).

Usage: python bench/live.py [--quick] [--only PART ...] [--client auto|wrk|python] [--streams N] [--subscribers N]
                            [--rounds N]

Every figure is a ratio measured in this one run, because the machine is small, shared and noisy:
  1. ingest     single-event POSTs/s vs the same server's /healthz req/s; batched events/s vs raw SQLite
                inserting the same rows in batches of 100 into an identical table (WAL, synchronous=FULL)
  2. fan-out    server RSS (VmRSS) before and after opening N idle ticket streams: bytes per stream
  3. delivery   N subscribers on one ticket stream, one event posted: time to the first and the last
  4. starvation every stream and tail slot taken and 2x as many clients knocking (503s): /board p50/p99 vs
                its unloaded p99, and how long the 503s take a client that knocks about once a second from
                another address; knockers retrying at once (a stress test) and about once a second
For information (no target): delivery while the fan-out server also holds its idle streams, and (not with
--quick) how long a hung-up stream keeps its slot. Each part runs its own `mc serve` on the same database, so
one part's leftovers (dead streams, a grown heap) do not weigh on the next; `--only ingest` (repeatable) runs
just the parts named, to check one figure quickly.
Nothing here passes or fails on speed: MET / NOT MET are printed, and the exit status is non-zero only when
something did not work (a server that would not start, a stream that did not open, wrong statuses).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import math
import multiprocessing
import os
import random
import re
import resource
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

if __package__ in (None, ""):  # run as `python bench/live.py`: make the `bench` package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from app.clock import stamp
from bench.client import Result, parse_wrk, percentile, run_python, run_wrk, wrk_path, wrk_version
from bench.run import machine_facts
from bench.server import HOST, ROOT, BenchSetupError, Server, create_admin_token, get, prepare_database, run_mc

try:  # the server runs on uvloop; so does the client side here when it is installed (a lighter client)
    import uvloop
except ImportError:  # pragma: no cover - uvloop ships with uvicorn[standard]
    uvloop = None  # type: ignore[assignment]

T = TypeVar("T")

# Targets (issue 4).
INGEST_TARGET = 0.50  # single POSTs/s vs healthz req/s, and batched events/s vs raw SQLite
FANOUT_TARGET_BYTES = 40_000  # per idle stream (KB = 1000 bytes: the stricter reading)
DELIVERY_TARGET_MS = 200.0  # post -> the last of the subscribers
STARVATION_TARGET = 3.0  # loaded /board p99 vs unloaded p99
OVER_CAP_TARGET_MS = 100.0  # p99 of the 503 answers to a client that knocks about once a second
POLITE_ADDRESS = "127.0.0.2"  # that client's own loopback address: the knockers' holds are per address

PARTS = ("ingest", "fanout", "delivery", "starvation")  # what --only can name, in the order they run
BATCH = 100  # events per batched POST, and per raw-SQLite transaction
STARVE_TOTAL, STARVE_TAIL = 50, 10  # small caps for the starvation figure
KNOCK_FACTOR = 2  # knocking clients per slot
MIN_NOFILE = 16_384
HEARTBEAT_S = 15  # the default MC_SSE_HEARTBEAT_S, set explicitly on the starvation server


@dataclass(frozen=True)
class Plan:
    """How long and how big each part is (full or --quick)."""

    quick: bool
    parts: tuple[str, ...]  # the parts to run (all of PARTS unless --only)
    duration: float  # seconds per throughput measurement
    concurrency: int  # single-event posters (and healthz connections)
    posters: int  # concurrent batched posters
    streams: int  # idle streams for the fan-out figure
    subscribers: int  # subscribers for the delivery figure
    rounds: int  # delivery repeats
    board_s: float  # seconds per /board latency measurement


@dataclass
class Line:
    """One figure: what was measured, against what, the ratio, the target on that ratio, and the verdict."""

    figure: str
    measured: str
    against: str
    ratio: float  # measured / against
    target: str
    met: bool | None  # None: information only
    notes: list[str] = field(default_factory=list)

    def verdict(self) -> str:
        """MET, NOT MET, or info."""
        return "info" if self.met is None else ("MET" if self.met else "NOT MET")


class Trouble(Exception):
    """Something did not work (not a speed problem): the message is one line."""


# ---------------------------------------------------------------------------------------------------------
# Event bodies


def stream_json_event(n: int, text: str | None = None) -> dict[str, Any]:
    """A stream-json assistant message like a worker posts (no uuid: every POST stores a new row)."""
    return {
        "type": "assistant",
        "message": {
            "id": f"msg_bench_{n:08d}",
            "type": "message",
            "role": "assistant",
            "model": "claude-bench",
            "content": [{"type": "text", "text": text or f"Step {n}: ran the unit tests, 41 passed, 0 failed."}],
        },
        "session_id": "bench-live",
    }


def compact(value: Any) -> str:
    """JSON as the server stores it (no spaces)."""
    return json.dumps(value, separators=(",", ":"))


def single_body() -> str:
    """One event per POST."""
    return compact(stream_json_event(1))


def batch_body() -> str:
    """BATCH events in one POST."""
    return compact({"events": [stream_json_event(n) for n in range(BATCH)]})


# ---------------------------------------------------------------------------------------------------------
# Small helpers


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine on a fresh loop (uvloop when installed)."""
    factory = uvloop.new_event_loop if uvloop is not None else None
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(coro)


def proc_status(pid: int) -> dict[str, int]:
    """Memory fields of /proc/<pid>/status, in bytes."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile", "Threads"):
            parts = value.split()
            found[key] = int(parts[0]) * (1024 if len(parts) > 1 and parts[1] == "kB" else 1)
    return found


def open_fds(pid: int) -> int:
    """How many file descriptors the process has open."""
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return -1


def nofile_limit(pid: int) -> tuple[str, str]:
    """The process's (soft, hard) RLIMIT_NOFILE, from /proc/<pid>/limits."""
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max open files"):
            parts = line.split()
            return parts[3], parts[4]
    return "?", "?"


def raise_nofile(wanted: int) -> tuple[int, int]:
    """Raise this process's soft RLIMIT_NOFILE towards `wanted` (servers started later inherit it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(max(soft, wanted), hard)
    if target > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)


def last_seqs(db_path: Path) -> dict[str, int]:
    """Each ticket's identifier and its last event seq (0 without events), read-only."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        rows = conn.execute(
            "SELECT t.identifier, coalesce(max(e.seq), 0) FROM tickets t"
            " LEFT JOIN ticket_events e ON e.ticket_id = t.id GROUP BY t.id"
        ).fetchall()
    finally:
        conn.close()
    return {identifier: int(seq) for identifier, seq in rows}


def count_events(db_path: Path) -> int:
    """How many events are stored (read-only)."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        return int(conn.execute("SELECT count(*) FROM ticket_events").fetchone()[0])
    finally:
        conn.close()


def post(url: str, token: str, body: str) -> tuple[int, bytes]:
    """One POST with httpx; (status, body)."""
    response = httpx.post(
        url, content=body, headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    )
    return response.status_code, response.content


def fmt_rate(value: float, unit: str) -> str:
    """1,234 req/s."""
    return f"{value:,.0f} {unit}"


def fmt_ms(value: float) -> str:
    """12.3 ms, or n/a."""
    return "n/a" if math.isnan(value) else ("inf" if math.isinf(value) else f"{value:.1f} ms")


# ---------------------------------------------------------------------------------------------------------
# 1. Ingest


def wrk_post(url: str, token: str, body: str, concurrency: int, duration: float, script_dir: Path) -> Result:
    """POST `body` with wrk and a Lua script (wrk -s), `concurrency` connections, whole seconds."""
    path = wrk_path()
    assert path is not None
    script = script_dir / f"post-{concurrency}-{len(body)}.lua"
    script.write_text(
        'wrk.method = "POST"\n'
        f"wrk.body = [==[{body}]==]\n"
        'wrk.headers["Content-Type"] = "application/json"\n'
        f'wrk.headers["Authorization"] = "Bearer {token}"\n'
    )
    seconds = max(1, round(duration))
    args = [path, "-t1", f"-c{concurrency}", f"-d{seconds}s", "--timeout", "10s", "--latency", "-s", str(script)]
    proc = subprocess.run([*args, url], capture_output=True, text=True, timeout=seconds + 60)
    if proc.returncode != 0:
        raise Trouble(f"wrk failed ({proc.returncode}): {proc.stderr.strip() or proc.stdout.strip()}")
    return parse_wrk(proc.stdout)


def drive_post(use_wrk: bool, url: str, token: str, body: str, conc: int, duration: float, tmp: Path) -> Result:
    """POST load with wrk (Lua script) or the httpx fallback."""
    if use_wrk:
        return wrk_post(url, token, body, conc, duration, tmp)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    return run_python(url, headers, conc, duration, body)


def drive_get(use_wrk: bool, url: str, headers: dict[str, str], conc: int, duration: float) -> Result:
    """GET load with wrk or the httpx fallback."""
    return (run_wrk if use_wrk else run_python)(url, headers, conc, duration)


def ticket_events_ddl() -> list[str]:
    """ticket_events' CREATE TABLE and its index, exactly as the first migration writes them."""
    script = (ROOT / "sql" / "migrations" / "001_initial.sql").read_text()
    table = re.search(r"^CREATE TABLE ticket_events \(.*?^\);", script, re.MULTILINE | re.DOTALL)
    index = re.search(r"^CREATE UNIQUE INDEX ticket_events_uuid .*?;", script, re.MULTILINE)
    if table is None or index is None:
        raise Trouble("cannot find ticket_events' definition in sql/migrations/001_initial.sql")
    return [table.group(0), index.group(0)]


def raw_sqlite_rate(directory: Path, duration: float) -> tuple[float, int]:
    """Plain sqlite3: identical table, WAL, synchronous=FULL, BATCH rows per transaction; (rows/s, rows)."""
    path = directory / "raw.db"
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")  # as the app's connections
        conn.execute("CREATE TABLE tickets (id INTEGER PRIMARY KEY AUTOINCREMENT)")  # the foreign key's target
        for statement in ticket_events_ddl():
            conn.execute(statement)
        conn.execute("INSERT INTO tickets (id) VALUES (1)")
        payloads = [compact(stream_json_event(n)) for n in range(BATCH)]
        sql = "INSERT INTO ticket_events (ticket_id, seq, event_type, payload_json, uuid, ts) VALUES (?, ?, ?, ?, ?, ?)"
        seq = rows = 0
        started = time.perf_counter()
        deadline = started + duration
        while time.perf_counter() < deadline:
            ts = stamp()
            batch = [(1, seq + i + 1, "assistant", payloads[i], None, ts) for i in range(BATCH)]
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(sql, batch)
            conn.execute("COMMIT")
            seq += BATCH
            rows += BATCH
        elapsed = time.perf_counter() - started
    finally:
        conn.close()
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(OSError):
                Path(f"{path}{suffix}").unlink()
    return rows / elapsed, rows


def ingest(server: Server, token: str, plan: Plan, use_wrk: bool, tmp: Path, db_path: Path) -> list[Line]:
    """Figure 1: healthz (first), single POSTs, batched POSTs, healthz (last); then raw SQLite."""
    health_url = server.base_url + "/healthz"
    single_url = server.base_url + "/api/v1/tickets/MC-1/events"
    batch_url = server.base_url + "/api/v1/tickets/MC-2/events"
    one, many = single_body(), batch_body()
    for url, body, expect in ((single_url, one, b'"seq"'), (batch_url, many, b'"seqs"')):
        status, answer = post(url, token, body)
        if status != 201 or expect not in answer:
            raise Trouble(f"POST {url} answered {status} {answer[:200]!r}, not 201 with {expect.decode()}")
    drive_get(use_wrk, health_url, {}, plan.concurrency, 1.0)  # unreported warm-up
    progress("ingest: healthz (first)")
    first = drive_get(use_wrk, health_url, {}, plan.concurrency, plan.duration)
    progress("ingest: single-event POSTs")
    before = count_events(db_path)
    single = drive_post(use_wrk, single_url, token, one, plan.concurrency, plan.duration, tmp)
    stored_single = count_events(db_path) - before
    progress("ingest: batched POSTs")
    ticket_before = last_seqs(db_path)["MC-2"]
    before = count_events(db_path)
    batched = drive_post(use_wrk, batch_url, token, many, plan.posters, plan.duration, tmp)
    stored_batched = count_events(db_path) - before
    ticket_after = last_seqs(db_path)["MC-2"]
    progress("ingest: healthz (last)")
    last = drive_get(use_wrk, health_url, {}, plan.concurrency, plan.duration)
    progress("ingest: raw SQLite")
    raw_rate, raw_rows = raw_sqlite_rate(tmp, plan.duration)
    for label, result in (("healthz", first), ("single POSTs", single), ("batched POSTs", batched), ("healthz", last)):
        if result.error_rate > 0.01:
            raise Trouble(f"ingest {label}: {result.errors} errors in {result.requests} requests")

    baseline = (first.rps + last.rps) / 2
    drift = (last.rps - first.rps) / first.rps * 100 if first.rps else math.nan
    events_rate = batched.rps * BATCH
    return [
        Line(
            f"ingest: single-event POSTs (c={plan.concurrency})",
            fmt_rate(single.rps, "POST/s"),
            f"healthz {fmt_rate(baseline, 'req/s')}",
            single.rps / baseline,
            f">= {INGEST_TARGET:.0%}",
            single.rps / baseline >= INGEST_TARGET,
            [
                f"POST p50 {fmt_ms(single.p50_ms)}, p99 {fmt_ms(single.p99_ms)}; healthz p50 {fmt_ms(first.p50_ms)}"
                f" / {fmt_ms(last.p50_ms)} (first / last)",
                f"healthz first {first.rps:,.0f}, last {last.rps:,.0f} req/s: drift {drift:+.1f}% (noise)",
                f"rows stored during the run: {stored_single:,} ({single.requests:,} answered, {single.errors} errors)",
                *([] if use_wrk else ["the Python client may be the bottleneck here (healthz too): prefer wrk"]),
            ],
        ),
        Line(
            f"ingest: batched POSTs ({BATCH}/POST, c={plan.posters})",
            fmt_rate(events_rate, "events/s"),
            f"raw SQLite {fmt_rate(raw_rate, 'rows/s')}",
            events_rate / raw_rate,
            f">= {INGEST_TARGET:.0%}",
            events_rate / raw_rate >= INGEST_TARGET,
            [
                f"{batched.rps:,.1f} POST/s, p50 {fmt_ms(batched.p50_ms)}, p99 {fmt_ms(batched.p99_ms)};"
                f" rows stored during the run: {stored_batched:,}; MC-2 held {ticket_before:,} events before,"
                f" {ticket_after:,} after",
                f"raw SQLite: {raw_rows:,} rows in batches of {BATCH} (WAL, synchronous=FULL, foreign_keys=ON),"
                " one thread, same file system",
            ],
        ),
    ]


# ---------------------------------------------------------------------------------------------------------
# Raw SSE clients


class Round:
    """One delivery: the frame to look for, and when each subscriber saw it."""

    def __init__(self, marker: bytes, expected: int) -> None:
        self.marker = marker
        self.expected = expected
        self.times: list[float] = []
        self.done = asyncio.get_running_loop().create_future()

    def hit(self, when: float) -> None:
        """A subscriber saw the frame."""
        self.times.append(when)
        if len(self.times) >= self.expected and not self.done.done():
            self.done.set_result(None)


class SSEClient(asyncio.Protocol):
    """A GET on a stream over a raw socket: reads the response head, then reads on (and discards) for good.

    Armed with a Round, it notes the moment the round's frame arrives."""

    def __init__(self, request: bytes) -> None:
        self.request = request
        self.transport: asyncio.Transport | None = None
        self.head = bytearray()
        self.head_done: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self.head_done.add_done_callback(_retrieve)  # a hang-up nobody waits for is not an error to log
        self.status = 0
        self.headers: dict[str, str] = {}
        self.round: Round | None = None
        self.tail = b""
        self.lost = False

    def connection_made(self, transport: Any) -> None:
        """Send the request at once."""
        self.transport = transport
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        """The head first; afterwards only look for an armed round's frame."""
        now = time.perf_counter()
        if not self.head_done.done():
            self.head += data
            end = self.head.find(b"\r\n\r\n")
            if end < 0:
                return
            lines = bytes(self.head[:end]).decode("latin-1").split("\r\n")
            self.status = int(lines[0].split()[1])
            self.headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in lines[1:])}
            data = bytes(self.head[end + 4 :])
            self.head = bytearray()
            self.head_done.set_result(self.status)
        current = self.round
        if current is not None and data:
            seen = self.tail + data
            if current.marker in seen:
                current.hit(now)
                self.round, self.tail = None, b""
            else:
                self.tail = seen[-len(current.marker) :]

    def connection_lost(self, exc: Exception | None) -> None:
        """Note it; a head never received is an error."""
        self.lost = True
        if not self.head_done.done():
            self.head_done.set_exception(ConnectionError(f"closed before the response head: {exc}"))

    def close(self) -> None:
        """Hang up."""
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()


def _retrieve(future: asyncio.Future[Any]) -> None:
    """Mark a future's exception as seen."""
    if not future.cancelled():
        future.exception()


def stream_request(port: int, path: str, token: str, last_event_id: int | None = None) -> bytes:
    """The GET a browser's EventSource sends, with the bearer token."""
    lines = [f"GET {path} HTTP/1.1", f"Host: {HOST}:{port}", f"Authorization: Bearer {token}",
             "Accept: text/event-stream", "Cache-Control: no-cache"]  # fmt: skip
    if last_event_id is not None:
        lines.append(f"Last-Event-ID: {last_event_id}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def open_client(port: int, request: bytes, timeout: float = 30, source: str | None = None
                      ) -> tuple[SSEClient, float]:  # fmt: skip
    """Connect (from the loopback address `source`, when given), send, wait for the response head; (client,
    seconds it took)."""
    loop = asyncio.get_running_loop()
    started = time.perf_counter()
    local = (source, 0) if source else None
    connecting = loop.create_connection(lambda: SSEClient(request), HOST, port, local_addr=local)
    _, client = await asyncio.wait_for(connecting, timeout)
    try:
        await asyncio.wait_for(client.head_done, timeout)
    except BaseException:
        client.close()
        raise
    return client, time.perf_counter() - started


@dataclass
class Opened:
    """Streams opened by open_many, and how many 503s they met on the way (when retrying)."""

    clients: list[SSEClient] = field(default_factory=list)
    refused: int = 0


async def open_many(port: int, requests: list[bytes], parallel: int = 100, retry_for: float = 0.0) -> Opened:
    """Open every stream (at most `parallel` handshakes at once); all must answer 200. A 503 is retried every
    0.25 s for `retry_for` seconds (slots held by streams whose clients already left)."""
    gate = asyncio.Semaphore(parallel)
    opened = Opened()
    deadline = time.perf_counter() + retry_for

    async def one(request: bytes) -> None:
        async with gate:
            while True:
                client, _ = await open_client(port, request)
                if client.status == 200:
                    opened.clients.append(client)
                    return
                client.close()
                if client.status == 503 and time.perf_counter() < deadline:
                    opened.refused += 1
                    await asyncio.sleep(0.25)
                    continue
                raise Trouble(f"a stream answered {client.status}, not 200 ({len(opened.clients)} open so far)")

    tasks = [asyncio.create_task(one(r)) for r in requests]
    try:
        await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        close_all(opened.clients)
        raise
    return opened


def close_all(clients: list[SSEClient]) -> None:
    """Hang up on every client."""
    for client in clients:
        client.close()


# ---------------------------------------------------------------------------------------------------------
# 2. Fan-out, 3. Delivery (one server with raised caps)


async def fanout(server: Server, token: str, plan: Plan, seqs: dict[str, int], lines: list[Line]) -> None:
    """Figure 2: the server's RSS before and with plan.streams idle ticket streams open."""
    assert server.pid is not None
    pid, port = server.pid, server.port
    idle_tickets = [f"MC-{n}" for n in range(11, 21)]  # spread over ten tickets, no replay (Last-Event-ID)

    # Warm the paths (auth, ticket lookup, replay query, stream code) so "before" is not a cold interpreter.
    warm = await open_many(port, [stream_request(port, f"/api/v1/tickets/{t}/stream", token, seqs[t])
                                  for t in idle_tickets * 5])  # fmt: skip
    close_all(warm.clients)
    await asyncio.sleep(1.0)
    before, fds_before = proc_status(pid), open_fds(pid)

    progress(f"fan-out: opening {plan.streams:,} idle ticket streams")
    requests = [
        stream_request(port, f"/api/v1/tickets/{t}/stream", token, seqs[t])
        for t in (idle_tickets[i % len(idle_tickets)] for i in range(plan.streams))
    ]
    began = time.perf_counter()
    held = Opened()
    busy: list[Line] = []
    try:
        held = await open_many(port, requests)
        open_s = time.perf_counter() - began
        await asyncio.sleep(1.5)  # let the server settle (tasks parked, buffers sent)
        after, fds_after = proc_status(pid), open_fds(pid)
        alive = sum(not c.lost for c in held.clients)
        if not plan.quick:  # the same delivery as figure 3, on a server that also holds the idle streams
            progress(f"fan-out: delivery to {plan.subscribers:,} subscribers with the idle streams open")
            ticket = "MC-5"
            request = stream_request(port, f"/api/v1/tickets/{ticket}/stream", token, seqs[ticket])
            subscribers = await open_many(port, [request] * plan.subscribers)
            try:
                await asyncio.sleep(1.0)
                busy = await deliver(server, token, plan, ticket, subscribers.clients, also_open=plan.streams)
            finally:
                close_all(subscribers.clients)
    finally:
        close_all(held.clients)
    per_stream = (after["VmRSS"] - before["VmRSS"]) / plan.streams
    anon = (after.get("RssAnon", 0) - before.get("RssAnon", 0)) / plan.streams
    lines.append(
        Line(
            f"fan-out: server RSS per idle stream ({plan.streams:,})",
            f"{per_stream / 1000:.1f} KB",
            f"budget {FANOUT_TARGET_BYTES / 1000:.0f} KB",
            per_stream / FANOUT_TARGET_BYTES,
            "<= 100%",
            per_stream < FANOUT_TARGET_BYTES and alive == plan.streams,
            [
                f"VmRSS {before['VmRSS'] / 1e6:.1f} MB before -> {after['VmRSS'] / 1e6:.1f} MB with the streams;"
                f" RssAnon {anon / 1000:.1f} KB/stream; kernel socket buffers are not in RSS",
                f"{alive:,} of {plan.streams:,} streams still open when measured; opened in {open_s:.1f} s"
                f" ({plan.streams / open_s:,.0f}/s); server fds {fds_before} -> {fds_after}",
            ],
        )
    )
    if not plan.quick:
        lines += busy


async def delivery(server: Server, token: str, plan: Plan, seqs: dict[str, int], lines: list[Line]) -> None:
    """Figure 3: plan.subscribers on one ticket stream; plan.rounds events posted one at a time."""
    progress(f"delivery: {plan.subscribers:,} subscribers on MC-5, {plan.rounds} events")
    ticket = "MC-5"
    subscribers = Opened()
    try:
        subscribers = await open_many(
            server.port,
            [stream_request(server.port, f"/api/v1/tickets/{ticket}/stream", token, seqs[ticket])] * plan.subscribers,
        )
        await asyncio.sleep(1.0)
        lines += await deliver(server, token, plan, ticket, subscribers.clients)
    finally:
        close_all(subscribers.clients)


async def _rounds(
    url: str,
    headers: dict[str, str],
    plan: Plan,
    subscribers: list[SSEClient],
    firsts: list[float],
    lasts: list[float],
    answered: list[float],
    missed: list[int],
) -> None:
    """The delivery rounds: arm every subscriber, post, wait for all of them (or 10 s)."""
    async with httpx.AsyncClient(headers=headers, timeout=10) as client:
        # An unreported first event: warms the render path and tells us the seq to expect next.
        response = await client.post(url, content=compact(stream_json_event(0, "warm-up")))
        if response.status_code != 201:
            raise Trouble(f"POST {url} answered {response.status_code}")
        seq = int(response.json()["seq"])
        await asyncio.sleep(0.5)
        for n in range(1, plan.rounds + 1):
            seq += 1
            current = Round(f"id: {seq}\nevent: ticket_event\n".encode(), len(subscribers))
            for sub in subscribers:
                sub.round, sub.tail = current, b""
            body = compact(stream_json_event(n, f"Delivery round {n}: the tests pass."))
            sent = time.perf_counter()
            response = await client.post(url, content=body)
            answered.append((time.perf_counter() - sent) * 1000)
            if response.status_code != 201 or int(response.json()["seq"]) != seq:
                raise Trouble(f"delivery round {n}: POST answered {response.status_code} {response.text[:100]!r},"
                              f" expected seq {seq}")  # fmt: skip
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(current.done), 10)
            missed.append(current.expected - len(current.times))
            firsts.append((min(current.times) - sent) * 1000 if current.times else math.inf)
            lasts.append((max(current.times) - sent) * 1000 if current.done.done() else math.inf)
            for sub in subscribers:
                sub.round = None
            await asyncio.sleep(0.3)


async def deliver(
    server: Server, token: str, plan: Plan, ticket: str, subscribers: list[SSEClient], also_open: int = 0
) -> list[Line]:
    """Post plan.rounds events one at a time; each time, when did the first and the last subscriber see it.
    With `also_open` (idle streams held meanwhile) the result is one line of information."""
    url = f"{server.base_url}/api/v1/tickets/{ticket}/events"
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    firsts: list[float] = []
    lasts: list[float] = []
    answered: list[float] = []
    missed: list[int] = []
    gc.collect()
    gc.disable()  # no collection pauses in this client while it times the rounds
    try:
        await _rounds(url, headers, plan, subscribers, firsts, lasts, answered, missed)
    finally:
        gc.enable()
    missing = sum(missed)
    median_last, max_last = statistics.median(lasts), max(lasts)
    note = [
        f"to the last, each round (ms): {', '.join(fmt_ms(v).removesuffix(' ms') for v in lasts)}",
        f"to the first: median {fmt_ms(statistics.median(firsts))}, max {fmt_ms(max(firsts))};"
        f" the POST's own 201: median {fmt_ms(statistics.median(answered))}, max {fmt_ms(max(answered))}",
        f"missed deliveries: {missing}; times are from sending the POST to the client reading the frame"
        " (the client's own read loop is included)",
    ]
    n = len(subscribers)
    if also_open:
        return [Line(f"delivery, {also_open:,} idle streams also open: POST -> last of {n:,} (max)",
                     fmt_ms(max_last), f"budget {DELIVERY_TARGET_MS:.0f} ms", max_last / DELIVERY_TARGET_MS,
                     "(info)", None, [f"median {fmt_ms(median_last)}", *note])]  # fmt: skip
    return [
        Line(f"delivery: POST -> last of {n:,} (median of {plan.rounds})", fmt_ms(median_last),
             f"budget {DELIVERY_TARGET_MS:.0f} ms", median_last / DELIVERY_TARGET_MS, "< 100%",
             median_last < DELIVERY_TARGET_MS and missing == 0, note),
        Line(f"delivery: POST -> last of {n:,} (max of {plan.rounds})", fmt_ms(max_last),
             f"budget {DELIVERY_TARGET_MS:.0f} ms", max_last / DELIVERY_TARGET_MS, "< 100%",
             max_last < DELIVERY_TARGET_MS and missing == 0),
        Line(f"delivery: POST -> first of {n:,} (median)", fmt_ms(statistics.median(firsts)),
             f"budget {DELIVERY_TARGET_MS:.0f} ms", statistics.median(firsts) / DELIVERY_TARGET_MS, "(info)",
             None),
    ]  # fmt: skip


# ---------------------------------------------------------------------------------------------------------
# 4. Starvation (one server with small caps)


def board_probe(use_wrk: bool, url: str, token: str, seconds: float) -> Result:
    """/board latency from one connection, requests back to back, in its own process (wrk, or Python)."""
    headers = {"Authorization": f"Bearer {token}"}
    if use_wrk:
        return run_wrk(url, headers, 1, seconds)
    # Off this process, which drives the knocking clients; spawned, since this process runs threads.
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(run_python, url, headers, 1, seconds).result()


@dataclass
class Knocks:
    """What the knocking clients got."""

    latencies: list[float] = field(default_factory=list)  # ms, 503s only
    statuses: dict[int, int] = field(default_factory=dict)
    no_retry_after: int = 0
    failures: int = 0


async def knock(port: int, requests: list[bytes], pause: float, stop: asyncio.Event, knocks: Knocks,
                source: str | None = None) -> None:  # fmt: skip
    """One client per request, each opening its stream again and again until `stop`, about `pause` s apart
    (from the loopback address `source`, when given)."""

    rng = random.Random(4)  # knockers that retry on a timer drift apart: no synchronised bursts

    async def one(request: bytes) -> None:
        if pause:
            await asyncio.sleep(rng.uniform(0, pause))
        while not stop.is_set():
            try:
                client, took = await open_client(port, request, timeout=10, source=source)
            except (OSError, TimeoutError):
                knocks.failures += 1
                continue
            client.close()
            knocks.statuses[client.status] = knocks.statuses.get(client.status, 0) + 1
            if client.status == 503:
                knocks.latencies.append(took * 1000)
                knocks.no_retry_after += client.headers.get("retry-after") != "30"
            if pause:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), pause * rng.uniform(0.5, 1.5))

    await asyncio.gather(*(one(r) for r in requests))


async def starvation(
    server: Server, token: str, plan: Plan, use_wrk: bool, seqs: dict[str, int], lines: list[Line]
) -> None:
    """Board latency unloaded; then every slot held and 2x as many clients knocking (at once, and paced)."""
    port, board = server.port, server.base_url + "/board"
    status, page = await asyncio.to_thread(get, board, {"Authorization": f"Bearer {token}"})
    if status != 200:
        raise Trouble(f"/board answered {status}")
    progress("starvation: /board unloaded")
    await asyncio.to_thread(board_probe, use_wrk, board, token, 1.0)  # unreported warm-up
    unloaded = await asyncio.to_thread(board_probe, use_wrk, board, token, plan.board_s)

    ticket = "MC-3"
    stream_paths = ["/api/v1/stream", f"/api/v1/tickets/{ticket}/stream"]
    tail_path = f"/api/v1/tickets/{ticket}/tail?follow=1"
    stream_reqs = [stream_request(port, stream_paths[i % 2], token, seqs[ticket]) for i in range(STARVE_TOTAL)]
    tail_reqs = [stream_request(port, tail_path, token, seqs[ticket])] * STARVE_TAIL
    knock_reqs = [stream_request(port, stream_paths[i % 2], token, seqs[ticket])
                  for i in range(KNOCK_FACTOR * STARVE_TOTAL)] + [
                  stream_request(port, tail_path, token, seqs[ticket])] * (KNOCK_FACTOR * STARVE_TAIL)  # fmt: skip
    held = Opened()
    results: list[tuple[str, Result, Knocks, Knocks, float]] = []
    try:
        held = await open_many(port, stream_reqs + tail_reqs)
        for request in (stream_reqs[0], tail_reqs[0]):  # the caps are reached: one more of each is refused
            extra, _ = await open_client(port, request)
            extra.close()
            if extra.status != 503:
                raise Trouble(f"with every slot taken a stream answered {extra.status}, not 503")
        for label, pause in (("retrying at once", 0.0), ("retrying every ~1 s", 1.0)):
            progress(f"starvation: /board with {len(knock_reqs)} clients knocking, {label}")
            stop, knocks, polite = asyncio.Event(), Knocks(), Knocks()
            knockers = asyncio.gather(
                knock(port, knock_reqs, pause, stop, knocks),
                knock(port, stream_reqs[:1], 1.0, stop, polite, source=POLITE_ADDRESS),
            )
            began = time.perf_counter()
            try:
                await asyncio.sleep(0.5)
                loaded = await asyncio.to_thread(board_probe, use_wrk, board, token, plan.board_s)
            finally:
                stop.set()
                await knockers
            results.append((label, loaded, knocks, polite, time.perf_counter() - began))
        lost = sum(c.lost for c in held.clients)
    finally:
        close_all(held.clients)
    progress("starvation: /board unloaded again")
    await asyncio.sleep(1.0)
    unloaded_again = await asyncio.to_thread(board_probe, use_wrk, board, token, plan.board_s)
    base_p99 = (unloaded.p99_ms + unloaded_again.p99_ms) / 2
    for probe in (unloaded, unloaded_again, *(r[1] for r in results)):
        if probe.error_rate > 0.01:
            raise Trouble(f"/board: {probe.errors} errors in {probe.requests} requests")

    for label, loaded, knocks, polite, elapsed in results:
        lat, own = sorted(polite.latencies), sorted(knocks.latencies)
        p99_503 = percentile(lat, 99)
        wrong = {s: n for k in (knocks, polite) for s, n in k.statuses.items() if s != 503}
        failures, no_retry_after = knocks.failures + polite.failures, knocks.no_retry_after + polite.no_retry_after
        ok = not wrong and failures == 0 and no_retry_after == 0 and lost == 0
        attempts = sum(knocks.statuses.values())
        lines.append(
            Line(
                f"starvation: /board p99, knockers {label}",
                fmt_ms(loaded.p99_ms),
                f"unloaded p99 {fmt_ms(base_p99)}",
                loaded.p99_ms / base_p99,
                f"< {STARVATION_TARGET:g}x",
                loaded.p99_ms / base_p99 < STARVATION_TARGET,
                [
                    f"/board p50 {fmt_ms(loaded.p50_ms)} loaded vs {fmt_ms(unloaded.p50_ms)} /"
                    f" {fmt_ms(unloaded_again.p50_ms)} unloaded (before / after); unloaded p99"
                    f" {fmt_ms(unloaded.p99_ms)} / {fmt_ms(unloaded_again.p99_ms)};"
                    f" loaded {loaded.rps:,.1f} vs unloaded {unloaded.rps:,.1f} req/s on one connection"
                    f" ({len(page):,}-byte page)",
                    f"held: {STARVE_TOTAL} streams ({STARVE_TOTAL // 2} global, {STARVE_TOTAL // 2} ticket) +"
                    f" {STARVE_TAIL} tails, {lost} lost; knocking: {len(knock_reqs)} clients,"
                    f" {attempts:,} attempts ({attempts / elapsed:,.0f}/s)",
                ],
            )
        )
        lines.append(
            Line(
                f"starvation: a polite client's 503 p99, knockers {label}",
                fmt_ms(p99_503),
                f"budget {OVER_CAP_TARGET_MS:.0f} ms",
                p99_503 / OVER_CAP_TARGET_MS,
                "< 100%",
                p99_503 < OVER_CAP_TARGET_MS and ok,
                [
                    f"a client on {POLITE_ADDRESS} knocking every ~1 s: {len(lat)} x 503, p50"
                    f" {fmt_ms(percentile(lat, 50))}, max {fmt_ms(lat[-1] if lat else math.nan)} (connect to response"
                    f" head, new connection each); the knockers' own 503s (on {HOST}, held once that address is"
                    f" past its share): p50 {fmt_ms(percentile(own, 50))}, p99 {fmt_ms(percentile(own, 99))};"
                    f" other statuses {wrong or 'none'}, connection failures {failures},"
                    f" 503s without Retry-After: 30: {no_retry_after}"
                ],
            )
        )


async def slot_return(server: Server, token: str, heartbeat_s: int, lines: list[Line]) -> None:
    """How long a stream's slot stays taken after its client hangs up: fill every slot, hang up after a
    moment, then try to open a stream every 0.1 s until every slot has come back."""
    progress("slots: how soon a hung-up stream gives its slot back")
    port = server.port
    request = stream_request(port, "/api/v1/stream", token)
    held = await open_many(port, [request] * STARVE_TOTAL)
    await asyncio.sleep(0.5)
    close_all(held.clients)
    hung_up = time.perf_counter()
    regained: list[SSEClient] = []
    back: list[float] = []
    refused = 0
    try:
        while len(back) < STARVE_TOTAL and time.perf_counter() - hung_up < heartbeat_s + 10:
            client, _ = await open_client(port, request)
            if client.status == 200:
                regained.append(client)
                back.append(time.perf_counter() - hung_up)
                continue
            client.close()
            refused += 1
            await asyncio.sleep(0.1)
    finally:
        close_all(regained)
    first = back[0] if back else math.inf
    lines.append(
        Line(
            f"slots: a hung-up stream's slot is free again after ({STARVE_TOTAL} streams)",
            f"{first:.2f} s",
            f"heartbeat {heartbeat_s} s",
            first / heartbeat_s,
            "(info)",
            None,
            [
                f"first slot back {first:.2f} s, all {len(back)} of {STARVE_TOTAL} back"
                f" {back[-1] if back else math.inf:.2f} s after the hang-up (streams held 0.5 s);"
                f" {refused} 503s meanwhile: the slot is held until the stream's next keep-alive"
            ],
        )
    )


# ---------------------------------------------------------------------------------------------------------
# Driver


def progress(message: str) -> None:
    """A progress note on stderr."""
    print(f"  {message} ...", file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="bench/live.py", description="Benchmark the live path of `mc serve`.")
    parser.add_argument("--quick", action="store_true", help="shorter and smaller (under a minute)")
    parser.add_argument("--only", action="append", choices=PARTS, metavar="PART",
                        help=f"run only this part ({', '.join(PARTS)}); repeat for several (default: all)")  # fmt: skip
    parser.add_argument("--client", choices=("auto", "wrk", "python"), default="auto",
                        help="HTTP load generator: wrk if on PATH (auto), or the asyncio/httpx fallback")  # fmt: skip
    parser.add_argument("--streams", type=int, help="idle streams for the fan-out figure (default 5000)")
    parser.add_argument("--subscribers", type=int, help="subscribers for the delivery figure (default 1000)")
    parser.add_argument("--rounds", type=int, help="delivery repeats (default 10, --quick 5)")
    args = parser.parse_args(argv)
    for name in ("streams", "subscribers", "rounds"):
        if getattr(args, name) is not None and getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    return args


def make_plan(args: argparse.Namespace) -> Plan:
    """The sizes for this run."""
    quick = bool(args.quick)
    return Plan(
        quick=quick,
        parts=tuple(part for part in PARTS if part in (args.only or PARTS)),
        duration=2.0 if quick else 5.0,
        concurrency=16,
        posters=4,
        streams=args.streams or 5000,
        subscribers=args.subscribers or 1000,
        rounds=args.rounds or (5 if quick else 10),
        board_s=2.0 if quick else 5.0,
    )


def start(server: Server) -> None:
    """Start a server, turning failure into Trouble."""
    try:
        server.start()
    except (BenchSetupError, OSError) as exc:
        raise Trouble(f"the server failed to start: {exc}") from None


def with_server(db: Path, tmp: Path, name: str, env: dict[str, str], work: Callable[[Server], T]) -> T:
    """Start a server with `env`, run `work`, always stop the server."""
    server = Server(db, tmp / f"server-{name}.log", env)
    try:
        start(server)
        return work(server)
    finally:
        server.stop()


def print_report(lines: list[Line]) -> None:
    """One row per figure, notes indented under it."""
    width = max(len(line.figure) for line in lines) + 2
    print(f"{'figure':<{width}}{'measured':>16}  {'compared with':<28}{'ratio':>9}  {'target':<9}verdict")
    for line in lines:
        ratio = "n/a" if math.isnan(line.ratio) or math.isinf(line.ratio) else f"{line.ratio * 100:.1f}%"
        if line.target.startswith("<") and "x" in line.target and not math.isnan(line.ratio):
            ratio = f"{line.ratio:.2f}x"
        print(f"{line.figure:<{width}}{line.measured:>16}  {line.against:<28}{ratio:>9}  {line.target:<9}"
              f"{line.verdict()}")  # fmt: skip
        for note in line.notes:
            print(f"{'':<{width}}  - {note}")


def main(argv: list[str] | None = None) -> int:
    """Fixture, three servers (ingest; fan-out + delivery; starvation), report; always clean up."""
    args = parse_args(argv)
    plan = make_plan(args)
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    use_wrk = args.client == "wrk" or (args.client == "auto" and wrk_path() is not None)
    if args.client == "wrk" and wrk_path() is None:
        print("bench: --client wrk, but wrk is not on PATH", file=sys.stderr)
        return 2
    wanted = plan.streams + plan.subscribers + 1000
    nofile = raise_nofile(max(MIN_NOFILE, wanted))
    started_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    fanout_total = max(6000, plan.streams + plan.subscribers + 200)
    fanout_env = {
        "MC_SSE_MAX_TOTAL_CLIENTS": str(fanout_total),
        "MC_SSE_MAX_TAIL_CLIENTS": "200",
        # Connections above the stream caps together, or `mc serve` refuses to start (pages must get in).
        "MC_MAX_CONNECTIONS": str(fanout_total + 200 + 256),
    }
    delivery_env = {"MC_SSE_MAX_TOTAL_CLIENTS": str(max(2000, plan.subscribers + 100))}
    starve_env = {
        "MC_SSE_MAX_TOTAL_CLIENTS": str(STARVE_TOTAL),
        "MC_SSE_MAX_TAIL_CLIENTS": str(STARVE_TAIL),
        "MC_SSE_HEARTBEAT_S": str(HEARTBEAT_S),
    }
    lines: list[Line] = []
    with tempfile.TemporaryDirectory(prefix="mc-bench-live-") as tmp_name:
        tmp = Path(tmp_name)
        db = tmp / "mc.db"
        try:
            progress(f"preparing the fixture in {tmp}")
            demo, _ = prepare_database(db, 0)
            admin = create_admin_token(db)
            worker = run_mc("token", "create", "--scope", "worker", "--name", "bench-worker", "--db", str(db))
            worker = worker.strip().splitlines()[-1].strip()
            seqs = last_seqs(db)
            machine = machine_facts()
            print(f"== Mission Control live-path benchmark ({'quick' if plan.quick else 'full'}) {started_at} ==")
            print(f"machine:  nproc {machine['nproc']} (usable {machine['usable_cpus']}), {machine['cpu']}")
            print(f"          load average {machine['loadavg']}, {machine['platform']}")
            print(f"python:   {machine['python']}; sqlite {machine['sqlite']}")
            loop_name = f"uvloop {uvloop.__version__}" if uvloop is not None else "asyncio"
            client = wrk_version() if use_wrk else f"python asyncio + httpx {httpx.__version__}"
            print(f"clients:  HTTP load {client}; streams: raw sockets on {loop_name}")
            print(f"fixture:  {demo}; tokens: worker (POSTs), admin (pages, streams)")
            print(f"limits:   RLIMIT_NOFILE here {nofile[0]} (hard {nofile[1]}), inherited by the servers")
            print(f"plan:     {plan.duration:g} s per throughput measurement; single POSTs c={plan.concurrency};"
                  f" batched c={plan.posters} x {BATCH} events; fan-out {plan.streams:,} streams;"
                  f" delivery {plan.subscribers:,} subscribers x {plan.rounds} rounds;"
                  f" /board {plan.board_s:g} s per probe on 1 connection; parts: {', '.join(plan.parts)}")  # fmt: skip
            print("servers:  one `mc serve` per part, on the same database, every other MC_* setting default:")
            print(f"          ingest {{}}; fan-out {fanout_env}; delivery {delivery_env}; starvation {starve_env}")

            def ingest_work(server: Server) -> list[Line]:
                print(f"          ingest server pid {server.pid}, Max open files {nofile_limit(server.pid or 0)}")
                return ingest(server, worker, plan, use_wrk, tmp, db)

            def fanout_work(server: Server) -> None:
                soft, hard = nofile_limit(server.pid or 0)
                print(f"          fan-out server pid {server.pid}, Max open files {soft} (hard {hard})")
                if soft.isdigit() and int(soft) < plan.streams + 100:
                    print(f"          WARNING: the server's open-file limit {soft} is below {plan.streams:,} streams")
                run_async(fanout(server, admin, plan, seqs, lines))

            def delivery_work(server: Server) -> None:
                print(f"          delivery server pid {server.pid}")
                run_async(delivery(server, admin, plan, seqs, lines))

            def starve_work(server: Server) -> None:
                print(f"          starvation server pid {server.pid}")
                run_async(starvation(server, admin, plan, use_wrk, seqs, lines))
                if not plan.quick:
                    run_async(slot_return(server, admin, HEARTBEAT_S, lines))

            sys.stdout.flush()
            if "ingest" in plan.parts:
                lines += with_server(db, tmp, "ingest", {}, ingest_work)
                seqs = last_seqs(db)
            if "fanout" in plan.parts:
                with_server(db, tmp, "fanout", fanout_env, fanout_work)
                seqs = last_seqs(db)
            if "delivery" in plan.parts:
                with_server(db, tmp, "delivery", delivery_env, delivery_work)
                seqs = last_seqs(db)
            if "starvation" in plan.parts:
                with_server(db, tmp, "starve", starve_env, starve_work)
        except (Trouble, BenchSetupError, OSError, sqlite3.Error, subprocess.SubprocessError) as exc:
            print(f"bench: {exc}", file=sys.stderr)
            if lines:
                print()
                print_report(lines)
            return 2
    print()
    print_report(lines)
    met = [line for line in lines if line.met is not None]
    print()
    print(f"{sum(bool(line.met) for line in met)} of {len(met)} figures MET (speed is never a failure here).")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Part 1, ingest: single-event POSTs/s against /healthz req/s; batched events/s against raw SQLite."""

from __future__ import annotations

import contextlib
import math
import re
import sqlite3
import time
from pathlib import Path

from app.clock import stamp
from bench.live.load import compact, drive_get, drive_post, last_seqs, post, stream_json_event
from bench.live.plan import BATCH, INGEST_TARGET, Line, Plan, Trouble, fmt_ms, fmt_rate, progress
from bench.server import ROOT, Server, count_events


def single_body() -> str:
    """One event per POST."""
    return compact(stream_json_event(1))


def batch_body() -> str:
    """BATCH events in one POST."""
    return compact({"events": [stream_json_event(n) for n in range(BATCH)]})


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

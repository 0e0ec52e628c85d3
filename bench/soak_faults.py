"""The soak suite's fault scenarios: kill -9 during ingest, SIGTERM with work in flight, a database lock held by
another process, a full disk, the WAL under sustained writes and readers, and reapers run twice and killed."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import random
import re
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from bench.live.streams import SSEClient, close_all, open_many, run_async, stream_request
from bench.server import HOST
from bench.soak_common import (
    BUSY_TIMEOUT_S,
    SKIP,
    Checks,
    Context,
    Outcome,
    Posted,
    SoakServer,
    client_for,
    create_tickets,
    fill_queue,
    integrity,
    ledger_ok,
    ledger_text,
    log_problems,
    mb,
    mc,
    new_uuid,
    note,
    p,
    post_once,
    post_until_stored,
    reconcile,
    ro_connect,
    spawn,
    stamp,
)

# ---------------------------------------------------------------------------------------------------------
# 1. kill -9 during ingest


async def _kill9_run(
    server: SoakServer, token: str, tickets: list[str], kills: int, rng: random.Random, clients: int
) -> dict[str, Any]:
    """Retrying clients post while the server is killed `kills` times and restarted; what they were told."""
    acked: dict[str, tuple[str, int]] = {}
    seen: dict[int, int] = {}
    gave_up: list[Posted] = []
    posts = tries = 0
    stop = asyncio.Event()

    async def client(n: int) -> None:
        nonlocal posts, tries
        ticket, batches = tickets[n % len(tickets)], n % 2 == 1
        async with client_for(server, token, timeout=10, connections=1) as http:
            i = 0
            while not stop.is_set():
                i += 1
                size = rng.randint(2, 20) if batches else 1
                uuids = [new_uuid(f"k9c{n}") for _ in range(size)]
                key = f"k9-{n}-{i}-{uuids[0]}" if batches else None  # batches also carry an Idempotency-Key
                answer, took = await post_until_stored(http, ticket, uuids, key, seen)
                posts, tries = posts + 1, tries + took
                if answer.status in (200, 201) and len(answer.seqs) == len(uuids):
                    acked.update({u: (ticket, s) for u, s in zip(uuids, answer.seqs, strict=True)})
                else:
                    gave_up.append(answer)

    tasks = [asyncio.create_task(client(n)) for n in range(clients)]
    restarts: list[float] = []
    at_kill: list[int] = []
    try:
        await asyncio.sleep(1.0)
        for k in range(kills):
            await asyncio.sleep(rng.uniform(0.2, 1.5))  # a random point of the ingest
            at_kill.append(len(acked))
            server.kill9()
            began = time.monotonic()
            await asyncio.to_thread(server.start)
            restarts.append(time.monotonic() - began)
            note(f"kill {k + 1}/{kills}: {at_kill[-1]:,} events acknowledged before it; back in {restarts[-1]:.1f} s")
        await asyncio.sleep(1.0)
    finally:
        stop.set()
        await asyncio.gather(*tasks)
    return {"acked": acked, "seen": seen, "gave_up": gave_up, "posts": posts, "tries": tries, "restarts": restarts}


def kill9_ingest(ctx: Context) -> Outcome:
    """kill -9 at random points while retrying clients post; 0 acknowledged events lost, 0 stored twice."""
    kills = 4 if ctx.quick else 10
    rng = random.Random()
    server = SoakServer(ctx.db(), ctx.workdir)
    try:
        server.start()
        tickets = run_async(create_tickets(server, ctx.fixture.worker, 3, "kill9"))
        run = run_async(_kill9_run(server, ctx.fixture.worker, tickets, kills, rng, clients=6))
        server.stop()
    finally:
        server.stop()
    acked, seen = run["acked"], run["seen"]
    ledger = reconcile(server.db_path, tickets, acked, allowed={u for a in run["gave_up"] for u in a.uuids})
    check = integrity(server.db_path)
    c = Checks()
    c.expect(not run["gave_up"], f"{len(run['gave_up'])} posts never stored (gave up or 4xx)")
    c.expect(ledger.lost == 0, f"{ledger.lost} acknowledged events lost")
    c.expect(ledger.duplicates == 0, f"{ledger.duplicates} events stored twice")
    c.expect(ledger_ok(ledger), "the stored events do not match the acknowledgements")
    c.expect(check == "ok", f"integrity_check: {check}")
    c.expect(len(acked) > 0, "nothing was acknowledged")
    c.expect(server.starts == kills + 1, f"the server started {server.starts} times, not {kills + 1}")
    statuses = ", ".join(f"{k or 'no answer'}: {v:,}" for k, v in sorted(seen.items()))
    problems = log_problems(server.log_text())
    note(f"answers seen (every try): {statuses}; log: {problems}")
    figure = (
        f"{kills} kills (restart {max(run['restarts']):.1f} s max); {len(acked):,} events acked in"
        f" {run['posts']:,} posts ({run['tries'] - run['posts']:,} retries, {seen.get(200, 0)} repeats answered 200"
        f" with the first seqs, {sum(v for k, v in seen.items() if k >= 500)} 5xx); {ledger_text(ledger)};"
        f" integrity {check}"
    )
    return c.outcome("kill9_ingest", figure)


# ---------------------------------------------------------------------------------------------------------
# 2. SIGTERM with streams open and POSTs in flight

SHUTDOWN_TIMEOUT_S = 3


async def _sigterm_run(server: SoakServer, worker: str, admin: str, tickets: list[str], hold: float) -> dict[str, Any]:
    """Streams open, posters posting; SIGTERM (with `hold`: while another process has held the database's lock
    for 0.5 s, and holds it `hold` s in all, so POSTs are still waiting at the graceful deadline); what each POST
    got."""
    port = server.port
    requests = [stream_request(port, "/api/v1/stream", admin)] * 10
    requests += [stream_request(port, f"/api/v1/tickets/{tickets[i % 2]}/stream", admin) for i in range(10)]
    streams = await open_many(port, requests)
    answers: list[tuple[str, Posted]] = []
    stop = asyncio.Event()

    async def poster(n: int) -> None:
        ticket = tickets[n % 2]
        async with client_for(server, worker, timeout=30, connections=1) as http:
            while not stop.is_set():
                answer = await post_once(http, ticket, [new_uuid(f"st{n}")])
                answers.append((ticket, answer))
                if answer.status == 0:
                    await asyncio.sleep(0.2)  # the server is going or gone: knock now and then

    async def open_loop() -> None:  # a POST every 50 ms whatever the others wait for: some always queue up
        pending: set[asyncio.Task[None]] = set()

        async def one(http: httpx.AsyncClient) -> None:
            answers.append((tickets[0], await post_once(http, tickets[0], [new_uuid("st9")])))

        async with client_for(server, worker, timeout=30, connections=100) as http:
            while not stop.is_set():
                task = asyncio.create_task(one(http))
                pending.add(task)
                task.add_done_callback(pending.discard)
                await asyncio.sleep(0.05)
            await asyncio.gather(*list(pending))

    tasks = [asyncio.create_task(poster(n)) for n in range(8)] + [asyncio.create_task(open_loop())]
    holder = None
    try:
        await asyncio.sleep(1.5)
        if hold:
            holder = spawn(
                [sys.executable, "-c", HOLDER, "sqlite", str(server.db_path), str(hold)], stdout=subprocess.PIPE
            )
            assert holder.stdout is not None
            await asyncio.to_thread(holder.stdout.readline)
            await asyncio.sleep(0.5)
        signalled = time.monotonic()
        took, code = await asyncio.to_thread(server.sigterm, 60)
    finally:
        stop.set()
        await asyncio.gather(*tasks)
        ended = sum(c.lost for c in streams.clients)
        close_all(streams.clients)
        if holder is not None:
            holder.wait(timeout=30)
    return {
        "answers": answers,
        "signalled": signalled,
        "took": took,
        "code": code,
        "streams": len(streams.clients),
        "streams_ended": ended,
    }


async def _retry_unanswered(server: SoakServer, worker: str, posts: list[tuple[str, Posted]]) -> list[Posted]:
    """After the restart, each unanswered POST is sent again until it is stored."""
    finals = []
    async with client_for(server, worker) as http:
        for ticket, answer in posts:
            final, _ = await post_until_stored(http, ticket, answer.uuids)
            finals.append(final)
    return finals


def _tally(answers: list[Posted]) -> dict[str, int]:
    found: dict[str, int] = {}
    for a in answers:
        kind = str(a.status) if a.status else a.error
        found[kind] = found.get(kind, 0) + 1
    return found


def sigterm_inflight(ctx: Context) -> Outcome:
    """SIGTERM with streams open and POSTs in flight, plainly and while another process holds the database's lock
    (so POSTs are still waiting at the graceful deadline): a bounded exit, every 2xx stored, every unanswered POST
    stored once after its retry."""
    server = SoakServer(ctx.db(), ctx.workdir, {"MC_SHUTDOWN_TIMEOUT_S": str(SHUTDOWN_TIMEOUT_S)})
    limit = SHUTDOWN_TIMEOUT_S + 3
    c = Checks()
    acked: dict[str, tuple[str, int]] = {}
    parts = []
    try:
        server.start()
        tickets = run_async(create_tickets(server, ctx.fixture.worker, 2, "sigterm"))
        for label, hold in (("plain", 0.0), ("db locked", 4.0)):
            if not server.alive():
                server.start()
            run = run_async(_sigterm_run(server, ctx.fixture.worker, ctx.fixture.admin, tickets, hold))
            shutdown_log = server.log_path.read_text(errors="replace")
            batch_failed = re.findall(r"event batch of \d+ posts failed[\s\S]*?\n(\S*Error: [^\n]*)", shutdown_log)
            answered = [(t, a) for t, a in run["answers"] if a.status in (200, 201)]
            unanswered = [(t, a) for t, a in run["answers"] if a.status not in (200, 201)]
            server.start()
            finals = run_async(_retry_unanswered(server, ctx.fixture.worker, unanswered))
            signalled = run["signalled"]
            in_flight = [a for _, a in run["answers"] if a.started < signalled < a.started + a.seconds]
            acked.update({a.uuids[0]: (t, a.seqs[0]) for t, a in answered})
            acked.update({a.uuids[0]: (t, a.seqs[0]) for (t, _), a in zip(unanswered, finals, strict=True)
                          if a.status in (200, 201)})  # fmt: skip
            already = sum(a.status == 200 for a in finals)
            c.expect(
                run["code"] is not None and run["took"] <= limit,
                f"{label}: exit took {run['took']:.1f} s (limit {limit} s)" if run["code"] is not None
                else f"{label}: never exited",
            )  # fmt: skip
            c.expect(len(in_flight) > 0, f"{label}: no POST was in flight at the SIGTERM (nothing tested)")
            c.expect(all(a.status in (200, 201) for a in finals), f"{label}: a retried POST was not stored")
            c.expect(not batch_failed, f"{label}: at shutdown the writer's batch failed: {batch_failed[:1]}")
            server_500 = sum(a.status == 500 for _, a in run["answers"])
            note(f"{label}: streams ended by the server before its exit: {run['streams_ended']}/{run['streams']}")
            parts.append(
                f"{label}: exit {run['took']:.1f} s (limit {limit} s), {len(in_flight)} in flight ->"
                f" {_tally(in_flight)}, {len(answered):,} 2xx, {len(unanswered)} not"
                f" {_tally([a for _, a in unanswered])}"
                f" ({already} found stored on retry), {server_500} x 500, writer batch failures at shutdown"
                f" {len(batch_failed)}"
            )
        server.stop()
    finally:
        server.stop()
    ledger = reconcile(server.db_path, tickets, acked, allowed=set())
    check = integrity(server.db_path)
    c.expect(
        ledger.lost == 0 and ledger.wrong_seq == 0,
        f"{ledger.lost + ledger.wrong_seq} acknowledged POSTs not stored as told",
    )
    c.expect(ledger.duplicates == 0, f"{ledger.duplicates} stored twice")
    c.expect(ledger_ok(ledger), "stored events do not match the answers")
    c.expect(check == "ok", f"integrity_check: {check}")
    figure = (
        "20 streams, 8 posters + 1 every 50 ms. " + ". ".join(parts) + f". {ledger_text(ledger)}; integrity {check}"
    )
    return c.outcome("sigterm_inflight", figure)


# ---------------------------------------------------------------------------------------------------------
# 3. Another process holds the database's lock

HOLDER = r"""
import fcntl, os, sqlite3, sys, time
mode, db, hold = sys.argv[1], sys.argv[2], float(sys.argv[3])
if mode == "sqlite":
    conn = sqlite3.connect(db, timeout=30, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
else:
    fd = os.open(db + ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
print("held", sqlite3.sqlite_version, flush=True)
time.sleep(hold)
if mode == "sqlite":
    conn.execute("ROLLBACK")
    conn.close()
else:
    fcntl.flock(fd, fcntl.LOCK_UN)
print("released", flush=True)
"""


async def _lock_phase(server: SoakServer, worker: str, ticket: str, mode: str, hold: float) -> dict[str, Any]:
    """Posters (two waiting for each answer, one posting every 0.25 s whatever happens) and a /healthz probe,
    before, while and after another process holds the lock."""
    answers: list[Posted] = []
    health: list[tuple[float, int, float]] = []
    stop = asyncio.Event()
    pending: set[asyncio.Task[None]] = set()

    async def one(http: httpx.AsyncClient, n: int) -> None:
        answers.append(await post_once(http, ticket, [new_uuid(f"lk{mode[0]}{n}")]))

    async def closed_loop(n: int) -> None:
        async with client_for(server, worker, timeout=30, connections=1) as http:
            while not stop.is_set():
                await one(http, n)
                await asyncio.sleep(0.05)

    async def open_loop() -> None:
        async with client_for(server, worker, timeout=30, connections=100) as http:
            while not stop.is_set():
                task = asyncio.create_task(one(http, 9))
                pending.add(task)
                task.add_done_callback(pending.discard)
                await asyncio.sleep(0.25)
            await asyncio.gather(*list(pending))

    async def probe() -> None:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
            while not stop.is_set():
                began = time.monotonic()
                try:
                    status = (await http.get("/healthz")).status_code
                except httpx.TransportError:
                    status = 0
                health.append((began, status, time.monotonic() - began))
                await asyncio.sleep(0.2)

    tasks = [asyncio.create_task(closed_loop(n)) for n in range(2)]
    tasks += [asyncio.create_task(open_loop()), asyncio.create_task(probe())]
    holder = None
    try:
        await asyncio.sleep(1.0)  # POSTs before the lock
        holder = spawn([sys.executable, "-c", HOLDER, mode, str(server.db_path), str(hold)], stdout=subprocess.PIPE)
        assert holder.stdout is not None
        line = await asyncio.to_thread(holder.stdout.readline)
        held = time.monotonic()
        if not line.startswith("held"):
            raise RuntimeError(f"the lock holder did not take the {mode} lock: {line!r}")
        line = await asyncio.to_thread(holder.stdout.readline)
        released = time.monotonic()
        await asyncio.sleep(3.0)
    finally:
        stop.set()
        await asyncio.gather(*tasks)
        if holder is not None:
            holder.wait(timeout=30)
    return {"answers": answers, "health": health, "held": held, "released": released}


def lock_held(ctx: Context) -> Outcome:
    """Another process holds BEGIN IMMEDIATE (then the app's own write flock) past the busy timeout: POSTs get
    503 + Retry-After within busy timeout + 2 s, succeed again after, /healthz stays 200; no restart."""
    hold = 9.0 if ctx.quick else 12.0
    server = SoakServer(ctx.db(), ctx.workdir, {"MC_REAPER_INTERVAL_S": "0"})
    phases: dict[str, dict[str, Any]] = {}
    try:
        server.start()
        pid = server.pid
        ticket = run_async(create_tickets(server, ctx.fixture.worker, 1, "lock"))[0]
        for mode in ("sqlite", "flock"):
            note(f"{mode}: another process holds the lock for {hold:g} s")
            phases[mode] = run_async(_lock_phase(server, ctx.fixture.worker, ticket, mode, hold))
        same = server.alive() and server.pid == pid
        server.stop()
    finally:
        server.stop()
    c = Checks()
    c.expect(same, "the server did not keep running")
    parts, acked, refused = [], {}, set()
    limit = BUSY_TIMEOUT_S + 2
    for mode, run in phases.items():
        answers, held, released = run["answers"], run["held"], run["released"]
        during = [a for a in answers if held <= a.started < released]
        after = [a for a in answers if a.started >= released + 1.0]
        busy = [a for a in answers if a.status == 503]
        wrong = sorted({a.status for a in answers} - {201, 503})
        slow = max((a.seconds for a in answers), default=0.0)
        health_bad = [h for h in run["health"] if h[1] != 200]
        health_max = max((h[2] for h in run["health"]), default=0.0)
        c.expect(bool(busy), f"{mode}: no 503 while the lock was held (lock not effective?)")
        errors = sorted({a.error for a in answers if a.status == 0})
        c.expect(not wrong, f"{mode}: statuses other than 201/503: {wrong} {errors}")
        c.expect(
            all(a.retry_after for a in busy), f"{mode}: {sum(not a.retry_after for a in busy)} 503s without Retry-After"
        )
        c.expect(slow <= limit, f"{mode}: a POST took {slow:.1f} s (> busy timeout + 2 = {limit:g} s)")
        c.expect(
            bool(after) and all(a.status == 201 for a in after),
            f"{mode}: after the release {sum(a.status != 201 for a in after)} of {len(after)} POSTs failed",
        )
        c.expect(not health_bad, f"{mode}: /healthz answered {sorted({h[1] for h in health_bad})}")
        acked.update({a.uuids[0]: (ticket, a.seqs[0]) for a in answers if a.status == 201})
        refused.update(a.uuids[0] for a in busy)
        slowest_503 = max((a.seconds for a in busy), default=float("nan"))
        note(
            f"{mode}: {len(answers)} POSTs, {len(during)} started while held; 503: {len(busy)} (slowest"
            f" {slowest_503:.1f} s, Retry-After {sorted({a.retry_after for a in busy if a.retry_after})}); "
            f"p50 while held {p([a.seconds for a in during], 50):.2f} s; after release {len(after)} all 201:"
            f" {all(a.status == 201 for a in after)}; healthz max {health_max * 1000:.0f} ms"
        )
        parts.append(
            f"{mode} lock {released - held:.1f} s: {len(busy)} x 503 (Retry-After"
            f" {'/'.join(sorted({a.retry_after or '-' for a in busy}))}), slowest POST {slow:.1f} s"
            f" (limit {limit:g}), {len(after)} POSTs after release all 201: {all(a.status == 201 for a in after)},"
            f" /healthz {len(run['health']) - len(health_bad)}/{len(run['health'])} x 200"
            f" (max {health_max * 1000:.0f} ms)"
        )
    ledger = reconcile(server.db_path, [ticket], acked, allowed=set())
    c.expect(ledger_ok(ledger), f"database vs answers: {ledger_text(ledger)}")
    check = integrity(server.db_path)
    c.expect(check == "ok", f"integrity_check: {check}")
    return c.outcome("lock_held", "; ".join(parts) + f"; 503'd POSTs stored: {ledger.unexpected}; integrity {check}")


# ---------------------------------------------------------------------------------------------------------
# 4. A full disk

_MOUNTS: list[Path] = []


def mount_small(folder: Path, size_mb: int = 8) -> str | None:
    """Mount a small file system on `folder`: tmpfs, else a loop-mounted ext4 image; None, or why not."""
    folder.mkdir(parents=True, exist_ok=True)
    tried = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_mb}m", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    if tried.returncode == 0:
        _MOUNTS.append(folder)
        return None
    why = f"mount -t tmpfs: {tried.stderr.strip()}"
    image = folder.parent / "small.img"
    steps = [
        ["truncate", "-s", f"{size_mb}M", str(image)],
        ["mkfs.ext4", "-q", "-F", str(image)],
        ["mount", "-o", "loop", str(image), str(folder)],
    ]
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            return f"{why}; {' '.join(step[:2])}: {done.stderr.strip()}"
    _MOUNTS.append(folder)
    return None


def unmount_all() -> None:
    """Unmount what mount_small mounted (lazily if it is still busy)."""
    while _MOUNTS:
        folder = _MOUNTS.pop()
        if subprocess.run(["umount", str(folder)], capture_output=True, timeout=30).returncode != 0:
            subprocess.run(["umount", "-l", str(folder)], capture_output=True, timeout=30)


def fill_up(path: Path) -> int:
    """Write a file until the file system refuses (ENOSPC); return its size."""
    written = 0
    with path.open("wb", buffering=0) as fh:
        for chunk in (1 << 20, 1 << 16, 4096, 512):
            block = b"\0" * chunk
            while True:
                try:
                    written += fh.write(block)
                except OSError:
                    break
    return written


async def _disk_phase(
    server: SoakServer, worker: str, ticket: str, seconds: float, until_ok: int = 0
) -> tuple[list[Posted], dict[str, list[int]]]:
    """Posts (about 4 KB each, so pages must be added) for `seconds`, or until `until_ok` 201s in a row; now and
    then a comment and a /healthz too (their statuses)."""
    answers: list[Posted] = []
    others: dict[str, list[int]] = {}
    text = "disk " * 800
    began = time.monotonic()
    async with client_for(server, worker, timeout=30) as http:
        in_a_row = 0
        while time.monotonic() - began < seconds:
            answer = await post_once(http, ticket, [new_uuid("df")], text=text)
            answers.append(answer)
            in_a_row = in_a_row + 1 if answer.status == 201 else 0
            if until_ok and in_a_row >= until_ok:
                break
            if len(answers) % 10 == 0:  # now and then another write (a comment) and a read
                for method, path, body in (("POST", f"/api/v1/tickets/{ticket}/comments", {"body": text}),
                                           ("GET", "/healthz", None)):  # fmt: skip
                    try:
                        status = (await http.request(method, path, json=body)).status_code
                    except httpx.TransportError:
                        status = 0
                    others.setdefault(f"{method} {path.rsplit('/', 1)[-1]}", []).append(status)
            await asyncio.sleep(0.02)
    return answers, others


def disk_full(ctx: Context) -> Outcome:
    """The database on an 8 MB file system that fills up: 503 + Retry-After while full (never 500); after the
    filler is deleted POSTs succeed again without a restart; integrity ok."""
    small = ctx.workdir / "small"
    why = mount_small(small)
    if why is not None:
        return Outcome("disk_full", f"SKIP: cannot mount a small file system: {why}", SKIP)
    try:
        db = ctx.fixture.copy_to(small)
        server = SoakServer(db, ctx.workdir, {"MC_REAPER_INTERVAL_S": "0"})
        try:
            server.start()
            pid = server.pid
            ticket = run_async(create_tickets(server, ctx.fixture.worker, 1, "disk"))[0]
            warm, _ = run_async(_disk_phase(server, ctx.fixture.worker, ticket, 10, until_ok=20))
            filler = small / "filler"
            size = fill_up(filler)
            free = os.statvfs(small).f_bavail * os.statvfs(small).f_frsize
            note(f"filler {mb(size)}; {free:,} bytes left on the file system")
            full, full_others = run_async(_disk_phase(server, ctx.fixture.worker, ticket, 4 if ctx.quick else 8))
            filler.unlink()
            freed, _ = run_async(_disk_phase(server, ctx.fixture.worker, ticket, 20, until_ok=20))
            same = server.alive() and server.pid == pid
            server.stop()
            log = server.log_text()
        finally:
            server.stop()
        check = integrity(db)
        ledger = reconcile(
            db,
            [ticket],
            {a.uuids[0]: (ticket, a.seqs[0]) for a in warm + full + freed if a.status in (200, 201)},
            allowed=set(),
        )
    finally:
        unmount_all()
    busy = [a for a in full if a.status == 503]
    statuses = {s: sum(a.status == s for a in full) for s in sorted({a.status for a in full})}
    recovered = len(freed) >= 20 and all(a.status == 201 for a in freed[-20:])
    c = Checks()
    c.expect(all(a.status == 201 for a in warm), "POSTs failed before the disk was full")
    c.expect(bool(busy), "no 503 while the disk was full (it never filled?)")
    c.expect(set(statuses) <= {201, 503}, f"while full: statuses {statuses}")
    c.expect(all(a.retry_after for a in busy), f"{sum(not a.retry_after for a in busy)} 503s without Retry-After")
    c.expect(recovered, f"after freeing space: {[a.status for a in freed[-20:]]}")
    comments, health = full_others.get("POST comments", []), full_others.get("GET healthz", [])
    c.expect(set(comments) <= {201, 503}, f"comments while full: {sorted(set(comments))}")
    c.expect(same, "the server did not keep running")
    c.expect(ledger_ok(ledger), f"database vs answers: {ledger_text(ledger)}")
    c.expect(check == "ok", f"integrity_check: {check}")
    note(f"while full: /healthz {sorted(set(health))}; server log: {log_problems(log)}")
    tries = next((n for n, a in enumerate(freed, 1) if a.status == 201), None)
    figure = (
        f"8 MB tmpfs filled: {len(full)} POSTs while full -> {statuses} (Retry-After"
        f" {'/'.join(sorted({a.retry_after or '-' for a in busy}))}), comments -> {sorted(set(comments))};"
        f" after freeing: first 201 at try {tries},"
        f" last 20 all 201: {recovered}, same pid: {same}; {ledger_text(ledger)}; integrity {check}"
    )
    return c.outcome("disk_full", figure)


# ---------------------------------------------------------------------------------------------------------
# 5. The WAL stays bounded under sustained writes with readers always active

WAL_LIMIT = 64_000_000


async def _wal_run(server: SoakServer, worker: str, admin: str, tickets: list[str], until: float) -> dict[str, Any]:
    """Writers, readers and two long-lived streams until `until` (monotonic); the WAL's size every 0.1 s."""
    wal = Path(f"{server.db_path}-wal")
    sizes: list[tuple[float, int]] = []
    posts: list[Posted] = []
    reads: dict[int, int] = {}
    stop = asyncio.Event()
    text = "wal " * 150  # ~0.6 KB an event

    async def writer(n: int) -> None:
        async with client_for(server, worker, timeout=30, connections=1) as http:
            while not stop.is_set():
                posts.append(
                    await post_once(
                        http, tickets[n % 2], [new_uuid(f"wl{n}") for _ in range(10)], key=new_uuid("wk"), text=text
                    )
                )
                await asyncio.sleep(0.04)

    async def reader(n: int) -> None:
        rng = random.Random(n)
        async with client_for(server, admin, timeout=30, connections=1) as http:
            while not stop.is_set():
                ticket = tickets[rng.randrange(2)]
                path = rng.choice(
                    [
                        "/board",
                        f"/ticket/{ticket}",
                        "/api/v1/tickets",
                        f"/api/v1/tickets/{ticket}/events?after={rng.randrange(5000)}&limit=1000",
                    ]
                )
                try:
                    status = (await http.get(path)).status_code
                except httpx.TransportError:
                    status = 0
                reads[status] = reads.get(status, 0) + 1

    async def sample() -> None:
        while not stop.is_set():
            try:
                size = wal.stat().st_size
            except FileNotFoundError:
                size = 0
            sizes.append((time.monotonic(), size))
            await asyncio.sleep(0.1)

    port = server.port
    loop = asyncio.get_running_loop()
    streams: list[SSEClient] = []
    for path in (f"/api/v1/tickets/{tickets[0]}/stream", f"/api/v1/tickets/{tickets[1]}/tail?follow=1"):
        _, client = await loop.create_connection(
            lambda path=path: SSEClient(stream_request(port, path, admin)), HOST, port
        )
        await client.head_done
        streams.append(client)
    tasks = [asyncio.create_task(writer(n)) for n in range(4)]
    tasks += [asyncio.create_task(reader(n)) for n in range(4)] + [asyncio.create_task(sample())]
    try:
        while time.monotonic() < until:
            await asyncio.sleep(1.0)
    finally:
        stop.set()
        await asyncio.gather(*tasks)
        lost = sum(s.lost for s in streams)
        close_all(streams)
    return {
        "sizes": sizes,
        "posts": posts,
        "reads": reads,
        "streams_lost": lost,
        "stream_status": [s.status for s in streams],
    }


def wal_bounded(ctx: Context) -> Outcome:
    """Sustained writes with readers always active and long-lived streams: the WAL stays under 64 MB and the app's
    periodic checkpoint (every 60 s) shrinks it (once in quick mode, twice in full)."""
    minutes = 1 if ctx.quick else 2
    server = SoakServer(ctx.db(), ctx.workdir, {"MC_REAPER_INTERVAL_S": "0"})
    try:
        began = time.monotonic()  # the poller (and its checkpoint clock) starts during start()
        server.start()
        tickets = run_async(create_tickets(server, ctx.fixture.worker, 2, "wal"))
        until = began + 60 * minutes + 10  # the poller's 60 s clock starts while the server starts
        run = run_async(_wal_run(server, ctx.fixture.worker, ctx.fixture.admin, tickets, until))
        server.stop()
        log = server.log_text()
    finally:
        server.stop()
    sizes = run["sizes"]
    peak = max(s for _, s in sizes)
    shrinks = [(t - began, a, b) for (_, a), (t, b) in itertools.pairwise(sizes) if b < a]
    posts = run["posts"]
    events = sum(len(a.uuids) for a in posts if a.status in (200, 201))
    bad_posts = sorted({a.status for a in posts} - {200, 201})
    bad_reads = sorted(s for s in run["reads"] if s != 200)
    seconds = sizes[-1][0] - sizes[0][0]
    c = Checks()
    c.expect(peak < WAL_LIMIT, f"the WAL reached {mb(peak)} (limit {mb(WAL_LIMIT)})")
    c.expect(len(shrinks) >= minutes, f"the WAL shrank {len(shrinks)} times in {seconds:.0f} s (wanted >= {minutes})")
    c.expect(not bad_posts, f"POST statuses {bad_posts}")
    c.expect(not bad_reads, f"read statuses {bad_reads}")
    c.expect(run["stream_status"] == [200, 200], f"streams answered {run['stream_status']}")
    when = ", ".join(f"{t:.0f} s: {mb(a)} -> {mb(b)}" for t, a, b in shrinks)
    note(f"server log: {log_problems(log)}; streams lost: {run['streams_lost']}; reads {run['reads']}")
    figure = (
        f"{seconds:.0f} s of writes ({events / seconds:,.0f} events/s, POST p99"
        f" {p([a.seconds for a in posts], 99) * 1000:.0f} ms, max {max(a.seconds for a in posts):.2f} s),"
        f" {sum(run['reads'].values()):,} reads, 2 streams: WAL max {mb(peak)} (limit {mb(WAL_LIMIT)});"
        f" shrank {len(shrinks)}x [{when}]"
    )
    return c.outcome("wal_bounded", figure)


# ---------------------------------------------------------------------------------------------------------
# 6. Reapers: two at once, and one killed mid-pass


class FakeTelegram:
    """A Bot API on loopback that takes `delay` s per message and notes which queued message each one is about."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.sent: list[tuple[int, float]] = []
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                text = json.loads(self.rfile.read(length) or b"{}").get("text", "")
                time.sleep(outer.delay)
                found = re.search(r"#(\d+)", text)
                with outer._lock:
                    outer.sent.append((int(found.group(1)) if found else -1, time.monotonic()))
                body = b'{"ok": true}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                return None

        self.httpd = ThreadingHTTPServer((HOST, 0), Handler)
        self.url = f"http://{HOST}:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def count(self) -> int:
        """Alerts received so far."""
        with self._lock:
            return len(self.sent)

    def close(self) -> None:
        """Stop serving."""
        self.httpd.shutdown()
        self.httpd.server_close()


MAX_ATTEMPTS = 5


def queue_violations(db: Path, first_id: int, final_pass: str, stuck_before: str) -> dict[str, int]:
    """Messages in a state no sequence of the queue's transitions can produce (for this run's settings)."""
    rules = {
        "leased without owner or expiry": "status = 'leased' AND (lease_owner IS NULL OR lease_expires_at IS NULL)",
        "an expiry while not leased": "status <> 'leased' AND lease_expires_at IS NOT NULL",
        "queued with no attempt left": f"status = 'queued' AND attempts >= {MAX_ATTEMPTS}",
        "dead with attempts left": f"status = 'dead' AND attempts < {MAX_ATTEMPTS} AND id >= {first_id}",
        "failed without a retry time": "status = 'failed' AND next_attempt_at IS NULL",
        "alerted while not expired or dead": "alerted_at IS NOT NULL AND status NOT IN ('expired', 'dead')",
        "attempts out of range": f"attempts < 0 OR attempts > {MAX_ATTEMPTS}",
        "done ones changed": f"id >= {first_id} AND body LIKE '%(done)' AND status <> 'done'",
        "stuck ones not expired after a completed pass": "status = 'queued'"
        f" AND max(updated_at, coalesce(next_attempt_at, '')) < '{stuck_before}'",
        "run-out leases not returned by the completed pass": f"status = 'leased' AND lease_expires_at < '{final_pass}'",
    }
    conn = ro_connect(db)
    try:
        return {  # this run's messages only: the demo's own rows are not all consistent (see the report)
            name: int(
                conn.execute(f"SELECT count(*) FROM queued_messages WHERE id >= {first_id} AND ({rule})").fetchone()[0]
            )
            for name, rule in rules.items()
        }
    finally:
        conn.close()


async def _queue_worker(server: SoakServer, worker: str, stop: asyncio.Event, seen: dict[int, int]) -> None:
    """A worker claiming (10 s leases) and acknowledging or failing messages through the API meanwhile."""
    rng = random.Random(6)
    async with client_for(server, worker, timeout=30, connections=1) as http:
        while not stop.is_set():
            try:
                claimed = await http.post("/api/v1/queue/claim", json={"worker": "soak-w", "lease_seconds": 10})
                seen[claimed.status_code] = seen.get(claimed.status_code, 0) + 1
                if claimed.status_code == 200:
                    message = claimed.json()["id"]
                    if rng.random() < 0.7:
                        answer = await http.post(f"/api/v1/queue/{message}/ack", json={"worker": "soak-w"})
                    else:
                        answer = await http.post(
                            f"/api/v1/queue/{message}/fail", json={"worker": "soak-w", "error": "x"}
                        )
                    seen[answer.status_code] = seen.get(answer.status_code, 0) + 1
            except httpx.TransportError:
                seen[0] = seen.get(0, 0) + 1
            await asyncio.sleep(0.05)


def _reaper(db: Path, env: dict[str, str], once: bool) -> subprocess.Popen[str]:
    args = mc("reaper", "--db", str(db), *(["--once"] if once else []))
    return spawn(args, env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _finish(proc: subprocess.Popen[str], timeout: float = 120) -> tuple[int, str, str, float]:
    began = time.monotonic()
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err, time.monotonic() - began


REFUSAL = "another reaper is running"


async def _reaper_run(ctx: Context, server: SoakServer, telegram: FakeTelegram, kills: int) -> dict[str, Any]:
    db = server.db_path
    env = {
        "MC_TELEGRAM_API_BASE": telegram.url,
        "MC_TELEGRAM_BOT_TOKEN": "soak",
        "MC_TELEGRAM_CHAT_ID": "1",
        "MC_QUEUE_MAX_ATTEMPTS": str(MAX_ATTEMPTS),
        "MC_REAPER_INTERVAL_S": "0.3",
    }
    rng = random.Random()
    stop, seen = asyncio.Event(), {}
    worker = asyncio.create_task(_queue_worker(server, ctx.fixture.worker, stop, seen))
    result: dict[str, Any] = {"worker": seen}
    try:
        # Two at once: one passes (its ~50 alerts take seconds at the fake's pace), the other must refuse.
        pair = [_reaper(db, env, once=True), _reaper(db, env, once=True)]
        result["pair"] = await asyncio.gather(*(asyncio.to_thread(_finish, proc) for proc in pair))
        # A looping reaper killed -9 at random points (during its start, its sweep or its alerts); while it runs
        # a --once must refuse.
        result["kills"] = []
        for k in range(kills):
            before = telegram.count()
            loop_reaper = _reaper(db, env, once=False)
            mid_alerts = k % 2 == 0
            deadline = time.monotonic() + 20
            if mid_alerts:  # wait until it is sending alerts, then a little more
                while telegram.count() < before + rng.randint(1, 30) and time.monotonic() < deadline:
                    await asyncio.sleep(0.02)
                refusal = await asyncio.to_thread(_finish, _reaper(db, env, once=True))
            else:  # right after it says it starts reaping: during its first sweep, or its first alerts
                assert loop_reaper.stdout is not None
                await asyncio.to_thread(loop_reaper.stdout.readline)
                await asyncio.sleep(rng.uniform(0.0, 0.3))
                refusal = None
            running = loop_reaper.poll() is None
            os.killpg(loop_reaper.pid, 9)
            loop_reaper.wait()
            result["kills"].append(
                {"running": running, "sent": telegram.count() - before, "refusal": refusal, "mid_alerts": mid_alerts}
            )
            note(
                f"reaper kill {k + 1}/{kills}: running {running}, {telegram.count() - before} alerts went out,"
                f" a --once meanwhile: {refusal[0] if refusal else '-'}"
            )
        # After the kills a new one takes the lock and completes a pass.
        result["final_pass"], result["stuck_before"] = stamp(), stamp(30 * 60)
        result["final"] = await asyncio.to_thread(_finish, _reaper(db, env, once=True))
    finally:
        stop.set()
        await worker
    return result


def reaper_twice_and_killed(ctx: Context) -> Outcome:
    """Two `mc reaper --once` at once: one passes, the other refuses (exit 1); a looping reaper killed -9 mid-pass
    leaves the lock free and no message in an impossible state; alerts are never sent twice."""
    count = 6000 if ctx.quick else 20000
    kills = 2 if ctx.quick else 4
    db = ctx.db()
    first = fill_queue(db, count, MAX_ATTEMPTS)
    conn = ro_connect(db)
    total_before = int(conn.execute("SELECT count(*) FROM queued_messages").fetchone()[0])
    conn.close()
    telegram = FakeTelegram(0.04)
    server = SoakServer(db, ctx.workdir, {"MC_REAPER_INTERVAL_S": "0", "MC_QUEUE_MAX_ATTEMPTS": str(MAX_ATTEMPTS)})
    try:
        server.start()
        run = run_async(_reaper_run(ctx, server, telegram, kills))
        server.stop()
    finally:
        server.stop()
        telegram.close()
    conn = ro_connect(db)
    try:
        total_after = int(conn.execute("SELECT count(*) FROM queued_messages").fetchone()[0])
        statuses = dict(conn.execute("SELECT status, count(*) FROM queued_messages WHERE id >= ? GROUP BY 1", (first,)))
        alerted = {
            r[0]: r[1]
            for r in conn.execute(
                "SELECT id, status FROM queued_messages WHERE alerted_at IS NOT NULL AND id >= ?", (first,)
            )
        }
    finally:
        conn.close()
    violations = queue_violations(db, first, run["final_pass"], run["stuck_before"])
    sent_ids = [i for i, _ in telegram.sent if i >= first]
    twice = len(sent_ids) - len(set(sent_ids))
    not_alertable = [i for i in set(sent_ids) if alerted.get(i) not in ("expired", "dead")]
    lost_alerts = len(set(alerted) - set(sent_ids))
    check = integrity(db)
    pair = sorted(run["pair"], key=lambda r: r[0])
    refusals = [k["refusal"] for k in run["kills"] if k["refusal"] is not None]
    final = run["final"]
    c = Checks()
    c.expect(
        [r[0] for r in pair] == [0, 1] and "Reaped" in pair[0][1] and REFUSAL in pair[1][2],
        f"two at once: exits {[r[0] for r in pair]}, {[(r[1] + r[2]).strip()[-80:] for r in pair]}",
    )
    c.expect(
        all(r[0] == 1 and REFUSAL in r[2] for r in refusals),
        f"a --once beside the running reaper: {[(r[0], r[2].strip()[-80:]) for r in refusals]}",
    )
    c.expect(bool(refusals), "no --once ran beside a running reaper")
    c.expect(all(k["running"] for k in run["kills"]), "a looping reaper had exited before its kill")
    c.expect(
        final[0] == 0 and "Reaped" in final[1],
        f"after the kills: exit {final[0]} {(final[1] + final[2]).strip()[-120:]}",
    )
    bad = {k: v for k, v in violations.items() if v}
    c.expect(not bad, f"impossible states: {bad}")
    c.expect(total_after == total_before, f"messages {total_before} -> {total_after}")
    c.expect(twice == 0, f"{twice} alerts sent twice")
    c.expect(not not_alertable, f"alerts for messages neither expired nor dead: {not_alertable[:5]}")
    c.expect(check == "ok", f"integrity_check: {check}")
    note(f"statuses of the {count:,} messages: {statuses}; worker API answers: {run['worker']}")
    figure = (
        f"{count:,} messages; two --once at once: exits {[r[0] for r in pair]} (refusal in {pair[1][3]:.1f} s);"
        f" {kills} kill -9s of a looping reaper ({sum(k['sent'] > 0 for k in run['kills'])} mid-alerts),"
        f" {len(refusals)} --once beside it refused; then a pass completed (exit {final[0]}, {final[3]:.1f} s);"
        f" impossible states {sum(violations.values())}; {len(sent_ids)} alerts, {twice} twice,"
        f" {lost_alerts} marked but lost to kills; integrity {check}"
    )
    return c.outcome("reaper_twice_and_killed", figure)

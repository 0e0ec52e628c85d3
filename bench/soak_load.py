"""The soak suite's load scenarios: pages while every stream slot is taken and clients knock, 500 streams cut off
abruptly, eight writers with readers and the reaper, and ticket views of comments that are slow to render."""

from __future__ import annotations

import asyncio
import multiprocessing
import random
import socket
import struct
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from bench.live.streams import Knocks, SSEClient, close_all, knock, open_client, open_many, run_async, stream_request
from bench.soak_common import (
    Checks,
    Context,
    Outcome,
    Posted,
    SoakServer,
    client_for,
    close_wait,
    cpu_seconds,
    create_tickets,
    fill_queue,
    integrity,
    ledger_ok,
    ledger_text,
    log_problems,
    mb,
    ms,
    new_uuid,
    note,
    p,
    post_once,
    reconcile,
)


def in_own_process(fn: Any, *args: Any) -> Any:
    """Run `fn(*args)` in a spawned process (this one drives other clients that would skew its timings)."""
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(fn, *args).result()


# ---------------------------------------------------------------------------------------------------------
# 7. Pages while every stream slot is taken and twice as many clients knock

PAGE_PATHS = ("/board", "/ticket/MC-1", "/api/v1/tickets")


def page_load(base_url: str, token: str, rate: float, seconds: float, paths: tuple[str, ...] = PAGE_PATHS
              ) -> dict[str, Any]:  # fmt: skip
    """`rate` requests a second (an open loop: each is sent on time whatever the others do, so a stalled server
    shows in every request it holds up), cycling over `paths`, for `seconds`; their latencies and statuses."""
    return run_async(_page_load(base_url, token, rate, seconds, paths))


async def _page_load(base_url: str, token: str, rate: float, seconds: float, paths: tuple[str, ...]
                     ) -> dict[str, Any]:  # fmt: skip
    latencies: list[float] = []
    sent_at: list[float] = []  # wall-clock send times, to line the slow ones up with what else happened
    sent_paths: list[str] = []
    statuses: dict[int, int] = {}
    limits = httpx.Limits(max_connections=50, max_keepalive_connections=50)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=30, limits=limits) as client:

        async def one(path: str) -> None:
            began, wall = time.perf_counter(), time.time()
            try:
                status = (await client.get(path)).status_code
            except httpx.TransportError:
                status = 0
            latencies.append(time.perf_counter() - began)
            sent_at.append(wall)
            sent_paths.append(path)
            statuses[status] = statuses.get(status, 0) + 1

        for path in paths:  # warm the connections and the caches, unreported
            await client.get(path)
        latencies.clear()
        sent_at.clear()
        sent_paths.clear()
        tasks = []
        start = time.perf_counter()
        n = 0
        while time.perf_counter() - start < seconds:
            due = start + n / rate
            wait = due - time.perf_counter()
            if wait > 0:
                await asyncio.sleep(wait)
            tasks.append(asyncio.create_task(one(paths[n % len(paths)])))
            n += 1
        await asyncio.gather(*tasks)
    return {"latencies": latencies, "sent_at": sent_at, "paths": sent_paths, "statuses": statuses,
            "seconds": time.perf_counter() - start}  # fmt: skip


def slowest(load: dict[str, Any], n: int = 8) -> str:
    """The `n` slowest requests of a page_load: seconds into the run, path, milliseconds."""
    first = min(load["sent_at"], default=0.0)
    worst = sorted(zip(load["latencies"], load["sent_at"], load["paths"], strict=True), reverse=True)[:n]
    return ", ".join(f"{at - first:.1f} s {path} {ms(took)}" for took, at, path in worst)


async def _slots_run(server: SoakServer, token: str, total: int, tails: int, seconds: float) -> dict[str, Any]:
    """Fill every slot, knock with twice as many clients retrying at once, load pages meanwhile."""
    port = server.port
    paths = ["/api/v1/stream", "/api/v1/tickets/MC-1/stream"]
    tail = "/api/v1/tickets/MC-1/tail?follow=1"
    held_reqs = [stream_request(port, paths[i % 2], token) for i in range(total)] + [
        stream_request(port, tail, token)
    ] * tails
    knock_reqs = [stream_request(port, paths[i % 2], token) for i in range(2 * total)]
    knock_reqs += [stream_request(port, tail, token)] * (2 * tails)
    held = await open_many(port, held_reqs)
    try:
        extra = [
            await open_client(port, stream_request(port, paths[0], token)),
            await open_client(port, knock_reqs[-1]),
        ]
        for client, _ in extra:
            client.close()
        stop, knocks = asyncio.Event(), Knocks()
        knockers = asyncio.create_task(knock(port, knock_reqs, 0.0, stop, knocks))
        began, server_cpu, own_cpu = time.monotonic(), cpu_seconds(server.pid or 0), time.process_time()
        try:
            await asyncio.sleep(0.5)
            loaded = await asyncio.to_thread(in_own_process, page_load, server.base_url, token, 50.0, seconds)
        finally:
            stop.set()
            await knockers
        elapsed = time.monotonic() - began
        server_cpu = (cpu_seconds(server.pid or 0) - server_cpu) / elapsed
        own_cpu = (time.process_time() - own_cpu) / elapsed
        lost = sum(c.lost for c in held.clients)
    finally:
        close_all(held.clients)
    return {
        "server_cpu": server_cpu,
        "knockers_cpu": own_cpu,
        "loaded": loaded,
        "knocks": knocks,
        "elapsed": elapsed,
        "lost": lost,
        "extra": [c.status for c, _ in extra],
        "knockers": len(knock_reqs),
    }


def slots_full_pages(ctx: Context) -> Outcome:
    """Every stream slot full and twice as many clients knocking with no pause; 50 pages/s meanwhile: no 5xx on
    pages, page p99 within 3x the idle p99 measured first."""
    total, tails = 50, 10
    idle_s, loaded_s = (6.0, 20.0) if ctx.quick else (20.0, 60.0)
    env = {"MC_SSE_MAX_TOTAL_CLIENTS": str(total), "MC_SSE_MAX_TAIL_CLIENTS": str(tails)}
    server = SoakServer(ctx.db(), ctx.workdir, env)
    try:
        server.start()
        note(f"idle pages: 50/s for {idle_s:g} s")
        idle_cpu = cpu_seconds(server.pid or 0)
        idle = in_own_process(page_load, server.base_url, ctx.fixture.admin, 50.0, idle_s)
        idle_cpu = (cpu_seconds(server.pid or 0) - idle_cpu) / idle_s
        note(f"slots full ({total} + {tails} tails), {2 * (total + tails)} knocking, pages 50/s for {loaded_s:g} s")
        run = run_async(_slots_run(server, ctx.fixture.admin, total, tails, loaded_s))
        server.stop()
        log = server.log_text()
    finally:
        server.stop()
    loaded, knocks = run["loaded"], run["knocks"]
    idle_p99, loaded_p99 = p(idle["latencies"], 99), p(loaded["latencies"], 99)
    ratio = loaded_p99 / idle_p99
    page_bad = {s: n for s, n in loaded["statuses"].items() if s >= 500 or s == 0}
    idle_bad = {s: n for s, n in idle["statuses"].items() if s != 200}
    attempts = sum(knocks.statuses.values())
    c = Checks()
    c.expect(run["extra"] == [503, 503], f"with every slot taken one more stream answered {run['extra']}")
    c.expect(not idle_bad, f"idle pages answered {idle_bad}")
    c.expect(not page_bad, f"pages under load answered {page_bad}")
    c.expect(set(loaded["statuses"]) == {200}, f"page statuses {loaded['statuses']}")
    c.expect(ratio <= 3.0, f"page p99 {ratio:.2f}x idle (limit 3x)")
    c.expect(attempts > 0, "no knock was answered")
    note(f"slowest idle: {slowest(idle)}")
    note(f"slowest loaded: {slowest(loaded)}")
    note(
        f"knocks: {knocks.statuses}, failures {knocks.failures}, without Retry-After {knocks.no_retry_after};"
        f" held streams lost: {run['lost']}; log: {log_problems(log)}"
    )
    figure = (
        f"{total}+{tails} slots held, {run['knockers']} knockers ({attempts / run['elapsed']:,.0f} knocks/s,"
        f" {knocks.statuses.get(503, 0):,} x 503, 503 p99 {p(knocks.latencies, 99):.0f} ms);"
        f" {len(loaded['latencies']):,} pages in {loaded['seconds']:.0f} s: statuses {loaded['statuses']};"
        f" p99 {ms(loaded_p99)} vs idle {ms(idle_p99)} = {ratio:.2f}x (limit 3x); p50 {ms(p(loaded['latencies'], 50))}"
        f" vs {ms(p(idle['latencies'], 50))}; server CPU {run['server_cpu']:.0%} loaded vs {idle_cpu:.0%} idle,"
        f" knockers' CPU {run['knockers_cpu']:.0%}"
    )
    return c.outcome("slots_full_pages", figure)


# ---------------------------------------------------------------------------------------------------------
# 8. 500 streams cut off abruptly

STREAMS = 500


def hang_up(client: SSEClient, reset: bool) -> None:
    """Close a stream's socket: with SO_LINGER 0 (the kernel sends RST), or a plain close (FIN)."""
    transport = client.transport
    if transport is None:
        return
    if reset:
        sock = transport.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
    else:
        transport.close()


def stream_requests(port: int, token: str) -> list[bytes]:
    """STREAMS requests: half the global stream, half MC-1's."""
    paths = ["/api/v1/stream", "/api/v1/tickets/MC-1/stream"]
    return [stream_request(port, paths[i % 2], token) for i in range(STREAMS)]


async def _settle(server: SoakServer, fds_base: int, limit: float) -> tuple[float, int, int]:
    """Wait until no CLOSE-WAIT is left and the fds are back near the baseline; (seconds, close-wait, fds)."""
    began = time.monotonic()
    while True:
        waiting, fds = close_wait(server.port), server.fds()
        if (waiting == 0 and fds <= fds_base + 2) or time.monotonic() - began > limit:
            return time.monotonic() - began, waiting, fds
        await asyncio.sleep(0.25)


async def _disconnects_run(server: SoakServer, token: str) -> dict[str, Any]:
    port = server.port
    # Warm-up at full size, so the baseline already holds what 500 streams leave allocated for reuse.
    warm = await open_many(port, stream_requests(port, token))
    close_all(warm.clients)
    await _settle(server, server.fds(), 20)
    await asyncio.sleep(2.0)
    base = {"fds": server.fds(), "rss": server.rss()}
    opened = await open_many(port, stream_requests(port, token))
    await asyncio.sleep(1.0)
    with_streams = {"fds": server.fds(), "rss": server.rss()}
    for n, client in enumerate(opened.clients):
        hang_up(client, reset=n % 2 == 0)
    took, _, _ = await _settle(server, base["fds"], 30)
    await asyncio.sleep(2.0)
    after = {"fds": server.fds(), "rss": server.rss(), "close_wait": close_wait(port), "settle_s": took}
    # Every slot free again: the cap is exactly STREAMS, so all of them must open at the first try.
    again: list[SSEClient] = []
    refused = 0
    try:
        for request in stream_requests(port, token):
            client, _ = await open_client(port, request)
            if client.status == 200:
                again.append(client)
            else:
                client.close()
                refused += 1
    finally:
        close_all(again)
    return {
        "base": base,
        "open": with_streams,
        "after": after,
        "opened": len(opened.clients),
        "again": len(again),
        "refused": refused,
    }


def disconnects(ctx: Context) -> Outcome:
    """500 streams opened, then half reset (SO_LINGER 0) and half closed: no CLOSE-WAIT left, fds and RSS back
    near the baseline, every slot free again."""
    env = {"MC_SSE_MAX_TOTAL_CLIENTS": str(STREAMS)}
    server = SoakServer(ctx.db(), ctx.workdir, env)
    try:
        server.start()
        run = run_async(_disconnects_run(server, ctx.fixture.admin))
        server.stop()
        log = server.log_text()
    finally:
        server.stop()
    base, opened, after = run["base"], run["open"], run["after"]
    rss_limit = base["rss"] * 1.10  # a leak of every stream's state (~26 KB each, README) would be +15% here
    c = Checks()
    c.expect(run["opened"] == STREAMS, f"only {run['opened']} streams opened")
    c.expect(after["close_wait"] == 0, f"{after['close_wait']} sockets left in CLOSE-WAIT")
    c.expect(after["fds"] <= base["fds"] + 2, f"fds {base['fds']} -> {after['fds']}")
    c.expect(after["rss"] <= rss_limit, f"RSS {mb(base['rss'])} -> {mb(after['rss'])} (limit +10%)")
    c.expect(
        run["again"] == STREAMS,
        f"after the hang-ups only {run['again']} of {STREAMS} streams opened ({run['refused']} x 503)",
    )
    note(f"log: {log_problems(log)}")
    figure = (
        f"{STREAMS} streams (cap {STREAMS}), {STREAMS // 2} RST + {STREAMS // 2} FIN: settled in"
        f" {after['settle_s']:.1f} s; CLOSE-WAIT {after['close_wait']}; fds {base['fds']} -> {opened['fds']} open"
        f" -> {after['fds']}; RSS {mb(base['rss'])} -> {mb(opened['rss'])} -> {mb(after['rss'])}"
        f" ({(after['rss'] / base['rss'] - 1) * 100:+.1f}%, {(after['rss'] - base['rss']) / STREAMS / 1000:.1f} KB per"
        f" closed stream; limit +10%); reopened {run['again']}/{STREAMS}"
    )
    return c.outcome("disconnects", figure)


# ---------------------------------------------------------------------------------------------------------
# 9. Eight writers with readers and the reaper

WRITERS = 8


async def _writers_run(
    server: SoakServer, worker: str, admin: str, tickets: list[str], posts_each: int
) -> dict[str, Any]:
    answers: list[tuple[str, Posted]] = []
    reads: dict[int, int] = {}
    locked_bodies = 0
    done = asyncio.Event()

    async def writer(n: int) -> None:
        nonlocal locked_bodies
        ticket = tickets[n % len(tickets)]
        async with client_for(server, worker, timeout=30, connections=1) as http:
            for _ in range(posts_each):
                answer = await post_once(http, ticket, [new_uuid(f"w{n}")])
                answers.append((ticket, answer))
                locked_bodies += "locked" in answer.error

    async def reader(n: int) -> None:
        rng = random.Random(n)
        async with client_for(server, admin, timeout=30, connections=1) as http:
            while not done.is_set():
                ticket = rng.choice(tickets)
                path = rng.choice(
                    [
                        "/board",
                        "/ticket/MC-1",
                        f"/ticket/{ticket}",
                        f"/api/v1/tickets/{ticket}/events?after={rng.randrange(1000)}&limit=100",
                    ]
                )
                try:
                    response = await http.get(path)
                    status = response.status_code
                except httpx.TransportError:
                    status = 0
                reads[status] = reads.get(status, 0) + 1

    readers = [asyncio.create_task(reader(n)) for n in range(2)]
    began = time.monotonic()
    try:
        await asyncio.gather(*(writer(n) for n in range(WRITERS)))
    finally:
        elapsed = time.monotonic() - began
        done.set()
        await asyncio.gather(*readers)
    return {"answers": answers, "reads": reads, "elapsed": elapsed, "locked_bodies": locked_bodies}


def writers(ctx: Context) -> Outcome:
    """8 writers x 2,000 (quick: 500) single-event POSTs with readers and the reaper (every 1 s): no 5xx, no
    "database is locked", exactly 16,000 rows, seqs gap-free; throughput reported."""
    posts_each = 500 if ctx.quick else 2000
    db = ctx.db()
    fill_queue(db, 3000)  # so each reaper pass has something to write
    server = SoakServer(db, ctx.workdir, {"MC_REAPER_INTERVAL_S": "1"})
    try:
        server.start()
        tickets = run_async(create_tickets(server, ctx.fixture.worker, 4, "writers"))
        run = run_async(_writers_run(server, ctx.fixture.worker, ctx.fixture.admin, tickets, posts_each))
        server.stop()
        log = server.log_text()
    finally:
        server.stop()
    answers = run["answers"]
    acked = {a.uuids[0]: (t, a.seqs[0]) for t, a in answers if a.status == 201}
    statuses: dict[int, int] = {}
    for _, a in answers:
        statuses[a.status] = statuses.get(a.status, 0) + 1
    ledger = reconcile(db, tickets, acked, allowed=set())
    problems = log_problems(log)
    reaped = log.count("ALERT")
    check = integrity(db)
    expected = WRITERS * posts_each
    c = Checks()
    c.expect(statuses == {201: expected}, f"POST statuses {statuses}")
    c.expect(all(s < 500 and s != 0 for s in run["reads"]), f"read statuses {run['reads']}")
    c.expect(
        run["locked_bodies"] == 0 and problems["database is locked"] == 0,
        f"'database is locked': {run['locked_bodies']} responses, {problems['database is locked']} log lines",
    )
    c.expect(ledger.rows == expected, f"{ledger.rows:,} rows stored, not {expected:,}")
    c.expect(ledger_ok(ledger), ledger_text(ledger))
    c.expect(reaped > 0, "the reaper did nothing (no alert in the log)")
    c.expect(check == "ok", f"integrity_check: {check}")
    note(f"reads {run['reads']}; log: {problems}, {reaped} reaper alerts logged")
    lat = [a.seconds for _, a in answers]
    figure = (
        f"{WRITERS} x {posts_each:,} POSTs in {run['elapsed']:.1f} s = {expected / run['elapsed']:,.0f} POST/s"
        f" (p50 {ms(p(lat, 50))}, p99 {ms(p(lat, 99))}), {sum(run['reads'].values()):,} reads, reaper every 1 s"
        f" ({reaped} alerts); statuses {statuses}; 'database is locked' in {run['locked_bodies']} answers,"
        f" {problems['database is locked']} log lines;"
        f" {ledger_text(ledger)}; integrity {check}"
    )
    return c.outcome("writers", figure)


# ---------------------------------------------------------------------------------------------------------
# 10. Ticket views of comments that are slow to render

BUDGET_S = 2.0


async def _post_comments(server: SoakServer, token: str, ticket: str) -> list[int]:
    async with client_for(server, token, timeout=30) as http:
        body = {"body": "[" * 99_999}
        return [(await http.post(f"/api/v1/tickets/{ticket}/comments", json=body)).status_code for _ in range(4)]


async def _views(server: SoakServer, token: str, path: str, seconds: float, pause: float) -> list[tuple[int, float]]:
    """GET the page again and again for `seconds` (`pause` s between views, as a person reloading); (status,
    seconds) each."""
    found = []
    async with client_for(server, token, timeout=30, connections=1) as http:
        began = time.monotonic()
        while time.monotonic() - began < seconds:
            start = time.monotonic()
            try:
                status = (await http.get(path)).status_code
            except httpx.TransportError:
                status = 0
            found.append((status, time.monotonic() - start))
            await asyncio.sleep(pause)
    return found


HEALTH_RATE = 20.0  # /healthz probes a second, an open loop in a process of its own
VIEW_PAUSE_S = 0.5


def health_probe(server: SoakServer, seconds: float) -> dict[str, Any]:
    """/healthz at HEALTH_RATE a second for `seconds`, from its own process."""
    return in_own_process(page_load, server.base_url, "", HEALTH_RATE, seconds, ("/healthz",))


async def _stall_run(server: SoakServer, token: str, path: str, seconds: float
                     ) -> tuple[dict[str, Any], list[tuple[int, float]]]:  # fmt: skip
    probe = asyncio.create_task(asyncio.to_thread(health_probe, server, seconds))
    await asyncio.sleep(1.0)  # the probe's process is up and probing
    first_view = time.time()
    views = await _views(server, token, path, seconds - 1.0, VIEW_PAUSE_S)
    probed = await probe
    probed["first_view"] = first_view
    return probed, views


def markdown_stall(ctx: Context) -> Outcome:
    """Four 100 KB comments of "[" on MC-1, then views of its page (one every 0.5 s after the last answer) while
    /healthz is probed 20 times a second (an open loop, so a stall delays every probe it covers): /healthz p99
    within 3x its idle p99, every view 200 within the render budget + 1 s."""
    seconds = 8.0 if ctx.quick else 20.0
    server = SoakServer(ctx.db(), ctx.workdir, {"MC_MARKDOWN_BUDGET_S": str(BUDGET_S)})
    try:
        server.start()
        # Warm up first: the first render of a ticket page compiles its templates (~100 ms on the loop here).
        warm = run_async(_views(server, ctx.fixture.admin, "/ticket/MC-1", 0.5, 0.0))
        idle = health_probe(server, 6.0 if ctx.quick else seconds)
        posted = run_async(_post_comments(server, ctx.fixture.worker, "MC-1"))
        during, views = run_async(_stall_run(server, ctx.fixture.admin, "/ticket/MC-1", seconds))
        server.stop()
        log = server.log_text()
    finally:
        server.stop()
    idle_p99, during_p99 = p(idle["latencies"], 99), p(during["latencies"], 99)
    ratio = during_p99 / idle_p99
    slow = [t for _, t in views if t > BUDGET_S + 1]
    wrong = sorted({s for s, _ in views} - {200})
    health_bad = {s: n for d in (idle, during) for s, n in d["statuses"].items() if s != 200}
    c = Checks()
    c.expect(posted == [201] * 4, f"comments answered {posted}")
    c.expect({s for s, _ in warm} == {200}, f"warm-up views answered {sorted({s for s, _ in warm})}")
    c.expect(ratio <= 3.0, f"/healthz p99 {ratio:.2f}x idle (limit 3x)")
    c.expect(not health_bad, f"/healthz answered {health_bad}")
    c.expect(not wrong, f"ticket views answered {wrong}")
    c.expect(not slow, f"{len(slow)} views slower than {BUDGET_S + 1:g} s (max {max(slow, default=0):.1f} s)")
    c.expect(len(views) >= 3, f"only {len(views)} views")
    worst = sorted(zip(during["latencies"], during["sent_at"], strict=True), reverse=True)[:5]
    note("slowest /healthz during the views (ms @ s after the first view): "
         + ", ".join(f"{lat * 1000:.0f} @ {at - during['first_view']:.1f}" for lat, at in worst))  # fmt: skip
    shown = ", ".join(f"{t:.2f}" for _, t in views[:8])
    note(f"view times (s): {shown}{' ...' if len(views) > 8 else ''}; log: {log_problems(log)}")
    figure = (
        f"4 x 100 KB '[' comments; {len(views)} views of /ticket/MC-1 (first {views[0][1]:.2f} s, max"
        f" {max(t for _, t in views):.2f} s, limit {BUDGET_S + 1:g} s, statuses {sorted({s for s, _ in views})});"
        f" /healthz ({HEALTH_RATE:g}/s, open loop) p99 {ms(during_p99)} vs idle {ms(idle_p99)} = {ratio:.2f}x"
        f" (limit 3x), max {ms(max(during['latencies']))} vs {ms(max(idle['latencies']))}"
    )
    return c.outcome("markdown_stall", figure)

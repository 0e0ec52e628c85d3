"""Part 4, starvation: every stream slot taken and clients knocking: /board latency and the 503s' own latency."""

from __future__ import annotations

import asyncio
import math
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor

from bench.client import Result, percentile, run_python, run_wrk
from bench.live.plan import (
    KNOCK_FACTOR,
    OVER_CAP_TARGET_MS,
    POLITE_ADDRESS,
    STARVATION_TARGET,
    STARVE_TAIL,
    STARVE_TOTAL,
    Line,
    Plan,
    Trouble,
    fmt_ms,
    progress,
)
from bench.live.streams import Knocks, Opened, SSEClient, close_all, knock, open_client, open_many, stream_request
from bench.server import HOST, Server, get


def board_probe(use_wrk: bool, url: str, token: str, seconds: float) -> Result:
    """/board latency from one connection, requests back to back, in its own process (wrk, or Python)."""
    headers = {"Authorization": f"Bearer {token}"}
    if use_wrk:
        return run_wrk(url, headers, 1, seconds)
    # Off this process, which drives the knocking clients; spawned, since this process runs threads.
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(run_python, url, headers, 1, seconds).result()


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

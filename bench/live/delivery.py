"""Part 3, delivery: N subscribers on one ticket stream, one event posted, time to the first and the last."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import math
import statistics
import time

import httpx

from bench.live.load import compact, stream_json_event
from bench.live.plan import DELIVERY_TARGET_MS, Line, Plan, Trouble, fmt_ms, progress
from bench.live.streams import Opened, Round, SSEClient, close_all, open_many, stream_request
from bench.server import Server


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

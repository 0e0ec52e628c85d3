"""Part 2, fan-out: the server's memory per idle ticket stream, and delivery while they are open."""

from __future__ import annotations

import asyncio
import time

from bench.live.delivery import deliver
from bench.live.plan import FANOUT_TARGET_BYTES, Line, Plan, progress
from bench.live.procfs import open_fds, proc_status
from bench.live.streams import Opened, close_all, open_many, stream_request
from bench.server import Server


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

"""Raw-socket SSE clients for the live benchmarks: open many streams cheaply, read frames, knock on a full server."""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

from bench.live.plan import T, Trouble
from bench.server import HOST

try:  # the server runs on uvloop; so does the client side here when it is installed (a lighter client)
    import uvloop
except ImportError:  # pragma: no cover - uvloop ships with uvicorn[standard]
    uvloop = None  # type: ignore[assignment]


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine on a fresh loop (uvloop when installed)."""
    factory = uvloop.new_event_loop if uvloop is not None else None
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(coro)


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

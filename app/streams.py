"""Streams to a client: a ticket's or the board's live frames after a replay, with heartbeats, a deadline and
a slot of a capped bucket (the SSE routes in app/routes/stream.py; the session's socket writes the same frames
as WebSocket messages: app/routes/session.py).

Each response is its own ASGI app, so that the stream's lifetime is a deadline around the whole response: a
client that stops reading blocks `send`, and a check inside a generator would never run. Each send must also
finish within one heartbeat interval, so a stuck client gives its slot back within one heartbeat.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Response
from litestar.types import Receive, Scope, Send

from app.caps import OVER_CAP_BODY, OVER_CAP_HEADERS, OVER_CAP_STATUS
from app.event_summary import summarise, tail_line
from app.live import Subscriber
from app.run_frames import folder_at, run_frame
from app.sse import HEARTBEAT, UNORDERED, tail_frame
from app.state import AppState
from app.store import events as event_store

REPLAY_PAGE = 500
# A route option that keeps a response out of the compression middleware (app/main.py): streams.
NO_COMPRESSION = "no_compression"
# Each route's bucket of stream slots (app/caps.py refuses at the door when it is full), and no compression.
STREAMS: dict[str, Any] = {"stream": "streams", NO_COMPRESSION: True}
TAILS_WHEN_FOLLOWING: dict[str, Any] = {"stream": "tails", "stream_when": "follow", NO_COMPRESSION: True}


HUNG_UP = (UNORDERED, b"")  # put on the queue when the client hangs up, so the stream ends at once


async def watch_disconnect(receive: Receive, gone: asyncio.Event, subscriber: Subscriber) -> None:
    """When the client hangs up (FIN or RST): set `gone` and wake the stream, which gives its slot back."""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            gone.set()
            with contextlib.suppress(asyncio.QueueFull):
                subscriber.queue.put_nowait(HUNG_UP)
            subscriber.overflowed = subscriber.overflowed or subscriber.queue.full()
            return


class Stream:
    """One open SSE response: replay, then live frames, heartbeats, a deadline."""

    def __init__(self, mc: AppState, send: Send, receive: Receive, subscriber: Subscriber) -> None:
        self.mc, self.send, self.receive, self.subscriber = mc, send, receive, subscriber
        self.heartbeat = mc.settings.sse_heartbeat_s
        self.replay: Any = None

    async def write(self, chunk: bytes) -> None:
        """Send a chunk; a client that cannot take it within one heartbeat interval is gone."""
        message: Any = {"type": "http.response.body", "body": chunk, "more_body": True}
        async with asyncio.timeout(self.heartbeat):
            await self.send(message)

    async def run(self, replay: Any = None, after: int = 0) -> None:
        """Headers, the replay, then live frames until the deadline, the client leaving, or overflow."""
        gone = asyncio.Event()
        watcher = asyncio.create_task(watch_disconnect(self.receive, gone, self.subscriber))
        try:
            with contextlib.suppress(TimeoutError, OSError):
                async with asyncio.timeout(self.mc.settings.sse_max_lifetime_s):
                    start: Any = {"type": "http.response.start", "status": 200, "headers": [
                        (b"content-type", b"text/event-stream; charset=utf-8"),
                        (b"cache-control", b"no-store"), (b"x-accel-buffering", b"no"),
                    ]}  # fmt: skip
                    await self.send(start)
                    await self.write(b"retry: 2000\n\n")  # reconnect soon after a normal end
                    self.replay = replay
                    if replay is not None:
                        after = await replay(self, after)
                    await self.live(gone, after)
            with contextlib.suppress(Exception):
                end: Any = {"type": "http.response.body", "body": b"", "more_body": False}
                async with asyncio.timeout(1):
                    await self.send(end)
        finally:
            watcher.cancel()

    async def live(self, gone: asyncio.Event, after: int) -> None:
        """Frames as they are published; a keep-alive comment when idle."""
        queue = self.subscriber.queue
        while not gone.is_set() and not self.subscriber.overflowed:
            try:
                async with asyncio.timeout(self.heartbeat):  # (wait_for would make a task per frame)
                    order, frame = await queue.get()
            except TimeoutError:
                await self.write(HEARTBEAT)
                continue
            if not frame:
                return  # the client hung up
            if order != UNORDERED:
                if order <= after:
                    continue  # already sent (by the replay, or twice: by the writer and the poller)
                if self.replay is not None and order > after + 1:
                    # A gap: this event came from this process's writer before an earlier one committed by
                    # another process reached us through the poller. Seqs are gap-free and a later one is
                    # only given out after the earlier one committed, so the database has them all: send
                    # them from there, in order.
                    after = await self.replay(self, after)
                    continue
                after = order
            await self.write(frame)


class StreamResponse(Response[None]):
    """A response that is an ASGI app of its own: Litestar hands it scope, receive and send as they are."""

    def __init__(self, run: Callable[[Scope, Receive, Send], Awaitable[None]]) -> None:
        super().__init__(content=None)
        self.run = run

    def to_asgi_response(self, *args: Any, **kwargs: Any) -> Any:
        """The stream itself is the ASGI response."""
        return self.run


def open_stream(mc: AppState, bucket_name: str, topics: list[str], replay: Any, after: int = 0) -> StreamResponse:
    """A stream: take a slot of `bucket_name` (its cap was checked at the door; this is the last word),
    subscribe, run, and always give the slot back."""
    bucket = mc.broker.buckets[bucket_name]

    async def run(scope: Scope, receive: Receive, send: Send) -> None:
        if not bucket.acquire():
            start: Any = {"type": "http.response.start", "status": OVER_CAP_STATUS, "headers": OVER_CAP_HEADERS}
            await send(start)
            end: Any = {"type": "http.response.body", "body": OVER_CAP_BODY}
            await send(end)
            return
        subscriber = mc.broker.subscribe(*topics)
        try:
            await Stream(mc, send, receive, subscriber).run(replay, after)
        finally:
            mc.broker.unsubscribe(subscriber)
            bucket.release()

    return StreamResponse(run)


def replay_events(ticket: int, tail: bool) -> Any:
    """Send the ticket's stored events after `after` (subscribed first, so nothing falls in between): as
    tail lines, or as the changes each made to its run, folded from the run's start as the live path does."""

    async def replay(stream: Stream, after: int) -> int:
        db = stream.mc.db
        folder = None if tail else await folder_at(db, ticket, after)
        identifier = "" if tail else await event_store.identifier_of(db, ticket) or ""
        while True:
            rows = await event_store.events_after(db, ticket, after, REPLAY_PAGE)
            for event in rows:
                if folder is None:
                    await stream.write(tail_frame(tail_line(summarise(event)), event.seq))
                else:
                    await stream.write(await run_frame(folder.add(event), identifier))
                after = event.seq
            if len(rows) < REPLAY_PAGE:
                return after

    return replay

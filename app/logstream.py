"""Following a log file over SSE: a stream of the tails bucket (capped like a ticket's tail) that polls the file
and sends the records appended since, newest first, as the Logs page draws them.

The same deadline, heartbeats and slot as every stream (app/streams.py); only where frames come from differs:
not the broker, but the file, looked at every POLL_S (a stat, and a read when it grew). Each frame's id is the
file's position after it, so a browser that reconnects with Last-Event-ID goes on from there.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

from app.caps import send_over_cap
from app.live import Subscriber
from app.logfiles import Grouper, Record, RecordFilter
from app.logtail import Follower, Position
from app.sse import HEARTBEAT, sse_frame
from app.state import AppState
from app.streams import Stream, StreamResponse
from app.templates import render_html

POLL_S = 0.5
RECORDS = "fragments/logs/records.html"


def records_frame(records: list[Record], at: Position) -> bytes:
    """New records (file order) as one `log_line` message, newest first as the page lists them."""
    html = render_html(RECORDS, records=records[::-1])
    return f"id: {at.text()}\n".encode() + sse_frame("log_line", html)


class FileTail(Stream):
    """One open follow of a file: what it appends, filtered, until the stream's deadline or the client leaves."""

    def __init__(self, mc: AppState, send: Any, receive: Any, follower: Follower, keep: RecordFilter) -> None:
        super().__init__(mc, send, receive, Subscriber(("file",)))  # its queue only hears the client leave
        self.follower, self.keep, self.grouper = follower, keep, Grouper()

    async def live(self, gone: asyncio.Event, after: int) -> None:
        """Poll the file; send what passes the filter, a keep-alive when nothing did for a heartbeat interval."""
        quiet_since = time.monotonic()
        while not gone.is_set():
            lines = await asyncio.to_thread(self.follower.poll)  # a slow disk must not hold the event loop
            records = [r for r in self.grouper.add(lines) if self.keep.keeps(r)]
            if records:
                await self.write(records_frame(records, self.follower.position()))
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since >= self.heartbeat:
                await self.write(HEARTBEAT)
                quiet_since = time.monotonic()
            if self.follower.behind:
                continue  # more is waiting: read it now
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(POLL_S):
                    await gone.wait()


def follow_file(mc: AppState, path: str, start: Position | None, keep: RecordFilter) -> StreamResponse:
    """A stream of what `path` appends after `start`, in a slot of the tails bucket (its cap was checked at the
    door; this is the last word: a 503 when it is full)."""
    bucket = mc.broker.buckets["tails"]

    async def run(scope: Any, receive: Any, send: Any) -> None:
        if not bucket.acquire():
            await send_over_cap(send)
            return
        follower = Follower(path, start)
        try:
            await FileTail(mc, send, receive, follower, keep).run()
        finally:
            follower.close()
            bucket.release()

    return StreamResponse(run)

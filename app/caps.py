"""Stream caps at the door: which bucket of stream slots a request would take from (its route says so), and
the 503 it gets when that bucket is full, before anything is spent on it (no token lookup, no handler).

A stream route names its bucket in its options: `opt={"stream": "streams"}`; a route that streams only
with a query flag names it too: `opt={"stream": "tails", "stream_when": "follow"}` (a stream when `?follow=`
is 1 or true). The middleware below checks under every server; `mc serve`'s protocol (app/server.py) runs
the same check before the request reaches the app at all.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any
from urllib.parse import parse_qsl

from litestar import Litestar
from litestar.types import ASGIApp, Receive, Scope, Send
from litestar.utils.path import normalize_path

OVER_CAP_STATUS = 503
OVER_CAP_HEADERS = [(b"content-type", b"text/event-stream"), (b"retry-after", b"30"), (b"content-length", b"14")]
OVER_CAP_BODY = b"retry: 30000\n\n"  # EventSource's own reconnect delay: 30 s, as Retry-After says
TRUE = ("1", "true")


def bucket_of(handler: Any, query: bytes) -> str | None:
    """The bucket a request to `handler` takes a slot from (None: it is not a stream)."""
    opt = getattr(handler, "opt", None) or {}
    bucket = opt.get("stream")
    if bucket is None:
        return None
    flag = opt.get("stream_when")
    if flag is None:
        return str(bucket)
    on = any(name == flag and value in TRUE for name, value in parse_qsl(query.decode("latin-1")))
    return str(bucket) if on else None


def hold_before_routing(app: Litestar, scope: Any) -> float | None:
    """For a request not yet routed (`scope` as uvicorn made it): None when it may go on to the app, else
    how long to hold its 503. It is routed here as Litestar will route it, but only while some bucket is full:
    otherwise nothing can be refused, and every request would be routed twice."""
    state = getattr(app.state, "mc", None)  # None until the app has started
    if state is None or not state.broker.any_full():
        return None
    try:
        _, handler, *_ = app.asgi_router.handle_routing(path=normalize_path(scope["path"]), method=scope["method"])
    except Exception:  # no such route or method: the app answers that
        return None
    bucket = bucket_of(handler, scope.get("query_string", b""))
    if bucket is None:
        return None
    client = scope.get("client") or ("", 0)
    hold: float | None = state.broker.refusal(bucket, client[0], time.monotonic())
    return hold


async def send_over_cap(send: Send) -> None:
    """The 503 for a stream over its cap."""
    start: Any = {"type": "http.response.start", "status": OVER_CAP_STATUS, "headers": OVER_CAP_HEADERS}
    await send(start)
    end: Any = {"type": "http.response.body", "body": OVER_CAP_BODY}
    await send(end)


class StreamCaps:
    """Refuse a stream request whose bucket is full, before authentication (knocking clients must not crowd
    out page renders with token lookups). The handler takes the slot, and checks again."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            bucket = bucket_of(scope.get("route_handler"), scope.get("query_string", b""))
            if bucket is not None:
                client = scope.get("client") or ("", 0)
                hold = scope["app"].state.mc.broker.refusal(bucket, client[0], time.monotonic())
                if hold is not None:
                    if hold:
                        await asyncio.sleep(hold)
                    await send_over_cap(send)
                    return
        await self.app(scope, receive, send)

"""Activity: one feed of what happened, newest first, filtered and paged in the URL, live at its top."""

from __future__ import annotations

import time
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

import msgspec
from litestar import Request, Response, get
from litestar.params import Parameter

from app.activity import FeedItem, activity_feed
from app.htmx import render_text
from app.kept_pages import keep, view_key
from app.state import AppState, app_state
from app.store import ops
from app.streams import NO_COMPRESSION

PAGE = "templates/page.html"


class ActivityPage(msgspec.Struct, frozen=True):
    """Context of the activity feed: a page of it under the filters, and the way to the next."""

    title: str
    items: list[FeedItem]
    kind: str
    ticket: str
    agent: str
    next_url: str
    filtered: bool
    live_url: str = ""  # the first page's: what asks for newer items (the newest shown is its `since`)
    newer: bool = False  # a live request's answer: only items newer than it knew of


FEED_PAGE = 50
KEPT_S = 5.0
FEED_CURSOR = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z~[crt][0-9]{16}[^\x00]{0,100}$"


@get("/activity", cache=False, opt={NO_COMPRESSION: True})  # kept gzipped: app/kept_pages.py
async def activity(
    request: Request[Any, Any, Any],
    kind: Annotated[Literal["all", "comment", "run", "created"], Parameter(description="Only this kind")] = "all",
    ticket: Annotated[str | None, Parameter(max_length=40)] = None,
    agent: Annotated[str | None, Parameter(max_length=100)] = None,
    before: Annotated[str | None, Parameter(pattern=FEED_CURSOR)] = None,
    since: Annotated[str | None, Parameter(pattern=FEED_CURSOR, description="Only items newer than this")] = None,
) -> Response[bytes]:
    """Comments, agents' runs (one item each) and new tickets, newest first, filtered in the URL, paged by keyset
    (the next page: items before the last one shown; `since`: the items newer than the newest shown, which the
    page prepends as they happen). Kept, rendered, while nothing is written, for at most KEPT_S seconds (a run's
    state reads by age)."""
    mc = app_state(request)
    key = view_key(request, mc.db.generation, int(time.monotonic() // KEPT_S))
    only = ops.FeedFilter(
        None if kind == "all" else kind, (ticket or "").strip().upper() or None, (agent or "").strip() or None
    )
    return await keep(mc.ops_pages, request, key, lambda: build_activity(request, mc, only, before, since))


def _cursor(text: str | None) -> tuple[str, str] | None:
    """A feed cursor `<at>~<key>` as (at, key)."""
    if not text:
        return None
    at, _, key = text.partition("~")
    return (at, key)


async def build_activity(
    request: Request[Any, Any, Any], mc: AppState, only: ops.FeedFilter, before: str | None, since: str | None
) -> str:
    """A page of the feed (or its fragment) as the database has it now."""
    items = await activity_feed(mc.db, mc.run_headers, mc.settings.run_stall_s, FEED_PAGE + 1, _cursor(before), only)
    query = {"kind": only.kind or "", "ticket": only.ticket or "", "agent": only.actor or ""}
    filters = {k: v for k, v in query.items() if v}
    newer = _cursor(since)
    if newer is not None:  # a run that moved on comes again, on top: the page drops its older copy
        items = [entry for entry in items[:FEED_PAGE] if (entry.item.at, entry.item.key) > newer]
    next_url = live_url = ""
    if newer is None and len(items) > FEED_PAGE:
        last = items[FEED_PAGE - 1].item
        next_url = "/activity?" + urlencode(filters | {"before": f"{last.at}~{last.key}"})
    if before is None:
        top = f"{items[0].item.at}~{items[0].item.key}" if items else since or ""
        live_url = "/activity?" + urlencode(filters | ({"since": top} if top else {}))
    ctx = ActivityPage(
        "Activity", items[:FEED_PAGE], only.kind or "all", only.ticket or "", only.actor or "", next_url,
        bool(filters or before), live_url, newer is not None,
    )  # fmt: skip
    return render_text(request, PAGE, "fragments/ops/activity.html", ctx)


ROUTES = [activity]

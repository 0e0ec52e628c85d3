"""One search over tickets, comments and agent transcripts: the /search page and GET /api/v1/search.

Handlers parse and bound what is asked, app.store.search finds it, the page or the JSON shows it. The query
language is app.search.search_match's (words, "phrases", prefix*, -left-out)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

import msgspec
from litestar import Request, Response, get
from litestar.di import NamedDependency, Provide
from litestar.params import Parameter
from markupsafe import Markup

from app.auth import WORKER
from app.htmx import render
from app.params import DATE_OR_EMPTY, MAX_ID
from app.search import highlighted, marked, search_match
from app.state import app_state
from app.store import search as store
from app.store import sessions as sessions_store

PER_PAGE = 20
MAX_OFFSET = 2 * store.WINDOW  # past the window, "Older matches" moves the window instead
Scope = Annotated[
    Literal["all", "ticket", "comment", "message", "event"],
    Parameter(description="Only this kind of hit: tickets, comments, transcript messages, agents' events (all)"),
]
Query = Annotated[str, Parameter(max_length=500, description='Words, "a phrase", prefix*, -left-out')]
Name = Annotated[str | None, Parameter(max_length=100, description="A session's agent, comment author or assignee")]
TicketFilter = Annotated[str | None, Parameter(max_length=40, description="Only what belongs to this ticket: MC-7")]
# (Empty is "any": a plain form sends its empty date fields.)
Day = Annotated[str | None, Parameter(pattern=DATE_OR_EMPTY, description="A UTC date: 2026-12-01")]
Offset = Annotated[int, Parameter(ge=0, le=MAX_OFFSET, description="Hits to skip (within the window)")]
Before = Annotated[
    int | None, Parameter(ge=1, le=MAX_ID, description="For one kind: rank the window of hits older than this id")
]
KIND_LABELS = {"all": "All", "ticket": "Tickets", "comment": "Comments", "message": "Transcripts", "event": "Runs"}


class ApiHit(msgspec.Struct, frozen=True):
    """One hit: `kind` (ticket, comment, message, event) says which ids are set. `snippet` is plain text;
    `highlights` are the [start, end) character spans of the matches in it. `rank` is bm25's (lower is better)."""

    kind: str
    url: str
    rank: float
    at: str
    title: str
    snippet: str
    highlights: list[tuple[int, int]]
    ticket: str | None = None
    comment_id: int | None = None
    session_id: str | None = None
    seq: int | None = None
    agent: str | None = None
    role: str | None = None
    tool: str | None = None


class ApiResults(msgspec.Struct, frozen=True):
    """A page of hits, best first; `counts` per kind are capped at 10,000; `next_url` asks for more (null: none)."""

    query: str
    hits: list[ApiHit]
    counts: dict[str, int]
    next_url: str | None


class ShownHit(msgspec.Struct, frozen=True):
    """A hit as the page shows it."""

    hit: store.Hit
    url: str
    snippet: Markup
    context_url: str  # a message: the transcript around it


class Tab(msgspec.Struct, frozen=True):
    """A kind of hit (or all of them) as a tab over the results, with its count."""

    kind: str
    label: str
    url: str
    count: int
    capped: bool  # the count stopped at store.COUNT_CAP


class Older(msgspec.Struct, frozen=True):
    """A link to the next older window of hits of one kind (its newest WINDOW are what was ranked)."""

    label: str
    url: str


class SearchPage(msgspec.Struct, frozen=True):
    """Context of /search."""

    title: str
    q: str
    kind: str
    agent: str
    ticket: str
    since: str
    until: str
    asked: bool  # a query with something to find
    hits: list[ShownHit]
    tabs: list[Tab]
    next_url: str
    older: list[Older]
    window: int
    agents: list[str]
    filtered: bool


class Asked(msgspec.Struct, frozen=True):
    """A search as asked in the URL, checked."""

    q: str
    kind: str
    filters: store.Filters
    agent: str
    ticket: str
    since: str
    until: str
    offset: int
    before: int | None

    def query(self, **changes: object) -> str:
        """This search's URL query, with `changes` (empty values left out)."""
        params = {"q": self.q, "kind": self.kind if self.kind != "all" else "", "agent": self.agent}
        params |= {"ticket": self.ticket, "since": self.since, "until": self.until}
        params |= {k: str(v) if v is not None else "" for k, v in changes.items()}
        return urlencode({k: v for k, v in params.items() if v})


def _day(text: str | None, end: bool = False) -> str | None:
    """A date from the URL (DATE_OR_EMPTY) as a UTC stamp: the day's start; for an end, the next day's, so the
    day itself is in (None past the last day there is: no end)."""
    if not text:
        return None
    day = dt.date.fromisoformat(text)
    if end:
        if day == dt.date.max:
            return None
        day += dt.timedelta(days=1)
    return f"{day.isoformat()}T00:00:00.000Z"


def asked(
    q: Query = "",
    kind: Scope = "all",
    agent: Name = None,
    ticket: TicketFilter = None,
    since: Day = None,
    until: Day = None,
    offset: Offset = 0,
    before: Before = None,
) -> Asked:
    """The search asked in the URL, checked and shaped for the store (both routes' query parameters)."""
    agent, ticket = (agent or "").strip(), (ticket or "").strip().upper()
    filters = store.Filters(
        ticket=ticket or None,
        agent=agent or None,
        since=_day(since),
        until=_day(until, end=True),
    )
    return Asked(q.strip(), kind, filters, agent, ticket, since or "", until or "", offset, before)


SEARCH = {"wanted": Provide(asked, sync_to_thread=False)}


def hit_url(hit: store.Hit) -> str:
    """Where a hit is: the ticket, the comment on its page, the message's own line."""
    if hit.kind == "ticket":
        return f"/ticket/{hit.ticket}"
    if hit.kind == "comment":
        return f"/ticket/{hit.ticket}#comment-{hit.id}"
    if hit.kind == "event":
        return f"/ticket/{hit.ticket}/events/{hit.seq}"
    if hit.seq is None:
        return f"/sessions/{hit.session_id}"
    return f"/sessions/{hit.session_id}/lines/{hit.seq}"


def context_url(hit: store.Hit) -> str:
    """A message's place in its transcript (a few lines before it, so it is read in context); an event's in its
    ticket's conversation."""
    if hit.kind == "event":
        return f"/ticket/{hit.ticket}#ev-{hit.seq}"
    if hit.kind != "message" or hit.seq is None:
        return ""
    return f"/sessions/{hit.session_id}?after={max(0, hit.seq - 3)}#ev-{hit.seq}"


async def run_search(request: Request[Any, Any, Any], wanted: Asked) -> tuple[store.Page, dict[str, int]]:
    """The page of hits and the counts per kind ({} and nothing when the query asks for nothing)."""
    match = search_match(wanted.q)
    if match is None:
        return store.Page([], {}, False, None), {}
    kinds = store.KINDS if wanted.kind == "all" else (wanted.kind,)
    db = app_state(request).db
    page = await store.search(db, match, wanted.filters, kinds, PER_PAGE, wanted.offset, wanted.before)
    counts = page.counts
    if wanted.kind != "all":  # the tabs show every kind's count
        others = tuple(k for k in store.KINDS if k != wanted.kind)
        counts = await store.count(db, match, wanted.filters, others) | counts
    return page, counts


def next_query(wanted: Asked, page: store.Page) -> str:
    """The query of the next page ("" when there is none): the same window further on, else an older one."""
    if page.more and wanted.offset + PER_PAGE <= MAX_OFFSET:
        return wanted.query(offset=wanted.offset + PER_PAGE, before=wanted.before)
    if page.older_before:
        return wanted.query(before=page.older_before)
    return ""


def tabs(wanted: Asked, counts: dict[str, int]) -> list[Tab]:
    """All, then each kind, with their counts (a count at the cap reads "10,000+")."""
    found = []
    for kind, label in KIND_LABELS.items():
        count = sum(counts.values()) if kind == "all" else counts.get(kind, 0)
        capped = any(n >= store.COUNT_CAP for k, n in counts.items() if kind in ("all", k))
        found.append(
            Tab(kind, label, "/search?" + wanted.query(kind=kind if kind != "all" else "", offset=None), count, capped)
        )
    return found


@get("/search", cache=False, dependencies=SEARCH)
async def search_page(request: Request[Any, Any, Any], wanted: NamedDependency[Asked]) -> Response[str]:
    """Everything that matches, best first: tickets, comments and what agents said and did."""
    page, counts = await run_search(request, wanted)
    shown = [ShownHit(h, hit_url(h), marked(h.snippet), context_url(h)) for h in page.hits]
    more = next_query(wanted, page)
    older = []
    if wanted.kind == "all" and not page.more:  # each kind with hits past its window has more to look at
        older = [
            Older(f"Older {KIND_LABELS[k].lower()}", "/search?" + wanted.query(kind=k, offset=None))
            for k in store.KINDS
            if counts.get(k, 0) > store.WINDOW
        ]
    ctx = SearchPage(
        title=f"{wanted.q} · Search" if wanted.q else "Search",
        q=wanted.q,
        kind=wanted.kind,
        agent=wanted.agent,
        ticket=wanted.ticket,
        since=wanted.since,
        until=wanted.until,
        asked=search_match(wanted.q) is not None,
        hits=shown,
        tabs=tabs(wanted, counts),
        next_url=f"/search?{more}" if more else "",
        older=older,
        window=store.WINDOW,
        agents=await sessions_store.agents(app_state(request).db),
        filtered=bool(wanted.agent or wanted.ticket or wanted.since or wanted.until),
    )
    response = render(request, "templates/page.html", "fragments/search/results.html", ctx)
    # The address bar shows the search as a person would write it (a form would add every empty field).
    query = wanted.query(offset=wanted.offset or None, before=wanted.before)
    response.headers["HX-Push-Url"] = f"/search?{query}" if query else "/search"
    return response


@get("/api/v1/search", cache=False, opt=WORKER, dependencies=SEARCH, tags=["Search"])
async def search_api(request: Request[Any, Any, Any], wanted: NamedDependency[Asked]) -> ApiResults:
    """Tickets, comments and transcript messages matching `q`, best first (bm25 within the newest hits)."""
    page, counts = await run_search(request, wanted)
    more = next_query(wanted, page)
    return ApiResults(wanted.q, [api_hit(h) for h in page.hits], counts, f"/api/v1/search?{more}" if more else None)


def api_hit(hit: store.Hit) -> ApiHit:
    """A hit as the API gives it."""
    text, spans = highlighted(hit.snippet)
    message = hit.kind in ("message", "event")
    return ApiHit(
        kind=hit.kind,
        url=hit_url(hit),
        rank=hit.rank,
        at=hit.at,
        title=hit.title,
        snippet=text,
        highlights=spans,
        ticket=hit.ticket,
        comment_id=hit.id if hit.kind == "comment" else None,
        session_id=hit.session_id,
        seq=hit.seq,
        agent=hit.who if message else None,
        role=hit.role if message else None,
        tool=hit.tool,
    )


ROUTES = [search_page, search_api]

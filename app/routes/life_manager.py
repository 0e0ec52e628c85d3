"""Life Manager: /life-manager (what the WhatsApp and e-mail scanners found, by urgency and source, with done,
snooze, dismiss and "make a ticket"), POST /api/v1/life-manager/scans for the scanners, and
GET /api/v1/life-manager/items."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

import msgspec
from litestar import Request, Response, get, post
from litestar.exceptions import HTTPException, NotFoundException
from litestar.params import JSONBody, Parameter, URLEncodedBody
from litestar.response import Redirect

from app.apierrors import JSON_ERRORS
from app.auth import WORKER
from app.frame import frame_for
from app.htmx import html_response, refuse, render_text, spoken_note, wants_fragment
from app.kept_pages import keep, view_key
from app.openapi import refusals
from app.params import MAX_ID
from app.state import app_state
from app.store import life_manager as store
from app.streams import NO_COMPRESSION
from app.templates import render_html

PAGE = "templates/page.html"
FRAGMENT = "fragments/life_manager/page.html"
ITEMS = "fragments/life_manager/items.html"
TABS = "fragments/life_manager/tabs.html"
SHOWN = 500  # items on the page at most (the API pages further with `limit`)
Show = Literal["open", "snoozed", "done", "dismissed", "all"]
SourceParam = Annotated[str | None, Parameter(max_length=40, description="Only this source (whatsapp, email …)")]
UrgencyParam = Annotated[store.Urgency | None, Parameter(description="Only this urgency")]
ShowParam = Annotated[Show, Parameter(description="Items in this state (a snooze whose day has come is open)")]
ItemId = Annotated[int, Parameter(ge=1, le=MAX_ID, description="The item's id")]
URGENCY_LABELS = {"urgent": "Urgent", "high": "High", "normal": "Normal", "low": "Low"}
SOURCE_LABELS = {"whatsapp": "WhatsApp", "email": "E-mail", "e-mail": "E-mail", "gmail": "Gmail", "sms": "SMS"}
STATE_LABELS = {"open": "Open", "snoozed": "Snoozed", "done": "Done", "dismissed": "Dismissed"}


class SourceGroup(msgspec.Struct, frozen=True):
    """One source's items within an urgency."""

    source: str
    label: str
    items: list[store.Item]


class UrgencyGroup(msgspec.Struct, frozen=True):
    """The items of one urgency, by source."""

    urgency: str
    label: str
    count: int
    sources: list[SourceGroup]


class StateTab(msgspec.Struct, frozen=True):
    """A state the page can show, with how many items are in it and the address that shows it."""

    show: str
    label: str
    count: int | None
    url: str


class LifePage(msgspec.Struct, frozen=True):
    """Context of /life-manager and its items fragment."""

    title: str
    groups: list[UrgencyGroup]
    shown: int
    more: bool  # more items match than the page shows
    sources: list[store.Source]
    source_labels: dict[str, str]
    dues: dict[int, str]  # each shown item's due date in words ("due tomorrow")
    source: str
    urgency: str
    show: str
    tabs: list[StateTab]
    query: str  # the filters, for the actions' addresses (each answers with the page as filtered)
    filtered: bool
    today: str
    tomorrow: str
    api_url: str


class ItemList(msgspec.Struct, frozen=True):
    """Items under the filters, most urgent first, and each source's last scan."""

    items: list[store.Item]
    sources: list[store.Source]


class SnoozeForm(msgspec.Struct, frozen=True):
    """What the snooze forms post: "tomorrow", or a date."""

    until: str = ""


def source_label(source: str) -> str:
    """How a source's name reads (WhatsApp, E-mail); an unknown one as it was posted."""
    return SOURCE_LABELS.get(source.lower(), source)


def due_label(due: str, today: date) -> str:
    """A due date as a person reads it against today: "overdue since 28 Nov", "due today", "due Fri 5 Dec"."""
    day = date.fromisoformat(due)
    if day < today:
        return f"overdue since {day.day} {day:%b}"
    if day == today:
        return "due today"
    if day == today + timedelta(days=1):
        return "due tomorrow"
    return f"due {day:%a} {day.day} {day:%b}" + (f" {day.year}" if day.year != today.year else "")


def group_items(items: list[store.Item]) -> list[UrgencyGroup]:
    """Items (sorted by urgency, then source) as urgency groups, most urgent first, each by source."""
    groups = []
    for urgency in store.URGENCIES:
        mine = [i for i in items if i.urgency == urgency]
        by_source: dict[str, list[store.Item]] = {}
        for item in mine:
            by_source.setdefault(item.source, []).append(item)
        if mine:
            sources = [SourceGroup(s, source_label(s), found) for s, found in by_source.items()]
            groups.append(UrgencyGroup(urgency, URGENCY_LABELS[urgency], len(mine), sources))
    return groups


def filter_of(source: str | None, urgency: str | None, show: str) -> store.ItemFilter:
    """The filters as the store takes them (a blank source is any source)."""
    return store.ItemFilter((source or "").strip() or None, urgency or None, show)


def query_of(only: store.ItemFilter, **change: str) -> str:
    """The filters as a query string (the default state left out), with `change` applied."""
    values = {"source": only.source or "", "urgency": only.urgency or "", "show": only.show, **change}
    return urlencode({k: v for k, v in values.items() if v and not (k == "show" and v == "open")})


async def build_page(request: Request[Any, Any, Any], only: store.ItemFilter) -> LifePage:
    """The page's context as the database has it now."""
    mc = app_state(request)
    today = store.today()
    items = await store.list_items(mc.db, only, SHOWN + 1, today)
    counts = await store.count_states(mc.db, only, today)
    sources = await store.list_sources(mc.db)
    tabs = [StateTab(s, STATE_LABELS[s], counts[s], "/life-manager?" + query_of(only, show=s)) for s in store.STATES]
    tabs.append(StateTab("all", "All", None, "/life-manager?" + query_of(only, show="all")))
    shown = items[:SHOWN]
    return LifePage(
        title="Life Manager",
        groups=group_items(shown),
        shown=len(shown),
        more=len(items) > SHOWN,
        sources=sources,
        source_labels={s.source: source_label(s.source) for s in sources},
        dues={i.id: due_label(i.due, today) for i in shown if i.due},
        source=only.source or "",
        urgency=only.urgency or "",
        show=only.show,
        tabs=tabs,
        query=query_of(only),
        filtered=bool(only.source or only.urgency),
        today=today.isoformat(),
        tomorrow=(today + timedelta(days=1)).isoformat(),
        api_url=mc.settings.base_url + "/api/v1/life-manager/scans",
    )


@get("/life-manager", cache=False, opt={NO_COMPRESSION: True})  # kept gzipped: app/kept_pages.py
async def life_manager_page(
    request: Request[Any, Any, Any], source: SourceParam = None, urgency: UrgencyParam = None, show: ShowParam = "open"
) -> Response[bytes]:
    """What the scanners found, most urgent first, by source; filtered in the URL. Kept, rendered, while nothing
    is written and the day is the same (snoozes end and due dates read by the day)."""
    mc = app_state(request)
    only = filter_of(source, urgency, show)

    async def build() -> str:
        return render_text(request, PAGE, FRAGMENT, await build_page(request, only))

    return await keep(mc.ops_pages, request, view_key(request, mc.db.generation, store.today()), build)


async def answer_action(
    request: Request[Any, Any, Any], only: store.ItemFilter, item_id: int, said: str
) -> Response[Any]:
    """After an action: for htmx the items as filtered now and the states' counts, with `said` for screen readers;
    else back to the page."""
    if not wants_fragment(request):
        query = query_of(only)
        return Redirect(path=f"/life-manager{'?' + query if query else ''}#life-item-{item_id}", status_code=303)
    ctx = await build_page(request, only)
    html = render_html(ITEMS, ctx=ctx, frame=frame_for(request)) + render_html(TABS, ctx=ctx, oob=True)
    return html_response(html + spoken_note("life-note", said, polite=True))


async def change_state(request: Request[Any, Any, Any], item_id: int, state: str, until: str | None = None) -> None:
    """Set an item's state, or a 404 that names it."""
    if not await store.set_state(app_state(request).db, item_id, state, until):
        raise NotFoundException(f"There is no Life Manager item {item_id}.")


@post("/life-manager/items/{item_id:int}/done")
async def mark_done(
    request: Request[Any, Any, Any], item_id: ItemId, source: SourceParam = None, urgency: UrgencyParam = None,
    show: ShowParam = "open",
) -> Response[Any]:  # fmt: skip
    """A person has dealt with the item."""
    await change_state(request, item_id, "done")
    return await answer_action(request, filter_of(source, urgency, show), item_id, "Marked done.")


@post("/life-manager/items/{item_id:int}/dismiss")
async def dismiss_item(
    request: Request[Any, Any, Any], item_id: ItemId, source: SourceParam = None, urgency: UrgencyParam = None,
    show: ShowParam = "open",
) -> Response[Any]:  # fmt: skip
    """The item needs nothing: out of the list (kept, under Dismissed)."""
    await change_state(request, item_id, "dismissed")
    return await answer_action(request, filter_of(source, urgency, show), item_id, "Dismissed.")


@post("/life-manager/items/{item_id:int}/reopen")
async def reopen_item(
    request: Request[Any, Any, Any], item_id: ItemId, source: SourceParam = None, urgency: UrgencyParam = None,
    show: ShowParam = "open",
) -> Response[Any]:  # fmt: skip
    """Back to open: a done or dismissed item taken back, or a snooze ended early."""
    await change_state(request, item_id, "open")
    return await answer_action(request, filter_of(source, urgency, show), item_id, "Open again.")


@post("/life-manager/items/{item_id:int}/snooze")
async def snooze_item(
    request: Request[Any, Any, Any], item_id: ItemId, data: URLEncodedBody[SnoozeForm], source: SourceParam = None,
    urgency: UrgencyParam = None, show: ShowParam = "open",
) -> Response[Any]:  # fmt: skip
    """Out of the open list until a day ("tomorrow", or a date after today); then open again by itself."""
    until = store.snooze_day(data.until.strip())
    if until is None:
        return refuse(400, "Pick a day after today to snooze until (or Tomorrow).")
    await change_state(request, item_id, "snoozed", until)
    return await answer_action(request, filter_of(source, urgency, show), item_id, f"Snoozed until {until}.")


@post("/life-manager/items/{item_id:int}/ticket")
async def make_ticket(
    request: Request[Any, Any, Any], item_id: ItemId, source: SourceParam = None, urgency: UrgencyParam = None,
    show: ShowParam = "open",
) -> Response[Any]:  # fmt: skip
    """Turn the item into a ticket (the item quoted, linked back); the item then links to it. Once: a second
    click answers the ticket it already has."""
    mc = app_state(request)
    item = await store.get_item(mc.db, item_id)
    if item is None:
        raise NotFoundException(f"There is no Life Manager item {item_id}.")
    ticket = item.ticket
    if ticket is None:
        back = f"/life-manager?{query_of(store.ItemFilter(item.source), show='all')}#life-item-{item.id}"
        ticket = await store.make_ticket(mc.db, mc.settings.ticket_prefix, item, back)
    return await answer_action(request, filter_of(source, urgency, show), item_id, f"Ticket {ticket} made.")


@post(
    "/api/v1/life-manager/scans", opt=WORKER, status_code=200, tags=["Life Manager"],
    responses=refusals({422: "An item id is in the scan twice"}), exception_handlers=JSON_ERRORS,
)  # fmt: skip
async def post_scan(request: Request[Any, Any, Any], data: JSONBody[store.Scan]) -> store.ScanStored:
    """A scanner's results: new item ids are added, known ones (per source) updated; what a person did with an
    item (done, snoozed, dismissed, its ticket) stays. A scan older than the last one to report an item leaves
    that item as it is."""
    try:
        return await store.record_scan(app_state(request).db, data)
    except store.ScanRefused as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None


@get("/api/v1/life-manager/items", cache=False, opt=WORKER, tags=["Life Manager"])
async def list_items(
    request: Request[Any, Any, Any], source: SourceParam = None, urgency: UrgencyParam = None,
    show: ShowParam = "open", limit: Annotated[int, Parameter(ge=1, le=1000, description="How many")] = 200,
) -> ItemList:  # fmt: skip
    """Items under the filters, most urgent first (then by source, the nearest due date, the newest)."""
    db = app_state(request).db
    return ItemList(await store.list_items(db, filter_of(source, urgency, show), limit), await store.list_sources(db))


ROUTES = [life_manager_page, mark_done, dismiss_item, reopen_item, snooze_item, make_ticket, post_scan, list_items]

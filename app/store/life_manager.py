"""Life Manager: the scans the WhatsApp and e-mail scanners post, and what a person does with each item
(sql/life_manager.sql). The scan's shape is declared here, once: the API decodes into it and `mc demo` builds it."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Annotated, Literal, get_args

import msgspec

from app.clock import stamp, utcnow
from app.db import Database
from app.params import DATE, MOMENT, parse_moment
from app.rules import NO_NUL, NOT_BLANK
from app.store import as_json, queries, run_once, structs_once, to_struct
from app.store import tickets as ticket_store

Urgency = Literal["low", "normal", "high", "urgent"]
URGENCIES: tuple[str, ...] = tuple(reversed(get_args(Urgency)))  # most urgent first, as the page groups them
State = Literal["open", "snoozed", "done", "dismissed"]
STATES: tuple[str, ...] = get_args(State)
MAX_ITEMS = 500  # per scan: a scanner with more posts several scans
PRIORITY_OF = {"urgent": 1, "high": 2, "normal": 3, "low": 4}  # an item's urgency as its ticket's priority

Moment = Annotated[
    str, msgspec.Meta(pattern=MOMENT, extra_json_schema={"format": "date-time"}, description="2026-12-01T08:30:00Z")
]
Day = Annotated[str, msgspec.Meta(pattern=DATE, extra_json_schema={"format": "date"}, description="2026-12-01")]


# The fields' rules, stated once for the decoder and the OpenAPI document.
ItemKey = Annotated[
    str, msgspec.Meta(min_length=1, max_length=200, pattern=NOT_BLANK, description="Unique within its source")
]
Sender = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=NOT_BLANK, description="Who sent it")]
Subject = Annotated[str, msgspec.Meta(max_length=300, pattern=NO_NUL, description="A chat message may have none")]
Snippet = Annotated[str, msgspec.Meta(max_length=2000, pattern=NO_NUL, description="A short excerpt")]
Action = Annotated[str, msgspec.Meta(max_length=500, pattern=NO_NUL, description="What the scanner suggests")]
SourceName = Annotated[
    str, msgspec.Meta(min_length=1, max_length=40, pattern=NOT_BLANK, description="whatsapp, email …")
]


class ScanItem(msgspec.Struct, frozen=True):
    """One message the scanner thinks needs attention."""

    id: ItemKey
    sender: Sender
    received_at: Moment
    urgency: Urgency
    subject: Subject = ""
    snippet: Snippet = ""
    suggested_action: Action = ""
    due: Day | None = None


class Scan(msgspec.Struct, frozen=True):
    """What one scan of one source found."""

    source: SourceName
    scanned_at: Moment
    items: Annotated[list[ScanItem], msgspec.Meta(max_length=MAX_ITEMS, description=f"At most {MAX_ITEMS}")]


class ScanStored(msgspec.Struct, frozen=True):
    """What a scan changed: new items, items updated, and items an older scan than the last left alone."""

    source: str
    scanned_at: str
    items: int
    created: int
    updated: int
    unchanged: int


class Item(msgspec.Struct, frozen=True):
    """An item as the page and the API show it (`state`: a snooze whose day has come reads open)."""

    id: int
    source: str
    item_key: str
    sender: str
    subject: str
    snippet: str
    received_at: str
    urgency: str
    suggested_action: str
    due: str | None
    scanned_at: str
    first_seen_at: str
    updated_at: str
    state: str
    snoozed_until: str | None
    state_changed_at: str | None
    ticket: str | None  # its ticket's identifier, once it has one


class Source(msgspec.Struct, frozen=True):
    """A source's last scan."""

    source: str
    scanned_at: str
    items: int
    reported_at: str


class ItemFilter(msgspec.Struct, frozen=True):
    """Which items to list: one source and urgency, or any (None); a state, or all."""

    source: str | None = None
    urgency: str | None = None
    show: str = "open"


class ScanRefused(ValueError):
    """A scan that is well formed but cannot be stored as it is (an id twice); the message says which."""


def today() -> date:
    """The day snoozes are counted against (UTC, as every stored time is)."""
    return utcnow().date()


async def record_scan(db: Database, scan: Scan, now: datetime | None = None) -> ScanStored:
    """Store a scan in one transaction: new ids added, known ids updated (never what a person did with them)."""
    seen: set[str] = set()
    for n, item in enumerate(scan.items):
        if item.id in seen:
            raise ScanRefused(f"items[{n}].id: {item.id!r} is in this scan twice; each item once")
        seen.add(item.id)
    rows = [
        [i.id, i.sender, i.subject, i.snippet, stamp(parse_moment(i.received_at, f"items[{n}].received_at")),
         i.urgency, i.suggested_action, i.due]
        for n, i in enumerate(scan.items)
    ]  # fmt: skip
    scanned_at, stamped = stamp(parse_moment(scan.scanned_at, "scanned_at")), stamp(now)
    async with db.write() as conn:
        known = int(await queries.life_manager_known(conn, source=scan.source, keys=as_json(sorted(seen))))
        written = await run_once(
            conn, queries.life_manager_upsert_items,
            source=scan.source, scanned_at=scanned_at, now=stamped, items=as_json(rows),
        )  # fmt: skip
        await queries.life_manager_record_source(
            conn, source=scan.source, scanned_at=scanned_at, items=len(rows), now=stamped
        )
    created = len(rows) - known
    updated = len(written) - created  # the rows it wrote that were there before
    return ScanStored(scan.source, scanned_at, len(rows), created, updated, known - updated)


async def list_items(db: Database, only: ItemFilter, limit: int, day: date | None = None) -> list[Item]:
    """Items under the filter, most urgent first."""
    async with db.read() as conn:
        return await structs_once(
            Item, conn, queries.life_manager_items,
            today=(day or today()).isoformat(), source=only.source, urgency=only.urgency, show=only.show, limit=limit,
        )  # fmt: skip


async def count_states(db: Database, only: ItemFilter, day: date | None = None) -> dict[str, int]:
    """How many items are in each state under the filter's source and urgency."""
    async with db.read() as conn:
        rows = await run_once(
            conn, queries.life_manager_counts,
            today=(day or today()).isoformat(), source=only.source, urgency=only.urgency,
        )  # fmt: skip
    counts = dict.fromkeys(STATES, 0)
    counts.update({row["state"]: row["n"] for row in rows})
    return counts


async def list_sources(db: Database) -> list[Source]:
    """Every source that has posted a scan, with its last one."""
    async with db.read() as conn:
        return await structs_once(Source, conn, queries.life_manager_sources)


async def get_item(db: Database, item_id: int, day: date | None = None) -> Item | None:
    """One item, or None."""
    async with db.read() as conn:
        row = await queries.life_manager_get(conn, id=item_id, today=(day or today()).isoformat())
    return to_struct(Item, row)


async def set_state(db: Database, item_id: int, state: str, snoozed_until: str | None = None) -> bool:
    """A person's done, snooze (until a day), dismiss or reopen; False when there is no such item."""
    async with db.write() as conn:
        rows = await run_once(
            conn, queries.life_manager_set_state, id=item_id, state=state, snoozed_until=snoozed_until, now=stamp()
        )
    return bool(rows)


def snooze_day(until: str, day: date | None = None) -> str | None:
    """The day a snooze ends: "tomorrow", or a date after today as YYYY-MM-DD; None when it is neither."""
    start = day or today()
    if until == "tomorrow":
        return (start + timedelta(days=1)).isoformat()
    if not re.fullmatch(DATE, until):
        return None
    return until if date.fromisoformat(until) > start else None


def ticket_text(item: Item, back: str) -> tuple[str, str]:
    """A ticket's title and description for an item: the item quoted, and a link back to it at `back`."""
    first = item.subject.strip() or item.snippet.strip().split("\n", 1)[0] or f"Message from {item.sender}"
    title = first if len(first) <= 120 else first[:119] + "…"
    received = item.received_at[:16].replace("T", " ")
    quote = [f"**{_plain(item.subject)}**", ""] if item.subject.strip() else []
    quote += item.snippet.strip().splitlines()
    lines = [f"From **{_plain(item.sender)}** via {_plain(item.source)}, received {received} UTC.", ""]
    if quote:
        lines += [f"> {line}".rstrip() for line in quote] + [""]
    if item.suggested_action.strip():
        lines += [f"Suggested: {_plain(item.suggested_action)}", ""]
    if item.due:
        lines += [f"Due {item.due}.", ""]
    lines.append(f"From [Life Manager]({back}).")
    return title, "\n".join(lines)


def _plain(text: str) -> str:
    """Text for one line of markdown: no line breaks, and no markup of its own."""
    flat = " ".join(text.split())
    return "".join("\\" + ch if ch in "\\`*_[]<>#|" else ch for ch in flat)


async def make_ticket(db: Database, prefix: str, item: Item, back: str) -> str:
    """The item's ticket: made through the ticket store and linked to the item; if another request linked one
    first (two clicks at once), the one made here is deleted and the other's is answered."""
    title, description = ticket_text(item, back)
    identifier = await ticket_store.create_ticket(
        db, prefix, title, description, priority=PRIORITY_OF.get(item.urgency, 3), tags=["life-manager"]
    )
    made = await ticket_store.get_ticket(db, identifier)
    assert made is not None  # just written, by this one writer
    ticket_id = made.id
    async with db.write() as conn:
        linked = await run_once(conn, queries.life_manager_link_ticket, id=item.id, ticket_id=ticket_id)
    if linked:
        return identifier
    await ticket_store.delete_ticket(db, ticket_id)
    current = await get_item(db, item.id)
    return current.ticket if current and current.ticket else identifier

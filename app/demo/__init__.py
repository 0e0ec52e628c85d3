"""Demo data for `mc demo`: a few believable months of Luci, Lucienne and their workers, from one seed.

Everything is generated in memory from `random.Random(seed)` (demo data, not secrets, so the stdlib
generator is the right tool), then written in one transaction with executemany queries from sql/demo.sql.
Only the times depend on the clock: they are laid out backwards from "now".

The package: `text` holds the words and numbers, `core` the shared random stream, clock and tickets,
and `tickets`, `transcripts` and `ops` build the rows of their tables; `_Demo` puts them together.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime

import msgspec

from app.db import Database
from app.demo.core import Row
from app.demo.f1 import fill_f1
from app.demo.life import fill_life
from app.demo.ops import OpsRows
from app.demo.tickets import TicketRows
from app.demo.transcripts import TranscriptRows
from app.store import queries

__all__ = ["DemoError", "DemoSummary", "fill_demo"]


class DemoError(Exception):
    """The demo cannot be filled in; the message is one line a person can act on."""


class DemoSummary(msgspec.Struct, frozen=True):
    """How many rows the demo put in each table."""

    tickets: int
    ticket_tags: int
    ticket_comments: int
    ticket_events: int
    worker_activity: int
    ticket_relationships: int
    ticket_context: int
    sessions: int
    sessions_index: int
    queued_messages: int
    task_runs: int
    heartbeats: int
    vk_sync: int
    life_items: int = 0  # through the Life Manager scans' store function
    f1_entries: int = 0  # through the F1 Predictor's store functions


# Table -> the executemany query that fills it, in foreign-key order.
INSERTS = {
    "tickets": "demo_insert_tickets",
    "ticket_tags": "demo_insert_tags",
    "ticket_comments": "demo_insert_comments",
    "ticket_events": "demo_insert_events",
    "worker_activity": "demo_insert_worker_activity",
    "ticket_relationships": "demo_insert_relationships",
    "ticket_context": "demo_insert_context",
    "sessions": "demo_insert_sessions",
    "sessions_index": "demo_insert_session_turns",
    "queued_messages": "demo_insert_queued_messages",
    "task_runs": "demo_insert_task_runs",
    "heartbeats": "demo_insert_heartbeats",
    "vk_sync": "demo_insert_vk_sync",
}


class _Demo(TicketRows, TranscriptRows, OpsRows):
    """The generator: one random stream, one clock, rows per table."""

    def build(self) -> dict[str, list[Row]]:
        """Every table's rows, keyed like INSERTS and in the same (foreign-key) order."""
        tables = {"tickets": self.make_tickets(), "ticket_tags": self.make_tags()}
        tables["ticket_comments"] = self.make_comments()
        tables["ticket_events"] = self.make_events()
        tables["worker_activity"] = self.make_worker_activity(tables["ticket_events"])
        tables["ticket_relationships"] = self.make_relationships()
        tables["ticket_context"] = self.make_context()
        tables["sessions"], tables["sessions_index"] = self.make_sessions()
        tables["queued_messages"] = self.make_queue()
        tables["task_runs"] = self.make_task_runs()
        tables["heartbeats"] = self.make_heartbeats()
        tables["vk_sync"] = self.make_vk_sync()
        return tables


async def fill_demo(db: Database, prefix: str, seed: int = 7, *, now: datetime | None = None) -> DemoSummary:
    """Fill an empty database with demo data: its tables in one transaction, then Life Manager and F1 as their
    producers post; raise DemoError if it has tickets, scans or races."""
    rng = random.Random(seed)  # noqa: S311 - demo data, not secrets
    tables = _Demo(rng, now or datetime.now(UTC), prefix).build()
    async with db.write() as conn:
        existing = int(await queries.demo_count_tickets(conn))
        if existing:
            has = f"{existing} ticket" if existing == 1 else f"{existing} tickets"
            raise DemoError(f"the database already has {has}; mc demo fills only an empty database")
        if int(await queries.life_manager_count(conn)) or int(await queries.f1_count_races(conn)):
            raise DemoError("the database already has Life Manager or F1 data; mc demo fills only an empty database")
        for table, query in INSERTS.items():
            await getattr(queries, query)(conn, tables[table])
        await queries.demo_index_sessions(conn)
    # Life Manager and F1 go in as their producers' posts would, through the store functions the APIs use.
    moment = now or datetime.now(UTC)
    life = await fill_life(db, prefix, moment)
    f1 = await fill_f1(db, random.Random(seed), moment)  # noqa: S311 - demo data, not secrets
    return DemoSummary(**{table: len(tables[table]) for table in INSERTS}, life_items=life, f1_entries=f1)

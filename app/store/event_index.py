"""Agents' events indexed for search, a batch at a time (sql/event_index.sql)."""

from __future__ import annotations

from collections.abc import Callable

from app.db import Database
from app.store import queries, run_once

BATCH = 2000  # events a transaction: enough to catch up fast, short enough not to hold back posted events
BUSY_BATCH = 200  # while events are pouring in: one such batch a round, so posting keeps the writer


async def index_batch(db: Database, batch: int = BATCH) -> int:
    """Index the next `batch` events not indexed yet; return how many were read (0: caught up).

    Progress is read and saved in the same write transaction, so processes that all run the indexer never index
    an event twice."""
    async with db.write() as conn:
        rows = await run_once(conn, queries.event_index_next, batch=batch)
        if not rows or rows[0]["upto"] is None:
            return 0
        after, upto = rows[0]["after"], rows[0]["upto"]
        await run_once(conn, queries.event_index_add, after=after, upto=upto)
        await run_once(conn, queries.event_index_fts, after=after, upto=upto)
        await run_once(conn, queries.event_index_hours, after=after, upto=upto)
        await run_once(conn, queries.event_index_done, upto=upto)
    return int(upto - after)


async def behind(db: Database) -> bool:
    """Whether events were posted since the last batch (a read: the writer is not taken for nothing)."""
    async with db.read() as conn:
        rows = await run_once(conn, queries.event_index_behind)
    return bool(rows and rows[0][0])


async def catch_up(db: Database, busy: Callable[[], bool] = lambda: False) -> int:
    """Index every event not indexed yet, or while `busy()` only one small batch; return how many ids were passed.

    A burst of posted events is indexed after it (a trickle, as a worker streams its run, keeps up at once)."""
    if not await behind(db):
        return 0
    if busy():
        return await index_batch(db, BUSY_BATCH)
    total = 0
    while passed := await index_batch(db):
        total += passed
        if busy():
            break
    return total

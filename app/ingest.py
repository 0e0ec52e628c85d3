"""Worker events in: group commit through the single writer, gap-free seqs, idempotent retries.

Each POST puts its events on a queue and waits. One task takes everything waiting and commits it in one
transaction (one fsync with synchronous=FULL), so durability costs a fraction of what a commit per event
would. Seqs come from the ticket's last seq inside that BEGIN IMMEDIATE transaction, under the process-wide
write lock, so they are gap-free and unique however many posters and processes there are.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import msgspec

from app.db import Database
from app.live import CommittedEvent, stamp, stop_task
from app.store import queries, to_structs

log = logging.getLogger("mc.ingest")

MAX_BATCH = 2000  # events in one transaction; more waiting go in the next one


class IncomingEvent(msgspec.Struct, frozen=True):
    """One stream-json event as posted: its type, the whole object as JSON, and the agent's uuid if any."""

    event_type: str
    payload_json: str
    uuid: str | None = None


class TicketGone(Exception):
    """The ticket was deleted before its events were committed."""


@dataclass
class _Post:
    ticket_id: int
    events: list[IncomingEvent]
    key: str | None
    done: asyncio.Future[tuple[list[int], bool]] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class _Seqs(msgspec.Struct, frozen=True):
    ticket_id: int
    seq: int


class _Known(msgspec.Struct, frozen=True):
    ticket_id: int
    uuid: str
    seq: int


class _KnownKey(msgspec.Struct, frozen=True):
    ticket_id: int
    key: str
    seqs: str


class EventWriter:
    """Takes posted events, commits them in batches, hands what was committed to `publish` after commit."""

    def __init__(self, db: Database, publish: Callable[[list[CommittedEvent]], None]) -> None:
        self.db = db
        self.publish = publish
        self._waiting: asyncio.Queue[_Post] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start the writer task."""
        self._task = asyncio.create_task(self._run(), name="mc-event-writer")

    async def stop(self) -> None:
        """Commit what is waiting, then stop."""
        await stop_task(self._task)
        self._task = None
        if not self._waiting.empty():
            await self._commit(self._drain())

    async def submit(self, ticket_id: int, events: list[IncomingEvent], key: str | None) -> tuple[list[int], bool]:
        """Store `events` for a ticket; return their seqs (the first ones' for a repeat) and whether any is new."""
        post = _Post(ticket_id, events, key)
        self._waiting.put_nowait(post)
        return await post.done

    def _drain(self) -> list[_Post]:
        batch, count = [], 0
        while not self._waiting.empty() and count < MAX_BATCH:
            post = self._waiting.get_nowait()
            batch.append(post)
            count += len(post.events)
        return batch

    async def _run(self) -> None:
        while True:
            first = await self._waiting.get()
            self._waiting.put_nowait(first)  # back in line, so the batch keeps arrival order
            batch = self._drain()
            try:
                await self._commit(batch)
            except Exception as exc:  # the posts learn of it; the writer carries on with the next batch
                log.exception("event batch of %d posts failed", len(batch))
                for post in batch:
                    if not post.done.done():
                        post.done.set_exception(exc)

    async def _commit(self, batch: list[_Post]) -> None:
        answers: dict[int, tuple[list[int], bool]] = {}
        rows: list[dict[str, Any]] = []
        async with self.db.write() as conn:
            tickets = json.dumps(sorted({p.ticket_id for p in batch}))
            alive = {row["id"] async for row in queries.events_ticket_ids(conn, ids=tickets)}
            last = {s.ticket_id: s.seq for s in await to_structs(_Seqs, queries.events_last_seqs(conn, ids=tickets))}
            known = await self._known_uuids(conn, batch)
            keys = await self._known_keys(conn, batch)
            new_keys: list[dict[str, Any]] = []
            now = stamp()
            for index, post in enumerate(batch):
                if post.ticket_id not in alive:
                    continue
                if post.key and (post.ticket_id, post.key) in keys:
                    answers[index] = (keys[(post.ticket_id, post.key)], False)
                    continue
                seqs, fresh = [], False
                for event in post.events:
                    seen = known.get((post.ticket_id, event.uuid)) if event.uuid else None
                    if seen is None:
                        seen = last.get(post.ticket_id, 0) + 1
                        last[post.ticket_id] = seen
                        fresh = True
                        if event.uuid:
                            known[(post.ticket_id, event.uuid)] = seen
                        rows.append({"ticket_id": post.ticket_id, "seq": seen, "event_type": event.event_type,
                                     "payload_json": event.payload_json, "uuid": event.uuid, "ts": now})  # fmt: skip
                    seqs.append(seen)
                answers[index] = (seqs, fresh)
                if post.key:
                    keys[(post.ticket_id, post.key)] = seqs
                    new_keys.append({"ticket_id": post.ticket_id, "key": post.key, "seqs": json.dumps(seqs)})
            if rows:
                await queries.events_insert(conn, rows)
            if new_keys:
                await queries.events_insert_keys(conn, new_keys)
            first_rowid = await self._first_rowid(conn, len(rows))
        # Committed: only now do the posters hear back, and only now do streams see the events.
        for index, post in enumerate(batch):
            if index in answers:
                post.done.set_result(answers[index])
            else:
                post.done.set_exception(TicketGone(post.ticket_id))
        committed = [
            CommittedEvent(first_rowid + i, r["ticket_id"], r["seq"], r["event_type"], r["payload_json"], r["ts"])
            for i, r in enumerate(rows)
        ]
        self.publish(committed)

    @staticmethod
    async def _first_rowid(conn: Any, count: int) -> int:
        # One executemany of `count` rows in our own write transaction took consecutive rowids ending at
        # last_insert_rowid(): no other connection can write in between.
        if not count:
            return 0
        return int(await queries.events_last_insert_rowid(conn)) - count + 1

    @staticmethod
    async def _known_uuids(conn: Any, batch: list[_Post]) -> dict[tuple[int, str | None], int]:
        pairs = [[p.ticket_id, e.uuid] for p in batch for e in p.events if e.uuid]
        if not pairs:
            return {}
        rows = await to_structs(_Known, queries.events_known_uuids(conn, pairs=json.dumps(pairs)))
        return {(k.ticket_id, k.uuid): k.seq for k in rows}

    @staticmethod
    async def _known_keys(conn: Any, batch: list[_Post]) -> dict[tuple[int, str], list[int]]:
        pairs = [[p.ticket_id, p.key] for p in batch if p.key]
        if not pairs:
            return {}
        rows = await to_structs(_KnownKey, queries.events_known_keys(conn, pairs=json.dumps(pairs)))
        return {(k.ticket_id, k.key): json.loads(k.seqs) for k in rows}

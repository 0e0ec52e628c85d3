"""Worker events in: group commit through the single writer, gap-free seqs, idempotent retries.

Each POST puts its events on a queue and waits. One task takes everything waiting and writes it with one
statement, then what arrived meanwhile with another (a few rounds at most), and commits them in one
transaction (one fsync with synchronous=FULL), so durability costs a fraction of what a commit per event
would. Seqs come from the ticket's last seq inside that BEGIN IMMEDIATE transaction, under the process-wide
write lock, so they are gap-free and unique however many posters and processes there are.

Every trip to SQLite's thread waits for the event loop (and the GIL) to come back to the writer, so a batch
makes as few as it can: the writer remembers each ticket's last seq and the table's last rowid from its
previous batch, and one statement inserts the batch only if that is still so (and no uuid or
Idempotency-Key in it is already stored). When anything else was written in between (another process, a
deleted ticket, a retry), that statement inserts nothing and the batch reads the current state and goes the
long way.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import msgspec

from app.background import stop_task
from app.clock import stamp
from app.db import Database
from app.store import ingest as store
from app.store import sessions
from app.store.events import WorkerEvent

log = logging.getLogger("mc.ingest")

MAX_BATCH = 2000  # events in one statement; more waiting go in the next one
MAX_ROUNDS = 4  # statements in one transaction, each taking what arrived during the last; then COMMIT
REMEMBERED_TICKETS = 4096  # tickets whose last seq the writer keeps between batches; past that it starts over
ANNOUNCE_S = 10.0  # a run going on is news to the board (its card's last action) at most this often
# What a worker did last on a ticket (worker_activity) is written at once when its run starts or ends, otherwise
# at most this often (a statement per batch cost a tenth of batched ingest); what waits is written by the next
# batch that writes, or on its own once the writer has been idle this long.
ACTIVITY_S = 1.0


class IncomingEvent(msgspec.Struct, frozen=True, gc=False):
    """One stream-json event as posted: its type, the whole object as JSON, and the agent's uuid if any.

    gc=False (as for the other plain rows here): strings only, never in a cycle, and a batch makes hundreds,
    which would otherwise bring on the collector's passes (each one pauses the event loop)."""

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
    worker: str | None = None
    arrived: float = field(default_factory=time.monotonic)  # a post waits for the database at most 5 s from here
    done: asyncio.Future[tuple[list[int], bool]] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class EventWriter:
    """Takes posted events, commits them in batches, hands what was committed to `publish` after commit."""

    def __init__(self, db: Database, publish: Callable[[list[WorkerEvent]], None]) -> None:
        self.db = db
        self.publish = publish
        self._waiting: asyncio.Queue[_Post] = asyncio.Queue()
        self.last_post_at = float("-inf")
        self._task: asyncio.Task[None] | None = None
        # What this writer's last batch left: each ticket's last seq, and the table's last rowid. Only a guess
        # for the next batch, checked by the statement that inserts it.
        self._last_seqs: dict[int, int] = {}
        self._last_rowid: int | None = None
        # When each (worker, ticket) run was last told to the board, and whether it had ended.
        self._announced: dict[tuple[str, int], tuple[float, bool]] = {}
        # When each (worker, ticket) pair's activity was last written, whether its run had ended; what waits.
        self._noted: dict[tuple[str, int], tuple[float, bool]] = {}
        self._unwritten: dict[tuple[str, int], tuple[str, int, int, str, str]] = {}

    def start(self) -> None:
        """Start the writer task."""
        self._task = asyncio.create_task(self._run(), name="mc-event-writer")

    async def stop(self) -> None:
        """Commit what is waiting, then stop."""
        await stop_task(self._task)
        self._task = None
        if not self._waiting.empty():
            await self._commit(self._drain())
        await self._write_activity()

    async def submit(
        self, ticket_id: int, events: list[IncomingEvent], key: str | None, worker: str | None = None
    ) -> tuple[list[int], bool]:
        """Store `events` for a ticket as posted by `worker`; return their seqs (the first ones' for a repeat)
        and whether any is new."""
        post = _Post(ticket_id, events, key, worker)
        self.last_post_at = time.monotonic()
        self._waiting.put_nowait(post)
        return await post.done

    def busy(self, within_s: float = 1.0) -> bool:
        """Whether events were posted in the last `within_s` seconds (the search indexer gives way to them)."""
        return time.monotonic() - self.last_post_at < within_s

    def _drain(self) -> list[_Post]:
        batch, count = [], 0
        while not self._waiting.empty() and count < MAX_BATCH:
            post = self._waiting.get_nowait()
            batch.append(post)
            count += len(post.events)
        return batch

    async def _run(self) -> None:
        while True:
            try:
                async with asyncio.timeout(ACTIVITY_S if self._unwritten else None):
                    first = await self._waiting.get()
            except TimeoutError:  # idle, with activity not written yet
                await self._write_activity()
                continue
            self._waiting.put_nowait(first)  # back in line, so the batch keeps arrival order
            await self._commit(self._drain())

    async def _commit(self, batch: list[_Post]) -> None:
        """Write a batch, and the posts that arrive while it is being written, in one transaction (at most
        MAX_ROUNDS statements, one fsync for all); then answer them all. If it fails, they learn why and the
        writer carries on."""
        rounds: list[tuple[list[_Post], _Plan]] = []
        taken = batch
        try:
            # The batch's oldest post sets the deadline: while another program holds the database, posts that
            # queued behind a failing batch fail with it instead of each starting a wait of its own.
            async with self.db.write(since=min(post.arrived for post in batch)) as conn:
                while True:
                    rounds.append((batch, await self._insert(conn, batch)))
                    if self._waiting.empty() or len(rounds) >= MAX_ROUNDS:
                        break
                    batch = self._drain()
                    taken = [*taken, *batch]
        except BaseException as exc:  # rolled back (or the writer was cancelled): its posters learn why
            self._last_rowid = None  # what its rounds remembered may not be so
            reason = exc if isinstance(exc, Exception) else RuntimeError("the event writer stopped")
            for post in taken:
                if not post.done.done():
                    post.done.set_exception(reason)
            if reason is not exc:
                raise  # cancelled: the writer stops
            log.exception("event batch of %d posts failed", len(taken))  # and the writer carries on
            return
        # Committed: only now do the posters hear back, and only now do streams see the events.
        for batch, planned in rounds:
            for index, post in enumerate(batch):
                if index in planned.answers:
                    post.done.set_result(planned.answers[index])
                else:
                    post.done.set_exception(TicketGone(post.ticket_id))
        for _batch, planned in rounds:
            self._activity_written(planned.activity_rows)
            self.publish(planned.committed)

    async def _insert(self, conn: Any, batch: list[_Post]) -> _Plan:
        """One batch inside the transaction: the short way if nothing changed since the last, else the long."""
        planned = await self._insert_if_unchanged(conn, batch)
        if planned is None:
            planned = await self._insert_after_reading(conn, batch)
        await store.insert_keys(conn, planned.new_keys)
        await sessions.register_from_events(conn, sessions_named(planned.committed))
        await store.note_activity(conn, self._activity_due(planned))
        await store.announce_runs(conn, self._news(planned))
        self._remember(planned)
        return planned

    async def _insert_if_unchanged(self, conn: Any, batch: list[_Post]) -> _Plan | None:
        """One statement: the batch as if nothing changed since the last one; None if something did."""
        tickets = {p.ticket_id for p in batch}
        if self._last_rowid is None or not tickets <= self._last_seqs.keys():
            return None
        start = [store.BatchStart(t, self._last_seqs[t], self._last_rowid) for t in tickets]
        planned = _plan(batch, start, {}, {})
        if not planned.rows:
            return None
        inserted = await store.insert_events_if_unchanged(
            conn,
            **planned.insert_params(),
            last_rowid=self._last_rowid,
            tickets=store.as_json([[t, self._last_seqs[t]] for t in tickets]),
            uuids=store.as_json([[row[1], row[6]] for row in planned.rows if row[6]]),
            keys=store.as_json([[p.ticket_id, p.key] for p in batch if p.key]),
        )
        return planned if inserted else None

    async def _insert_after_reading(self, conn: Any, batch: list[_Post]) -> _Plan:
        """The long way: read the tickets' last seqs, known uuids and keys, then insert what is new."""
        start = await store.batch_start(conn, list({p.ticket_id for p in batch}))
        known = await store.known_uuids(conn, [(p.ticket_id, e.uuid) for p in batch for e in p.events if e.uuid])
        keys = await store.known_keys(conn, [(p.ticket_id, p.key) for p in batch if p.key])
        planned = _plan(batch, start, known, keys)
        if planned.rows:
            await store.insert_events(conn, **planned.insert_params())
        return planned

    def _activity_due(self, planned: _Plan) -> list[tuple[str, int, int, str, str]]:
        """The activity rows to write with this batch: all that waits, once some pair's run started or ended or
        was not written for ACTIVITY_S (otherwise none: they wait). They count as written once committed."""
        now = time.monotonic()
        due = False
        for key, (worker, ticket_id, seq, last_type) in planned.activity.items():
            self._unwritten[key] = (worker, ticket_id, seq, last_type, planned.ts)
            noted = self._noted.get(key)
            due = due or noted is None or noted[1] != (last_type == "result") or now - noted[0] >= ACTIVITY_S
        planned.activity_rows = list(self._unwritten.values()) if due else []
        return planned.activity_rows

    def _activity_written(self, rows: list[tuple[str, int, int, str, str]]) -> None:
        now = time.monotonic()
        if len(self._noted) > REMEMBERED_TICKETS:
            self._noted.clear()
        for row in rows:
            key = (row[0], row[1])
            if self._unwritten.get(key) == row:  # (a later batch may have a newer one waiting)
                del self._unwritten[key]
            self._noted[key] = (now, row[3] == "result")

    async def _write_activity(self) -> None:
        """Write the activity that waited (the writer is idle, or stopping)."""
        rows = list(self._unwritten.values())
        if not rows:
            return
        try:
            async with self.db.write() as conn:
                await store.note_activity(conn, rows)
        except Exception:  # the next batch that writes carries them
            log.exception("writing the activity of %d workers failed", len(rows))
            return
        self._activity_written(rows)

    def _news(self, planned: _Plan) -> list[tuple[str, int, bool]]:
        """The runs worth telling the board about: started, ended, or not mentioned for ANNOUNCE_S."""
        now, news = time.monotonic(), []
        for worker, ticket_id, _seq, last_type in planned.activity.values():
            ended = last_type == "result"
            told = self._announced.get((worker, ticket_id))
            if told is None or told[1] != ended or now - told[0] >= ANNOUNCE_S:
                self._announced[(worker, ticket_id)] = (now, ended)
                news.append((worker, ticket_id, ended))
        if len(self._announced) > REMEMBERED_TICKETS:
            self._announced.clear()
        return news

    def _remember(self, planned: _Plan) -> None:
        if len(self._last_seqs) > REMEMBERED_TICKETS:
            self._last_seqs.clear()
        self._last_seqs.update(planned.last_seqs)
        self._last_rowid = planned.last_rowid


@dataclass
class _Plan:
    """What one batch writes, answers and publishes."""

    answers: dict[int, tuple[list[int], bool]] = field(default_factory=dict)  # by the post's index
    # As events_insert takes them: [id, ticket_id, seq, event_type, payload offset, payload length, uuid,
    # worker] per row, the payloads one after the other in one blob (so not escaped into JSON), one timestamp.
    rows: list[tuple[int, int, int, str, int, int, str | None, str | None]] = field(default_factory=list)
    # Per (worker, ticket): the worker's last event there, as ingest_activity takes it.
    activity: dict[tuple[str, int], tuple[str, int, int, str]] = field(default_factory=dict)
    # The worker_activity rows written with the batch (this one's and what waited): app/ingest.py's _activity_due.
    activity_rows: list[tuple[str, int, int, str, str]] = field(default_factory=list)
    payloads: list[bytes] = field(default_factory=list)
    ts: str = ""
    new_keys: list[tuple[int, str, list[int]]] = field(default_factory=list)  # as events_insert_keys
    committed: list[WorkerEvent] = field(default_factory=list)
    last_seqs: dict[int, int] = field(default_factory=dict)  # each live ticket's last seq after the batch
    last_rowid: int | None = None  # the table's last rowid after the batch (None: no live ticket to tell)

    def insert_params(self) -> dict[str, Any]:
        """The parameters of events_insert (and events_insert_if_unchanged) for these rows."""
        return {"rows": store.as_json(self.rows), "payloads": b"".join(self.payloads), "ts": self.ts}


def sessions_named(events: list[WorkerEvent]) -> list[dict[str, Any]]:
    """The sessions a batch's `init` events name: a worker's run on a ticket joins the agent's session."""
    found = []
    for event in events:
        if event.event_type != "system" or '"init"' not in event.payload_json:
            continue
        try:
            payload = msgspec.json.decode(event.payload_json)
        except msgspec.DecodeError:
            continue
        if not isinstance(payload, dict) or payload.get("subtype") != "init":
            continue
        session_id = payload.get("session_id")
        if isinstance(session_id, str) and 0 < len(session_id) <= 200:
            found.append({
                "id": session_id, "agent": event.worker or "agent", "ticket_id": event.ticket_id,
                "ticket_seq": event.seq, "started_at": event.ts, "cwd": str(payload.get("cwd") or ""),
                "model": str(payload.get("model") or ""),
            })  # fmt: skip
    return found


def _plan(
    batch: list[_Post],
    start: list[store.BatchStart],
    known: dict[tuple[int, str], int],
    keys: dict[tuple[int, str], list[int]],
) -> _Plan:
    """Give out seqs and rowids for a batch, inside its write transaction: repeats get their first seqs back."""
    planned = _Plan(ts=stamp())
    rows, payloads, committed, now, offset = planned.rows, planned.payloads, planned.committed, planned.ts, 1
    last = {s.ticket_id: s.seq for s in start}
    # No other connection writes while we hold the write transaction, and rowids are not AUTOINCREMENT:
    # the rows after the table's last one are ours to number.
    rowid = start[0].last_rowid if start else 0
    for index, post in enumerate(batch):
        ticket_id, key = post.ticket_id, post.key
        if ticket_id not in last:
            continue
        if key and (ticket_id, key) in keys:
            planned.answers[index] = (keys[(ticket_id, key)], False)
            continue
        seq, seqs, fresh = last[ticket_id], [], False
        for event in post.events:
            uuid = event.uuid
            seen = known.get((ticket_id, uuid)) if uuid else None
            if seen is None:
                seq += 1
                rowid += 1
                seen, fresh = seq, True
                if uuid:
                    known[(ticket_id, uuid)] = seq
                payload = event.payload_json.encode()
                rows.append((rowid, ticket_id, seq, event.event_type, offset, len(payload), uuid, post.worker))
                payloads.append(payload)
                offset += len(payload)
                committed.append(
                    WorkerEvent(rowid, ticket_id, seq, event.event_type, event.payload_json, now, post.worker)
                )
                if post.worker:
                    planned.activity[(post.worker, ticket_id)] = (post.worker, ticket_id, seq, event.event_type)
            seqs.append(seen)
        last[ticket_id] = seq
        planned.answers[index] = (seqs, fresh)
        if key:
            keys[(ticket_id, key)] = seqs
            planned.new_keys.append((ticket_id, key, seqs))
    planned.last_seqs = last
    planned.last_rowid = rowid if start else None
    return planned

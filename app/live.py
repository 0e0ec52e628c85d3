"""The in-process broker: publish after commit, subscribe per stream, capped buckets, and a poller that
publishes what other processes committed.

A committed worker event is rendered and encoded once, and the same bytes go on every subscriber's bounded
queue. A subscriber that falls too far behind is cut off; its browser reconnects with Last-Event-ID and the
stream replays what it missed from the database, so nothing is lost, only delayed.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import msgspec

from app.background import stop_task
from app.db import Database
from app.event_summary import summarise, tail_line
from app.run_frames import RunFrames
from app.sse import UNORDERED, sse_frame, tail_frame
from app.store import live as store
from app.store.events import WorkerEvent

log = logging.getLogger("mc.live")

QUEUE_SIZE = 512  # frames a subscriber may have waiting before it is cut off as too slow


class Topic:
    """Topic names: the global broadcast, one ticket's events, one ticket's log tail."""

    GLOBAL = "global"

    @staticmethod
    def ticket(ticket_id: int) -> str:
        """A ticket's live events and changes."""
        return f"ticket:{ticket_id}"

    @staticmethod
    def tail(ticket_id: int) -> str:
        """A ticket's worker log, as text lines."""
        return f"tail:{ticket_id}"


@dataclass(eq=False)
class Subscriber:
    """One open stream: its queue of (ordering id, frame) and whether it was cut off for being slow."""

    topics: tuple[str, ...]
    queue: asyncio.Queue[tuple[int, bytes]] = field(default_factory=lambda: asyncio.Queue(QUEUE_SIZE))
    overflowed: bool = False


class Bucket:
    """A cap on open streams of one kind, per process."""

    def __init__(self, name: str, cap: int) -> None:
        self.name = name
        self.cap = cap
        self.open = 0

    def acquire(self) -> bool:
        """Take a slot if one is free."""
        if self.open >= self.cap:
            return False
        self.open += 1
        return True

    def release(self) -> None:
        """Give a slot back."""
        self.open = max(0, self.open - 1)


class RefusalPacer:
    """Over-cap refusals go out at once, except in a reconnect storm from clients that ignore `retry: 30000`.

    Each new connection costs the server about 0.4 ms of CPU however quickly it is refused (accepting it, the
    protocol's set-up, closing it), so 120 clients that knock again the moment they are refused keep a core
    busy and page renders wait. Two holds slow such clients down without slowing anyone else's refusal:
    each address may be refused `per_address_per_s` times a second at once (a token bucket, so a burst of
    that many is fine and the rate stays smooth); past that its refusals are held about `address_hold_s`
    (jittered, so held clients do not come back in step). And past `free_per_s` refusals a second from
    everyone together (many addresses), each is held `hold_s`, still well inside the 100 ms a well-behaved
    client's refusal may take. Only addresses refused within the last second are remembered."""

    def __init__(
        self,
        free_per_s: int = 200,
        hold_s: float = 0.025,
        per_address_per_s: float = 50.0,
        address_hold_s: float = 1.0,
        rng: random.Random | None = None,
    ) -> None:
        self.free_per_s, self.hold_s = free_per_s, hold_s
        self.per_address_per_s, self.address_hold_s = per_address_per_s, address_hold_s
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not a secret
        self._second = 0
        self._count = 0
        self._buckets: dict[str, tuple[float, float]] = {}  # address -> (tokens left, when last refused)

    def hold(self, now: float, address: str) -> float:
        """How long to hold this refusal to `address` (`now`: a monotonic clock's seconds)."""
        second = int(now)
        if second != self._second:
            self._second, self._count = second, 0
            # A bucket untouched for a second is full again: the same as no bucket.
            self._buckets = {a: b for a, b in self._buckets.items() if now - b[1] < 1.0}
        self._count += 1
        rate = self.per_address_per_s
        tokens, last = self._buckets.get(address, (rate, now))
        tokens = min(rate, tokens + (now - last) * rate)
        if tokens < 1.0:
            self._buckets[address] = (tokens, now)
            return self.address_hold_s * self._rng.uniform(0.5, 1.5)
        self._buckets[address] = (tokens - 1.0, now)
        return 0.0 if self._count <= self.free_per_s else self.hold_s


class Broker:
    """Who listens to what, and delivery of frames to them."""

    def __init__(self, total_cap: int, tail_cap: int, runs: RunFrames | None = None) -> None:
        self._topics: dict[str, set[Subscriber]] = {}
        self.runs = runs  # frames each event for its ticket's page (None: only tails are served)
        # Committed events wait here for the publisher task, which frames them in order: framing may read
        # the database (a run's start), and the writer must not wait for that.
        self._pending: asyncio.Queue[list[WorkerEvent]] = asyncio.Queue()
        self._publisher: asyncio.Task[None] | None = None
        # Global and ticket streams share one bucket; tails have their own, so a noisy tail page cannot
        # starve the broadcast streams (nor page renders, which need no slot at all). A stream route names
        # its bucket (app/caps.py).
        self.buckets = {"streams": Bucket("streams", total_cap), "tails": Bucket("tails", tail_cap)}
        self.refusals = RefusalPacer()
        self._published: set[int] = set()  # rowids of events this process published and the poller has not passed
        self.on_news: list[Callable[[str], None]] = []  # told the kind of each broadcast (caches that depend on it)

    def any_full(self) -> bool:
        """Whether some bucket has no slot left (only then is any stream request refused)."""
        return any(b.open >= b.cap for b in self.buckets.values())

    def refusal(self, bucket: str, address: str, now: float) -> float | None:
        """None when `bucket` has room; else how long to hold the 503 to `address`."""
        slots = self.buckets[bucket]
        if slots.open < slots.cap:
            return None
        return self.refusals.hold(now, address)

    def subscribe(self, *topics: str) -> Subscriber:
        """Start receiving frames published to `topics`."""
        subscriber = Subscriber(topics)
        for topic in topics:
            self._topics.setdefault(topic, set()).add(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        """Stop receiving."""
        for topic in subscriber.topics:
            listeners = self._topics.get(topic)
            if listeners is not None:
                listeners.discard(subscriber)
                if not listeners:
                    del self._topics[topic]

    def listening(self, topic: str) -> bool:
        """Whether anyone listens to `topic` (nothing is rendered for nobody)."""
        return bool(self._topics.get(topic))

    def publish(self, topic: str, order: int, frame: bytes) -> None:
        """Put the same bytes on every listener's queue; a listener whose queue is full is cut off."""
        for subscriber in list(self._topics.get(topic, ())):
            try:
                subscriber.queue.put_nowait((order, frame))
            except asyncio.QueueFull:
                subscriber.overflowed = True
                self.unsubscribe(subscriber)

    def publish_events(self, events: list[WorkerEvent]) -> None:
        """Hand committed worker events to the publisher task, which delivers them to their ticket's streams
        and tails in order (each framed once)."""
        self._published.update(event.rowid for event in events)
        if self._publisher is None or self._publisher.done():
            self._publisher = asyncio.get_running_loop().create_task(self._publish_loop(), name="mc-live-publisher")
        self._pending.put_nowait(events)

    async def drain(self) -> None:
        """Wait until every event handed over so far is delivered."""
        await self._pending.join()

    async def stop(self) -> None:
        """Stop the publisher task."""
        await stop_task(self._publisher)
        self._publisher = None

    async def _publish_loop(self) -> None:
        while True:
            events = await self._pending.get()
            try:
                await self._deliver(events)
            except Exception:  # one bad batch must not stop every live page
                log.exception("publishing %d events failed", len(events))
            finally:
                self._pending.task_done()

    async def _deliver(self, events: list[WorkerEvent]) -> None:
        heard: dict[int, tuple[bool, bool]] = {}  # per ticket: whether its stream, its tail have listeners
        for event in events:
            if event.ticket_id not in heard:
                heard[event.ticket_id] = (
                    self.runs is not None and self.listening(Topic.ticket(event.ticket_id)),
                    self.listening(Topic.tail(event.ticket_id)),
                )
            stream, tail = heard[event.ticket_id]
            if tail:
                self.publish(Topic.tail(event.ticket_id), event.seq, tail_frame(tail_line(summarise(event)), event.seq))
            if stream and self.runs is not None:
                try:
                    frame = await self.runs.frame(event)
                except Exception:  # a stream that misses it replays it from the database, framed afresh
                    log.exception("framing event %d of ticket %d failed", event.seq, event.ticket_id)
                    continue
                self.publish(Topic.ticket(event.ticket_id), event.seq, frame)

    def publish_broadcast(
        self, rowid: int, kind: str, ticket_id: int | None, identifier: str | None, body: str
    ) -> None:
        """Deliver board-wide news: to the global stream, and to the ticket's own stream when it has one."""
        for hook in self.on_news:
            hook(kind)
        data = msgspec.json.encode({"kind": kind, "ticket": identifier, **msgspec.json.decode(body)}).decode()
        self.publish(Topic.GLOBAL, rowid, sse_frame(kind, data, rowid))
        if ticket_id is not None:
            self.publish(Topic.ticket(ticket_id), UNORDERED, sse_frame(f"ticket_{kind}", data))

    def published(self, rowid: int) -> bool:
        """Whether this process already published the event `rowid`."""
        return rowid in self._published

    def published_count(self) -> int:
        """How many published rowids are remembered (the poller's bound on what can be its own)."""
        return len(self._published)

    def forget_published(self, upto: int) -> None:
        """The poller has passed `upto`: forget published rowids up to it."""
        self._published = {i for i in self._published if i > upto}


class Poller:
    """Publishes what other processes committed, and all broadcasts, by watching PRAGMA data_version: every
    `interval_s`, and at once when woken (by the Redis relay, which hears of every commit)."""

    def __init__(self, db: Database, broker: Broker, interval_s: float = 0.02) -> None:
        self.db = db
        self.broker = broker
        self.interval_s = interval_s
        self._task: asyncio.Task[None] | None = None
        self._woken = asyncio.Event()
        self._last_event = 0
        self._last_broadcast = 0

    async def start(self) -> None:
        """Begin watching from what is committed now."""
        async with self.db.read() as conn:
            self._last_event, self._last_broadcast = await store.last_rowids(conn)
        self._task = asyncio.create_task(self._run(), name="mc-live-poller")

    async def stop(self) -> None:
        """Stop watching."""
        await stop_task(self._task)
        self._task = None

    def wake(self) -> None:
        """Look now rather than at the next tick (many wakes before the look coalesce into one)."""
        self._woken.set()

    async def _tick(self) -> None:
        # A timer that sets the same event: no task per tick.
        timer = asyncio.get_running_loop().call_later(self.interval_s, self._woken.set)
        await self._woken.wait()
        timer.cancel()
        self._woken.clear()

    async def _run(self) -> None:
        # A dedicated connection: data_version is per connection, and moves only when another one commits.
        conn = await self.db.extra_reader()
        try:
            version = await store.data_version(conn)
            while True:
                await self._tick()
                now = await store.data_version(conn)
                if now != version:
                    version = now
                    self.db.note_change()
                    await self.catch_up(conn)
        except asyncio.CancelledError:
            raise
        except Exception:  # a poller that dies silently would freeze every live page: say so, and go on
            log.exception("live poller failed; restarting in a second")
            await asyncio.sleep(1)
            self._task = asyncio.create_task(self._run(), name="mc-live-poller")
        finally:
            await conn.close()

    async def catch_up(self, conn: Any) -> None:
        """Publish events and broadcasts committed since the last look."""
        broker = self.broker
        top = await store.last_event_rowid(conn)
        if 0 < top - self._last_event <= broker.published_count() and all(
            broker.published(i) for i in range(self._last_event + 1, top + 1)
        ):
            # Every new row is one this process wrote and has published (rowids are given out in order, and
            # never twice): nothing to read. The usual case for a single process under ingest.
            self._last_event = top
        while top > self._last_event:
            ids = await store.event_rowids_since(conn, self._last_event, 500)
            others = [i for i in ids if not broker.published(i)]
            if others:
                broker.publish_events(await store.events_by_rowids(conn, others))
            if ids:
                self._last_event = ids[-1]
            if len(ids) < 500:
                self._last_event = max(self._last_event, top)  # past any gap a deleted ticket left
                break
        broker.forget_published(self._last_event)
        while True:
            news = await store.broadcasts_since(conn, self._last_broadcast, 500)
            for row in news:
                broker.publish_broadcast(row.id, row.kind, row.ticket_id, row.identifier, row.body)
            if news:
                self._last_broadcast = news[-1].id
            if len(news) < 500:
                break

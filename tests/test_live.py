"""The broker's parts on their own: SSE framing, fan-out of one frame, slow listeners cut off, refusal pacing."""

from __future__ import annotations

import random

from app.caps import bucket_of
from app.db import Database
from app.ingest import EventWriter, IncomingEvent
from app.live import QUEUE_SIZE, Broker, Poller, RefusalPacer, Topic
from app.main import create_app
from app.run_frames import RunFrames
from app.settings import Settings
from app.sqlite import driver as sqlite3
from app.sse import sse_frame
from app.store import tickets


def test_a_frame_keeps_text_with_blank_lines_and_carriage_returns_as_one_event() -> None:
    frame = sse_frame("line", "one\r\n\r\ndata: two\rthree", 7)
    assert frame == b"id: 7\nevent: line\ndata: one\ndata: \ndata: data: two\ndata: three\n\n"


async def test_one_publish_puts_the_same_bytes_on_every_listener() -> None:
    broker = Broker(10, 10)
    listeners = [broker.subscribe(Topic.ticket(1)) for _ in range(3)]
    other = broker.subscribe(Topic.ticket(2))
    frame = sse_frame("ticket_event", "<li>row</li>", 1)
    broker.publish(Topic.ticket(1), 1, frame)
    got = [listener.queue.get_nowait() for listener in listeners]
    assert all(item[1] is frame for item in got), "encoded once, shared by every subscriber"
    assert other.queue.empty()


async def test_a_listener_that_falls_too_far_behind_is_cut_off_and_the_rest_go_on() -> None:
    broker = Broker(10, 10)
    slow, quick = broker.subscribe(Topic.GLOBAL), broker.subscribe(Topic.GLOBAL)
    for n in range(QUEUE_SIZE + 1):
        broker.publish(Topic.GLOBAL, n, b"x")
        if not quick.queue.empty():
            quick.queue.get_nowait()
    assert slow.overflowed and not quick.overflowed
    assert broker.listening(Topic.GLOBAL)
    broker.unsubscribe(quick)
    assert not broker.listening(Topic.GLOBAL)


def test_refusals_go_out_at_once_until_a_storm_then_are_held_until_the_next_second() -> None:
    pacer = RefusalPacer(free_per_s=3, hold_s=0.025)
    assert [pacer.hold(100.1, f"10.0.0.{n}") for n in range(5)] == [0.0, 0.0, 0.0, 0.025, 0.025]
    assert pacer.hold(101.0, "10.0.0.1") == 0.0, "a new second starts a new allowance"


def test_an_address_that_keeps_knocking_is_held_longer_and_no_one_else_is() -> None:
    pacer = RefusalPacer(free_per_s=1000, per_address_per_s=2.0, address_hold_s=1.0, rng=random.Random(1))
    holds = [pacer.hold(100.0, "127.0.0.2") for _ in range(4)]
    assert holds[:2] == [0.0, 0.0] and all(0.5 <= h <= 1.5 for h in holds[2:]), holds
    assert pacer.hold(100.0, "127.0.0.1") == 0.0, "a well-behaved client elsewhere is answered at once"
    assert pacer.hold(100.5, "127.0.0.2") == 0.0, "the bucket refills at its rate"
    assert pacer.hold(100.5, "127.0.0.2") > 0.0
    assert pacer.hold(102.0, "127.0.0.2") == 0.0


def test_only_stream_routes_take_a_slot_and_tails_only_when_following() -> None:
    app = create_app(Settings(db="/nonexistent/mc.db"))

    def bucket(path: str, query: bytes = b"") -> str | None:
        _, handler, *_ = app.asgi_router.handle_routing(path=path, method="GET")
        return bucket_of(handler, query)

    assert bucket("/api/v1/stream") == "streams"
    assert bucket("/api/v1/tickets/MC-1/stream") == "streams"
    assert bucket("/api/v1/tickets/MC-1/tail", b"follow=1") == "tails"
    assert bucket("/api/v1/tickets/MC-1/tail", b"lines=5&follow=true") == "tails"
    assert bucket("/api/v1/tickets/MC-1/tail", b"lines=5") is None
    assert bucket("/api/v1/tickets/MC-1/tail", b"follow=0") is None
    assert bucket("/board") is None


async def test_the_poller_publishes_other_processes_events_once_and_its_own_never_again(db: Database) -> None:
    broker = Broker(10, 10, RunFrames(db))
    writer, poller = EventWriter(db, broker.publish_events), Poller(db, broker)
    ticket = await tickets.get_ticket(db, await tickets.create_ticket(db, "MC", "Watched"))
    assert ticket is not None
    listener = broker.subscribe(Topic.ticket(ticket.id))
    conn = await db.extra_reader()
    try:
        await poller.start()
        await poller.stop()  # driven by hand below, not on its timer
        writer.start()
        for _ in range(3):
            await writer.submit(ticket.id, [IncomingEvent("mine", '{"type": "mine"}')], None)
        await poller.catch_up(conn)
        with sqlite3.connect(db.path) as other:  # another process's writer
            other.execute("INSERT INTO ticket_events (id, ticket_id, seq, event_type, payload_json) "
                          "VALUES (4, ?, 4, 'theirs', '{}')", (ticket.id,))  # fmt: skip
        await poller.catch_up(conn)
        await poller.catch_up(conn)
        await broker.drain()
        got = [listener.queue.get_nowait()[0] for _ in range(listener.queue.qsize())]
        assert got == [1, 2, 3, 4], "each event once: its own from the writer, the other's from the poller"
    finally:
        await writer.stop()
        await broker.stop()
        await conn.close()

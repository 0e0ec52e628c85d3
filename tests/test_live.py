"""The broker's parts on their own: SSE framing, fan-out of one frame, slow listeners cut off, refusal pacing."""

from __future__ import annotations

from app.live import QUEUE_SIZE, Broker, RefusalPacer, Topic, sse_frame


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
    assert [pacer.hold(100.1) for _ in range(5)] == [0.0, 0.0, 0.0, 0.025, 0.025]
    assert pacer.hold(101.0) == 0.0, "a new second starts a new allowance"


def test_only_stream_paths_take_a_slot_and_tails_only_when_following() -> None:
    broker = Broker(1, 1)
    assert broker.bucket_for("/api/v1/stream", b"") is broker.streams
    assert broker.bucket_for("/api/v1/tickets/MC-1/stream", b"") is broker.streams
    assert broker.bucket_for("/api/v1/tickets/MC-1/tail", b"follow=1") is broker.tails
    assert broker.bucket_for("/api/v1/tickets/MC-1/tail", b"lines=5") is None
    assert broker.bucket_for("/board", b"") is None

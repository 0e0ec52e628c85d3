"""Worker events in and back out: validation, gap-free seqs, idempotent retries, replay order."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from app.ingest import EventWriter, IncomingEvent
from app.sqlite import driver as sqlite3
from app.store import tickets
from tests.conftest import Harness, bearer


@pytest.fixture
def worker(harness: Harness) -> dict[str, str]:
    """A worker token's headers (the body is JSON), and ticket MC-1 to post to."""
    harness.ticket("Worker target")
    return {**bearer(harness.token("worker")), "Content-Type": "application/json"}


def post(harness: Harness, headers: dict[str, str], body: object, ident: str = "MC-1", **extra: str):  # type: ignore[no-untyped-def]
    """POST an event body as JSON."""
    return harness.client.post(
        f"/api/v1/tickets/{ident}/events", content=json.dumps(body), headers={**headers, **extra}
    )


def test_one_event_gets_seq_one_then_two(harness: Harness, worker: dict[str, str]) -> None:
    first = post(harness, worker, {"type": "system", "subtype": "init"})
    second = post(harness, worker, {"type": "assistant", "message": {"content": []}})
    assert (first.status_code, first.json()) == (201, {"seq": 1})
    assert (second.status_code, second.json()) == (201, {"seq": 2})


def test_a_batch_gets_consecutive_seqs(harness: Harness, worker: dict[str, str]) -> None:
    post(harness, worker, {"type": "system"})
    response = post(harness, worker, {"events": [{"type": "user"}, {"type": "assistant"}, {"type": "result"}]})
    assert (response.status_code, response.json()) == (201, {"seqs": [2, 3, 4]})


def test_replay_returns_the_posted_objects_in_order(harness: Harness, worker: dict[str, str]) -> None:
    sent = [{"type": "assistant", "uuid": f"u{n}", "message": {"content": [{"type": "text", "text": f"step {n}"}]}}
            for n in range(5)]  # fmt: skip
    post(harness, worker, {"events": sent})
    events = harness.client.get("/api/v1/tickets/MC-1/events", params={"after": 2}, headers=worker).json()
    assert [e["seq"] for e in events] == [3, 4, 5]
    assert [e["payload"] for e in events] == sent[2:]
    assert all(e["event_type"] == "assistant" and e["ts"].endswith("Z") for e in events)
    limited = harness.client.get("/api/v1/tickets/MC-1/events", params={"limit": 2}, headers=worker).json()
    assert [e["seq"] for e in limited] == [1, 2]


def test_a_retried_event_with_the_same_uuid_is_stored_once(harness: Harness, worker: dict[str, str]) -> None:
    event = {"type": "assistant", "uuid": "0b6f-retry"}
    assert post(harness, worker, event).json() == {"seq": 1}
    again = post(harness, worker, event)
    assert (again.status_code, again.json()) == (200, {"seq": 1})
    mixed = post(harness, worker, {"events": [event, {"type": "result", "uuid": "new"}]})
    assert (mixed.status_code, mixed.json()) == (201, {"seqs": [1, 2]})
    assert len(harness.client.get("/api/v1/tickets/MC-1/events", headers=worker).json()) == 2


def test_an_idempotency_key_answers_a_repeat_with_the_first_seqs(harness: Harness, worker: dict[str, str]) -> None:
    batch = {"events": [{"type": "tool_use"}, {"type": "tool_result"}]}
    first = post(harness, worker, batch, **{"Idempotency-Key": "batch-7"})
    again = post(harness, worker, batch, **{"Idempotency-Key": "batch-7"})
    assert first.json() == again.json() == {"seqs": [1, 2]}
    assert again.status_code == 200
    assert len(harness.client.get("/api/v1/tickets/MC-1/events", headers=worker).json()) == 2


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ("not json", 400, "not valid JSON"),
        ('{"no": "type"}', 400, 'needs a "type"'),
        ('{"type": ""}', 400, 'needs a "type"'),
        ('{"type": 7}', 400, 'needs a "type"'),
        ("[1, 2]", 400, "must be a JSON object"),
        ('{"events": []}', 400, "non-empty list"),
        ('{"events": [{"type": "x"}, 5]}', 400, "events[1]: an event must be a JSON object"),
        (json.dumps({"type": "big", "text": "x" * 300_000}), 413, "at most 256 KB"),
        (json.dumps({"events": [{"type": "x"}] * 1001}), 400, "at most 1000 events"),
        (b'{"type": "x", "text": "\xff"}', 400, "must be UTF-8"),
        (b'{"events": [{"type": "x"}, {"type": "x", "text": "\xff"}]}', 400, "events[1]: an event must be UTF-8"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_stored(  # type: ignore[no-untyped-def]
    harness: Harness, worker: dict[str, str], settings, body: str | bytes, status: int, words: str
) -> None:
    response = harness.client.post("/api/v1/tickets/MC-1/events", content=body, headers=worker)
    assert response.status_code == status
    assert words in response.json()["detail"]
    assert sqlite3.connect(settings.db_path).execute("SELECT count(*) FROM ticket_events").fetchone()[0] == 0


def test_the_stored_payload_is_the_exact_text_that_was_posted(  # type: ignore[no-untyped-def]
    harness: Harness, worker: dict[str, str], settings
) -> None:
    single = r'{ "type" : "user",' + "\n" + r'  "text": "caf\u00e9 \"quoted\" é 🙂", "n": 1.50e3 }'
    batch = ['{"type":"assistant", "uuid": "u-1", "list": [ 1 , 2 ]}', '{"type": "result",\t"ok": true}']
    assert harness.client.post("/api/v1/tickets/MC-1/events", content=single.encode(), headers=worker).json() == {
        "seq": 1
    }
    body = '{"events": [' + ", ".join(batch) + "]}"
    assert harness.client.post("/api/v1/tickets/MC-1/events", content=body.encode(), headers=worker).json() == {
        "seqs": [2, 3]
    }
    stored = sqlite3.connect(settings.db_path).execute("SELECT payload_json FROM ticket_events ORDER BY seq")
    assert [row[0] for row in stored] == [single, *batch]


def test_seqs_stay_gap_free_when_another_process_writes_between_batches(  # type: ignore[no-untyped-def]
    harness: Harness, worker: dict[str, str], settings
) -> None:
    assert post(harness, worker, {"events": [{"type": "a"}, {"type": "b"}]}).json() == {"seqs": [1, 2]}
    other = sqlite3.connect(settings.db_path, isolation_level=None)  # another process's connection
    other.execute(
        "INSERT INTO ticket_events (ticket_id, seq, event_type, payload_json) "
        "SELECT ticket_id, seq + 2, 'c', '{\"type\": \"c\"}' FROM ticket_events ORDER BY seq"
    )
    assert post(harness, worker, {"type": "d"}).json() == {"seq": 5}
    other.execute("DELETE FROM ticket_events WHERE seq = 5")  # the newest row gone: the last rowid goes back
    assert post(harness, worker, {"events": [{"type": "e"}, {"type": "f"}]}).json() == {"seqs": [5, 6]}
    seqs = [row[0] for row in other.execute("SELECT seq FROM ticket_events ORDER BY id")]
    assert seqs == [1, 2, 3, 4, 5, 6]


def test_a_deleted_ticket_is_a_404_and_the_next_batch_of_another_ticket_is_right(harness: Harness) -> None:
    worker = {**bearer(harness.token("worker")), "Content-Type": "application/json"}
    first, second = harness.ticket("One"), harness.ticket("Two")
    assert post(harness, worker, {"type": "x"}, ident=first).json() == {"seq": 1}
    assert post(harness, worker, {"type": "x"}, ident=second).json() == {"seq": 1}
    row_id = harness.call(lambda: _row_id(harness, first))
    harness.call(tickets.delete_ticket, harness.db, row_id)
    assert post(harness, worker, {"type": "x"}, ident=first).status_code == 404
    assert post(harness, worker, {"events": [{"type": "y"}, {"type": "z"}]}, ident=second).json() == {"seqs": [2, 3]}


def test_a_deleted_tickets_event_rowids_are_never_given_out_again(  # type: ignore[no-untyped-def]
    harness: Harness, settings
) -> None:
    """Other processes publish events above the last rowid they saw: a reused rowid would never reach them."""
    worker = {**bearer(harness.token("worker")), "Content-Type": "application/json"}
    kept, doomed = harness.ticket("Kept"), harness.ticket("Doomed")
    post(harness, worker, {"type": "x"}, ident=kept)
    post(harness, worker, {"events": [{"type": "y"}, {"type": "z"}]}, ident=doomed)  # rowids 2 and 3, the top
    harness.call(tickets.delete_ticket, harness.db, harness.call(lambda: _row_id(harness, doomed)))
    post(harness, worker, {"events": [{"type": "a"}, {"type": "b"}]}, ident=kept)
    with sqlite3.connect(settings.db_path) as conn:
        assert conn.execute("SELECT id, seq FROM ticket_events ORDER BY id").fetchall() == [(1, 1), (4, 2), (5, 3)]


def test_rowids_another_process_gave_out_and_deleted_are_not_given_out_again(  # type: ignore[no-untyped-def]
    harness: Harness, worker: dict[str, str], settings
) -> None:
    assert post(harness, worker, {"type": "a"}).json() == {"seq": 1}  # rowid 1; the writer remembers it
    with sqlite3.connect(settings.db_path, isolation_level=None) as other:  # another process: rows 2 and 3 …
        other.execute("INSERT INTO ticket_events (id, ticket_id, seq, event_type, payload_json) "
                      "SELECT 2, ticket_id, 2, 'b', '{}' FROM ticket_events UNION ALL "
                      "SELECT 3, ticket_id, 3, 'c', '{}' FROM ticket_events")  # fmt: skip
        other.execute("DELETE FROM ticket_events WHERE id > 1")  # … gone again: the table looks as it was
        post(harness, worker, {"type": "d"})
        assert other.execute("SELECT id, seq FROM ticket_events ORDER BY id").fetchall() == [(1, 1), (4, 2)]


def test_an_unknown_ticket_is_a_404(harness: Harness, worker: dict[str, str]) -> None:
    response = post(harness, worker, {"type": "x"}, ident="MC-404")
    assert (response.status_code, response.json()["detail"]) == (404, "There is no ticket MC-404.")


def test_read_tokens_can_replay_but_not_post(harness: Harness, worker: dict[str, str]) -> None:
    reader = bearer(harness.token("read"))
    assert post(harness, reader, {"type": "x"}).status_code == 403
    assert harness.client.get("/api/v1/tickets/MC-1/events", headers=reader).status_code == 200


def test_many_concurrent_posters_get_gap_free_unique_seqs(harness: Harness) -> None:
    ids = [harness.ticket(f"T{n}") for n in range(3)]
    writer = harness.client.app.state.mc.writer
    ticket_ids = {ident: harness.call(lambda i=ident: _row_id(harness, i)) for ident in ids}

    async def storm() -> dict[int, list[int]]:
        posts = [
            writer.submit(ticket_ids[ids[n % 3]], [IncomingEvent("x", '{"type": "x"}')] * (1 + n % 4), None)
            for n in range(300)
        ]
        results = await asyncio.gather(*posts)
        got: dict[int, list[int]] = {}
        for n, (seqs, _) in enumerate(results):
            got.setdefault(ticket_ids[ids[n % 3]], []).extend(seqs)
        return got

    for seqs in harness.call(storm).values():
        assert sorted(seqs) == list(range(1, len(seqs) + 1))


async def _row_id(harness: Harness, identifier: str) -> int:
    from app.store.events import ticket_id

    found = await ticket_id(harness.db, identifier)
    assert found is not None
    return found


def test_a_failed_write_answers_its_posters_stores_nothing_and_the_writer_goes_on(  # type: ignore[no-untyped-def]
    harness: Harness, worker: dict[str, str], monkeypatch
) -> None:
    writer = harness.client.app.state.mc.writer
    ticket = harness.call(lambda: _row_id(harness, "MC-1"))
    insert, failures = EventWriter._insert, [sqlite3.OperationalError("disk I/O error")]

    async def insert_or_fail(self: EventWriter, conn: Any, batch: Any) -> Any:
        if failures:
            raise failures.pop()
        return await insert(self, conn, batch)

    monkeypatch.setattr(EventWriter, "_insert", insert_or_fail)

    async def post_twice() -> list[object]:
        event = [IncomingEvent("x", '{"type": "x"}')]
        failed = await asyncio.gather(writer.submit(ticket, event, None), return_exceptions=True)
        return [*failed, await writer.submit(ticket, event, None)]

    failed, stored = harness.call(post_twice)
    assert isinstance(failed, sqlite3.OperationalError)
    assert stored == ([1], True)

"""The worker queue: claim, ack, fail with backoff, racing claimers, the API's answers, and "Send to worker"."""

from __future__ import annotations

import asyncio
import threading
import typing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from app import clock
from app.cli import main as mc
from app.db import Database
from app.routes.queue import Status
from app.settings import Settings, load_settings
from app.sqlite import driver as sqlite3
from app.store import queue, tickets
from tests.conftest import TEST_HOST, Harness, bearer, soup, text_of
from tests.server import start_server

T0 = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)
HTMX = {"HX-Request": "true"}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """The usual test settings, without the background reaper (these tests move the clock themselves)."""
    return load_settings({}, data_dir=str(tmp_path / "data"), allowed_hosts=TEST_HOST, reaper_interval_s=0)


async def status_of(db: Database, message_id: int) -> str:
    """A message's status."""
    item = await queue.get_message(db, message_id)
    assert item is not None
    return item.status


# --- the store -------------------------------------------------------------------------------------------


async def test_claim_takes_the_oldest_message_meant_for_the_worker_or_for_anyone(db: Database) -> None:
    other = await queue.enqueue(db, None, "worker-2", "for worker-2", T0)
    anyone = await queue.enqueue(db, None, None, "for anyone", T0)
    mine = await queue.enqueue(db, None, "worker-1", "for worker-1", T0)
    first = await queue.claim(db, "worker-1", 300, T0)
    second = await queue.claim(db, "worker-1", 300, T0)
    assert first is not None and second is not None
    assert (first.id, second.id) == (anyone, mine)
    assert first.lease_expires_at == "2026-09-01T12:05:00.000Z" and first.attempts == 0
    assert await queue.claim(db, "worker-1", 300, T0) is None
    assert await status_of(db, other) == "queued"


async def test_claim_answers_the_ticket_identifier(db: Database) -> None:
    ident = await tickets.create_ticket(db, "MC", "Fix the reaper")
    ticket = await tickets.get_ticket(db, ident)
    assert ticket is not None
    await queue.enqueue(db, ticket.id, None, "please look", T0)
    claimed = await queue.claim(db, "worker-1", 60, T0)
    assert claimed is not None and claimed.ticket == ident and claimed.body == "please look"


async def test_ack_by_the_lease_owner_marks_the_message_done(db: Database) -> None:
    message_id = await queue.enqueue(db, None, None, "work", T0)
    await queue.claim(db, "worker-1", 60, T0)
    done = await queue.ack(db, message_id, "worker-1", T0 + timedelta(seconds=59))
    assert done is not None and done.status == "done" and done.lease_owner == "worker-1"


@pytest.mark.parametrize(
    ("worker", "seconds_later", "why"),
    [("worker-2", 1, "leased by worker-1, not worker-2"), ("worker-1", 60, "ran out at 2026-09-01T12:01:00.000Z")],
)
async def test_ack_by_another_worker_or_after_the_lease_is_a_conflict(
    db: Database, worker: str, seconds_later: int, why: str
) -> None:
    message_id = await queue.enqueue(db, None, None, "work", T0)
    await queue.claim(db, "worker-1", 60, T0)
    with pytest.raises(queue.QueueConflict, match=why):
        await queue.ack(db, message_id, worker, T0 + timedelta(seconds=seconds_later))
    assert await status_of(db, message_id) == "leased"


async def test_ack_of_a_message_that_is_not_leased_is_a_conflict_and_of_none_is_none(db: Database) -> None:
    message_id = await queue.enqueue(db, None, None, "work", T0)
    with pytest.raises(queue.QueueConflict, match="is queued, not leased"):
        await queue.ack(db, message_id, "worker-1", T0)
    assert await queue.ack(db, 999, "worker-1", T0) is None


async def test_fail_waits_a_doubling_backoff_before_the_message_is_offered_again(db: Database) -> None:
    message_id = await queue.enqueue(db, None, None, "flaky", T0)
    now = T0
    for attempt, wait in enumerate((30, 60, 120, 240), start=1):
        assert await queue.claim(db, "worker-1", 60, now) is not None
        failed = await queue.fail(db, message_id, "worker-1", f"boom {attempt}", 5, now)
        assert failed is not None and failed.status == "failed" and failed.attempts == attempt
        assert failed.next_attempt_at == clock.stamp(now + timedelta(seconds=wait))
        await queue.sweep(db, 5, 30, now + timedelta(seconds=wait - 1))  # not due yet
        assert await queue.claim(db, "worker-1", 60, now + timedelta(seconds=wait - 1)) is None
        now += timedelta(seconds=wait)
        await queue.sweep(db, 5, 30, now)
        assert await status_of(db, message_id) == "queued"
    assert await queue.claim(db, "worker-1", 60, now) is not None
    dead = await queue.fail(db, message_id, "worker-1", "boom 5", 5, now)
    assert dead is not None and dead.status == "dead" and dead.attempts == 5 and dead.next_attempt_at is None
    assert dead.last_error == "boom 5"


def test_backoff_doubles_from_30_seconds_and_is_capped() -> None:
    assert [queue.backoff_seconds(n) for n in range(1, 8)] == [30, 60, 120, 240, 480, 900, 900]


async def test_many_concurrent_claimers_never_share_a_message(db: Database) -> None:
    ids = [await queue.enqueue(db, None, None, f"job {n}", T0) for n in range(30)]
    claims = await asyncio.gather(*(queue.claim(db, f"worker-{n % 4}", 60, T0) for n in range(50)))
    got = [c.id for c in claims if c is not None]
    assert sorted(got) == ids and len(set(got)) == len(got)
    assert sum(c is None for c in claims) == 20


def test_the_api_status_choices_are_the_stores() -> None:
    assert typing.get_args(Status) == queue.STATUSES


# --- the API ---------------------------------------------------------------------------------------------


def enqueue(harness: Harness, body: str, worker: str | None = None, ticket: str | None = None) -> int:
    """Queue a message through the API as an admin; return its id."""
    admin = harness.token("admin")
    response = harness.client.post(
        "/api/v1/queue", json={"body": body, "worker": worker, "ticket": ticket}, headers=bearer(admin)
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def test_a_worker_claims_acks_and_fails_through_the_api(harness: Harness) -> None:
    ident = harness.ticket("Queue work")
    first, second = enqueue(harness, "one", ticket=ident), enqueue(harness, "two", worker="worker-1")
    worker = bearer(harness.token("worker"))
    claim = harness.client.post("/api/v1/queue/claim", json={"worker": "worker-1"}, headers=worker)
    assert claim.status_code == 200
    assert claim.json() | {"lease_expires_at": None} == {
        "id": first, "ticket": ident, "body": "one", "attempts": 0, "lease_expires_at": None
    }  # fmt: skip
    ack = harness.client.post(f"/api/v1/queue/{first}/ack", json={"worker": "worker-1"}, headers=worker)
    assert ack.status_code == 200 and ack.json()["status"] == "done"
    claim = harness.client.post("/api/v1/queue/claim", json={"worker": "worker-1", "lease_seconds": 10}, headers=worker)
    assert claim.json()["id"] == second
    fail = harness.client.post(
        f"/api/v1/queue/{second}/fail", json={"worker": "worker-1", "error": "disk full"}, headers=worker
    )
    assert fail.status_code == 200
    assert (fail.json()["status"], fail.json()["attempts"], fail.json()["last_error"]) == ("failed", 1, "disk full")
    empty = harness.client.post("/api/v1/queue/claim", json={"worker": "worker-1"}, headers=worker)
    assert empty.status_code == 204 and empty.content == b""


def test_the_api_says_why_it_refuses(harness: Harness) -> None:
    message_id = enqueue(harness, "one")
    worker = bearer(harness.token("worker"))
    harness.client.post("/api/v1/queue/claim", json={"worker": "worker-1"}, headers=worker)
    stolen = harness.client.post(f"/api/v1/queue/{message_id}/ack", json={"worker": "worker-9"}, headers=worker)
    assert stolen.status_code == 409
    assert stolen.json()["detail"] == f"Message {message_id} is leased by worker-1, not worker-9."
    missing = harness.client.post("/api/v1/queue/404/fail", json={"worker": "w", "error": "x"}, headers=worker)
    assert missing.status_code == 404 and missing.json()["detail"] == "There is no queued message 404."
    too_long = harness.client.post(
        "/api/v1/queue/claim", json={"worker": "worker-1", "lease_seconds": 7200}, headers=worker
    )
    assert too_long.status_code == 400 and too_long.json()["detail"].startswith("lease_seconds: Expected `int` <= 3600")
    nameless = harness.client.post("/api/v1/queue/claim", json={}, headers=worker)
    assert nameless.status_code == 400 and "worker" in nameless.json()["detail"]
    no_ticket = harness.client.post("/api/v1/queue", json={"body": "x", "ticket": "MC-999"}, headers=worker)
    assert no_ticket.status_code == 422 and no_ticket.json()["detail"] == "There is no ticket MC-999."


def test_listing_filters_by_status_and_refuses_an_unknown_one(harness: Harness) -> None:
    first, second = enqueue(harness, "one"), enqueue(harness, "two")
    reader = bearer(harness.token("read"))
    harness.call(queue.claim, harness.db, "worker-1", 60)
    leased = harness.client.get("/api/v1/queue", params={"status": "leased"}, headers=reader)
    assert [m["id"] for m in leased.json()["messages"]] == [first]
    everything = harness.client.get("/api/v1/queue", headers=reader)
    assert [m["id"] for m in everything.json()["messages"]] == [second, first]
    odd = harness.client.get("/api/v1/queue", params={"status": "lost"}, headers=reader)
    assert odd.status_code == 400


def test_a_read_token_cannot_claim_but_a_worker_can(harness: Harness) -> None:
    enqueue(harness, "one")
    read, worker = bearer(harness.token("read")), bearer(harness.token("worker"))
    refused = harness.client.post("/api/v1/queue/claim", json={"worker": "worker-1"}, headers=read)
    assert refused.status_code == 403 and "can only read" in refused.json()["detail"]
    assert harness.client.post("/api/v1/queue/claim", json={"worker": "w"}).status_code == 401
    assert harness.client.post("/api/v1/queue/claim", json={"worker": "w"}, headers=worker).status_code == 200
    assert harness.client.get("/api/v1/queue", headers=worker).status_code == 200


# --- "Send to worker" on the ticket page --------------------------------------------------------------------


def test_send_to_worker_without_javascript_queues_for_the_assignee_and_redirects(harness: Harness) -> None:
    csrf = harness.login()
    ident = harness.ticket("Queue work", assigned_to="worker-2")
    response = harness.client.post(
        f"/ticket/{ident}/queue", data={"body": "Rebase please", "_csrf": csrf}, follow_redirects=False
    )
    [item] = harness.call(queue.list_messages, harness.db, None, 10)
    assert response.status_code == 303 and response.headers["location"] == f"/ticket/{ident}#queued-{item.id}"
    assert (item.ticket, item.worker, item.body, item.status) == (ident, "worker-2", "Rebase please", "queued")
    page = harness.client.get(f"/ticket/{ident}").text
    assert text_of(page, f"#timeline #queued-{item.id} .badge") == "queued"  # in the conversation, in its place
    assert "Sent to worker-2" in text_of(page, f"#queued-{item.id}")
    assert "Rebase please" in text_of(page, f"#queued-{item.id} .sent-body")


def test_send_to_worker_with_htmx_appends_the_message_to_the_conversation(harness: Harness) -> None:
    csrf = harness.login()
    ident = harness.ticket("Nobody's yet")
    response = harness.client.post(
        f"/ticket/{ident}/queue", data={"body": "Anyone?"}, headers={**HTMX, "X-CSRF-Token": csrf}
    )
    assert response.status_code == 201 and response.headers["Vary"].startswith("HX-Request")
    html = soup(response.text)
    [sent] = html.select("li.sent")  # the composer's form appends its answers to #timeline
    assert "Sent to any worker" in sent.get_text() and sent.select_one(".badge").get_text() == "queued"
    assert text_of(response.text, "#ticket-note") == "Sent to any worker: it is queued."
    assert html.select_one("#no-comments")["hx-swap-oob"] == "delete"


def test_a_boosted_send_to_worker_gets_the_redirect_a_page_would(harness: Harness) -> None:
    csrf = harness.login()
    ident = harness.ticket("Queue work")
    headers = {**HTMX, "HX-Boosted": "true", "X-CSRF-Token": csrf}
    response = harness.client.post(
        f"/ticket/{ident}/queue", data={"body": "hi"}, headers=headers, follow_redirects=False
    )
    assert response.status_code == 303 and "HX-Retarget" not in response.headers


def test_the_composer_offers_send_to_worker_only_to_those_who_may_write(harness: Harness) -> None:
    ident = harness.ticket("Queue work", assigned_to="worker-2")
    harness.login()
    page = soup(harness.client.get(f"/ticket/{ident}").text)
    button = page.select_one(f"form.composer button[formaction='/ticket/{ident}/queue']")
    assert button is not None and button.get_text(strip=True) == "Send to worker"
    assert "worker-2" in text_of(str(page), "#send-to-worker-hint")
    assert page.select("#timeline li.sent") == []
    harness.client.cookies.clear()
    harness.login("read")
    assert soup(harness.client.get(f"/ticket/{ident}").text).select_one("form.composer") is None


def test_send_to_worker_refuses_empty_text(harness: Harness) -> None:
    csrf = harness.login()
    ident = harness.ticket("Queue work")
    response = harness.client.post(f"/ticket/{ident}/queue", data={"body": "  ", "_csrf": csrf})
    assert response.status_code == 400 and response.text == "A message for the worker needs some text."
    assert harness.call(queue.list_messages, harness.db, None, 10) == []


# --- two real servers on one database ------------------------------------------------------------------------


def new_token(db: Path, scope: str, capsys: pytest.CaptureFixture[str]) -> str:
    """A token made by `mc token create`."""
    assert mc(["token", "create", "--scope", scope, "--db", str(db)]) == 0
    return capsys.readouterr().out.strip().splitlines()[-1]


@pytest.mark.server
def test_two_servers_on_one_database_never_hand_out_a_message_twice(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "mc.db"
    token = new_token(db, "worker", capsys)
    with sqlite3.connect(db) as conn:
        conn.executemany("INSERT INTO queued_messages (body) VALUES (?)", [(f"job {n}",) for n in range(150)])
    servers = [start_server(db), start_server(db)]
    claimed: list[int] = []
    lock = threading.Lock()

    def drain(base_url: str, worker: str) -> None:
        with httpx.Client(base_url=base_url, headers=bearer(token), timeout=10) as client:
            while (answer := client.post("/api/v1/queue/claim", json={"worker": worker})).status_code == 200:
                with lock:
                    claimed.append(answer.json()["id"])
            assert answer.status_code == 204, answer.text

    try:
        threads = [
            threading.Thread(target=drain, args=(servers[n % 2].base_url, f"worker-{n}")) for n in range(8)
        ]  # fmt: skip
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    finally:
        for server in servers:
            server.stop()
    assert len(claimed) == 150 and sorted(claimed) == list(range(1, 151))
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT status, count(*) FROM queued_messages GROUP BY status").fetchall() == [
            ("leased", 150)
        ]

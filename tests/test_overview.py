"""The Overview's "Needs you": tickets in review or blocked, messages that will not be delivered (requeue or
dismiss in place), failed tasks (retry), stalled runs and workers out of touch; empty when nothing needs you."""

from __future__ import annotations

from typing import Any

from app.store import queue, tickets
from tests.conftest import Harness, bearer, soup


async def sql(harness: Harness, statement: str, *params: Any) -> None:
    async with harness.db.write() as conn:
        await conn.execute(statement, params)


def needs(harness: Harness) -> Any:
    return soup(harness.client.get("/").text).select_one("#needs-you")


def test_nothing_needs_you_says_so_and_comes_first(harness: Harness) -> None:
    harness.login()
    harness.ticket("Quietly in the backlog")
    page = soup(harness.client.get("/").text)
    assert page.select("section")[0]["id"] == "needs-you"
    assert "Nothing needs you" in page.select_one("#needs-you [role=status]").get_text()
    assert page.select("section")[-1].select_one("h2").get_text() == "Health", "database internals come last"


def test_what_waits_on_a_person_is_listed_each_one_click_from_its_fix(harness: Harness) -> None:
    csrf = harness.login()
    review = harness.ticket("Check the migration", status="review")
    harness.ticket("Waiting on the vendor", status="blocked")
    worker = bearer(harness.token("worker", "worker-3"))

    async def lost_message() -> int:
        ticket = await tickets.get_ticket(harness.db, review)
        assert ticket is not None
        message_id = await queue.enqueue(harness.db, ticket.id, "worker-3", "Please rebase on main")
        await sql(harness, "UPDATE queued_messages SET status = 'dead', attempts = 5, last_error = 'worker gone' "
                           "WHERE id = ?", message_id)  # fmt: skip
        return message_id

    message_id = harness.call(lost_message)
    run = [{"type": "system", "subtype": "init", "session_id": "s"}, {"type": "assistant", "message": {"content": []}}]
    assert (
        harness.client.post(f"/api/v1/tickets/{review}/events", json={"events": run}, headers=worker).status_code == 201
    )
    harness.call(sql, harness, "UPDATE worker_activity SET last_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-1 hour')")
    assert harness.client.post("/api/v1/heartbeats", json={"worker": "worker-9", "status": "ok"},
                               headers=worker).status_code == 201  # fmt: skip
    harness.call(sql, harness, "UPDATE heartbeats SET ts = strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-20 minutes') "
                               "WHERE worker = 'worker-9'")  # fmt: skip
    report = {"task": "backup", "status": "error", "started_at": "2026-12-01T03:00:00Z", "exit_code": 1,
              "output": "disk full"}  # fmt: skip
    assert harness.client.post("/api/v1/task-runs", json=report, headers=worker).status_code == 201

    section = needs(harness)
    text = section.get_text(" ")
    assert section.select_one("h2 .count").get_text() == "7"
    assert "Check the migration" in text and "Waiting on the vendor" in text
    assert "Please rebase on main" in text and "worker gone" in text
    assert "Task failed" in text and "backup" in text and "disk full" in text
    assert "Run stalled" in text and "worker-3 went quiet" in text
    assert "Worker stale" in text and "worker-9" in text
    assert "Worker offline" in text, "worker-3, quiet for an hour, is out of touch as well as its run"
    assert section.select_one(f'a[href="/ticket/{review}"]') is not None

    answer = harness.client.post(f"/queue/{message_id}/requeue", data={"_csrf": csrf}, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/#needs-you"
    requeued = harness.call(queue.get_message, harness.db, message_id)
    assert requeued is not None and (requeued.status, requeued.attempts) == ("queued", 0)
    assert "Please rebase on main" not in needs(harness).get_text()
    assert harness.client.post(f"/queue/{message_id}/requeue", data={"_csrf": csrf}).status_code == 409

    harness.call(sql, harness, "UPDATE queued_messages SET status = 'expired' WHERE id = ?", message_id)
    assert "Message expired" in needs(harness).get_text(" ")
    assert (
        harness.client.post(f"/queue/{message_id}/dismiss", data={"_csrf": csrf}, follow_redirects=False).status_code
        == 303
    )
    assert "Please rebase on main" not in needs(harness).get_text()
    assert harness.client.post(f"/queue/{message_id}/dismiss", data={"_csrf": csrf}).status_code == 409
    assert harness.client.post(f"/queue/{message_id}/dismiss", data={}).status_code == 403, "forms need their token"

    fragment = harness.client.get("/", headers={"HX-Request": "true"}).text
    assert 'id="needs-you"' in fragment and "<html" not in fragment

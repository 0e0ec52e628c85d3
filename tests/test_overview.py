"""The Overview's "Needs you": tickets in review or blocked, messages that will not be delivered (requeue or
dismiss in place), failed tasks (retry), stalled runs and workers out of touch; empty when nothing needs you."""

from __future__ import annotations

from typing import Any

from app.store import event_index, queue, tickets
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
    assert page.select("section")[-1].select_one("h2").get_text().startswith("Health"), "database internals come last"


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


def test_a_ticket_closes_on_the_day_it_goes_to_done_and_reopens_uncounted(harness: Harness) -> None:
    harness.login()
    ident = harness.ticket("Ship it")

    async def done_at() -> Any:
        async with harness.db.read() as conn:
            rows = await conn.execute_fetchall("SELECT done_at FROM tickets WHERE identifier = ?", (ident,))
            return rows[0][0]

    async def broadcasts() -> int:
        async with harness.db.read() as conn:
            return (await conn.execute_fetchall("SELECT count(*) FROM broadcasts WHERE kind = 'ticket'"))[0][0]

    assert harness.call(done_at) is None
    before = harness.call(broadcasts)
    harness.call(sql, harness, "UPDATE tickets SET status = 'blocked' WHERE identifier = ?", ident)
    assert harness.call(broadcasts) == before + 1 and harness.call(done_at) is None, "a move elsewhere: news once"
    before = harness.call(broadcasts)
    harness.call(sql, harness, "UPDATE tickets SET status = 'done' WHERE identifier = ?", ident)
    assert harness.call(done_at) is not None
    assert harness.call(broadcasts) == before + 1, "the move is news once, its done_at bookkeeping is not"
    chart = soup(harness.client.get("/").text).select_one("#flow-chart svg")
    assert chart["aria-label"] == "1 created, 1 closed in the last 30 days"
    harness.call(sql, harness, "UPDATE tickets SET status = 'todo' WHERE identifier = ?", ident)
    assert harness.call(done_at) is None
    assert (
        soup(harness.client.get("/").text)
        .select_one("#flow-chart svg")["aria-label"]
        .endswith("0 closed in the last 30 days")
    )
    harness.ticket("Born done", status="done")
    assert "1 closed" in soup(harness.client.get("/").text).select_one("#flow-chart svg")["aria-label"]


def test_events_per_hour_and_what_runs_now(harness: Harness) -> None:
    harness.login()
    ident = harness.ticket("Being worked on")
    worker = bearer(harness.token("worker", "worker-5"))
    run = [{"type": "system", "subtype": "init", "session_id": "s"},
           {"type": "assistant", "message": {"content": [{"type": "text", "text": "Reading the code"}]}}]  # fmt: skip
    assert (
        harness.client.post(f"/api/v1/tickets/{ident}/events", json={"events": run}, headers=worker).status_code == 201
    )
    page = soup(harness.client.get("/").text)
    running = page.select_one("#running-now")
    assert "worker-5" in running.get_text() and running.select_one(f'a[href="/ticket/{ident}"]') is not None
    assert page.select_one("#events-chart") is None, "counted only once the indexer has read them"
    harness.call(event_index.catch_up, harness.db)
    chart = soup(harness.client.get("/").text).select_one("#events-chart svg")
    assert chart["aria-label"] == "2 events posted in the last 24 hours"
    assert len(chart.select("rect")) == 24 and chart.select("rect")[-1].select_one("title").get_text().endswith(
        "2 events"
    )

    done = {"type": "result", "subtype": "success", "is_error": False, "duration_ms": 1000, "num_turns": 1}
    assert harness.client.post(f"/api/v1/tickets/{ident}/events", json=done, headers=worker).status_code == 201
    assert "No agent is working right now" in soup(harness.client.get("/").text).select_one("#running-now").get_text()


def test_the_overview_is_kept_until_something_is_written(harness: Harness) -> None:
    harness.login()
    first = harness.client.get("/")
    assert harness.client.get("/").content == first.content, "nothing written: the same page"
    assert first.headers["vary"] == "HX-Request, Accept-Encoding"
    harness.ticket("News")
    page = soup(harness.client.get("/").text)
    assert page.select_one('#ticket-stats a[href="/board#col-backlog"] .stat-n').get_text() == "1"


def test_the_health_strip_is_quiet_when_all_is_well(harness: Harness) -> None:
    harness.login()
    vitals = soup(harness.client.get("/").text).select_one("#vitals")
    assert "all well" in vitals.select_one("h2").get_text()
    names = [dt.get_text() for dt in vitals.select("dt")]
    for name in ("Database", "Last checkpoint", "Disk free", "SQLite", "Process", "Reaper", "Live streams", "Queue"):
        assert name in names
    assert not vitals.select(".vital-wrong")

"""Team: a worker is known by its heartbeats and by the events it posts, and reads working, idle, stale or
offline by how long ago it was last heard of."""

from __future__ import annotations

import time
from pathlib import Path

from app.demo.team import write_sample_team
from app.settings import Settings, load_settings
from app.store import event_index
from app.store.ops import Heartbeat, LastEvent
from app.team import load_team, members, presence_of
from tests.conftest import Harness, soup

NOW = "2026-12-02T12:00:00.000Z"


def test_presence_follows_age_and_what_the_worker_last_did() -> None:
    assert presence_of(30, "", on_run=True, stale_s=300, offline_s=3600) == "working"
    assert presence_of(30, "", on_run=False, stale_s=300, offline_s=3600) == "idle"
    assert presence_of(30, "busy", on_run=False, stale_s=300, offline_s=3600) == "working"
    assert presence_of(660, "ok", on_run=False, stale_s=300, offline_s=3600) == "stale", "11 minutes is not ok"
    assert presence_of(7200, "busy", on_run=True, stale_s=300, offline_s=3600) == "offline"
    assert presence_of(5, "down", on_run=False, stale_s=300, offline_s=3600) == "offline"
    assert presence_of(None, "", on_run=False, stale_s=300, offline_s=3600) == "offline"


def test_events_and_heartbeats_make_one_team_working_ones_first() -> None:
    beats = [
        Heartbeat("scheduler", "ok", "healthy", "2026-12-02T11:59:00.000Z", None),
        Heartbeat("worker-1", "idle", "waiting", "2026-12-02T11:00:00.000Z", None),
    ]
    events = [
        LastEvent("worker-1", "2026-12-02T11:58:30.000Z", "assistant", "MC-7"),  # newer than its heartbeat
        LastEvent("worker-9", "2026-12-02T11:59:50.000Z", "result", "MC-8"),  # no heartbeat at all
        LastEvent("worker-9", "2026-12-02T10:00:00.000Z", "assistant", "MC-2"),
    ]
    team = members(beats, events, NOW, 300, 3600)
    assert [(m.worker, m.presence, m.ticket) for m in team] == [
        ("worker-1", "working", "MC-7"),
        ("scheduler", "idle", None),
        ("worker-9", "idle", "MC-8"),
    ]
    assert team[0].reported == "idle · waiting" and team[0].on_run


def test_a_worker_that_only_posts_events_is_on_the_team(harness: Harness) -> None:
    harness.login()
    ident = harness.ticket("Piped in")
    worker = {"Authorization": f"Bearer {harness.token('worker', 'emit-worker')}"}
    event = {"type": "assistant", "message": {"content": [{"type": "text", "text": "on it"}]}}
    assert harness.client.post(f"/api/v1/tickets/{ident}/events", json=event, headers=worker).status_code == 201
    harness.call(event_index.catch_up, harness.db)  # what counts events per hour, in the background in a server
    page = soup(harness.client.get("/team").text)
    [row] = page.select("table.team-table tbody tr")
    assert row.select_one("th a").get_text() == "emit-worker"
    assert row.select_one(".badge").get_text() == "Working"
    assert row.select_one(f"td a[href='/ticket/{ident}']") is not None
    assert "events only" in row.get_text()
    assert "1 events in the last 24 hours" in row.select_one(".team-strip svg")["aria-label"], "counted by the indexer"


def test_a_card_whose_run_is_going_on_shows_who_and_what_it_did_last(harness: Harness) -> None:
    harness.login()
    ident = harness.ticket("Being worked on")
    worker = {"Authorization": f"Bearer {harness.token('worker', 'worker-4')}"}
    call = {"type": "tool_use", "id": "t1", "name": "Edit", "input": {"file_path": "app/routes/board.py"}}
    events = {"events": [{"type": "system", "subtype": "init"}, {"type": "assistant", "message": {"content": [call]}}]}
    assert harness.client.post(f"/api/v1/tickets/{ident}/events", json=events, headers=worker).status_code == 201
    mark = soup(harness.client.get("/board").text).select_one(f"#card-{ident} .live-mark")
    assert mark is not None
    assert mark.select_one(".live-who").get_text() == "worker-4"
    assert mark.select_one(".live-what").get_text() == "Edit: app/routes/board.py"
    done = {"type": "result", "subtype": "success"}
    assert harness.client.post(f"/api/v1/tickets/{ident}/events", json=done, headers=worker).status_code == 201
    deadline = time.monotonic() + 3  # the run's end is news: the marks are read afresh once the poller hears it
    while soup(harness.client.get("/board").text).select_one(f"#card-{ident} .live-mark") is not None:
        assert time.monotonic() < deadline, "the mark stayed after the run ended"
        time.sleep(0.05)


def test_what_a_worker_did_last_is_written_at_once_at_a_runs_edges_and_within_a_second_between(
    harness: Harness,
) -> None:
    """worker_activity is not written with every batch: at once when a pair is new or its run ends, otherwise
    by a later batch or, once the writer is idle, on its own within about a second."""
    ident = harness.ticket("Busy")
    worker = {"Authorization": f"Bearer {harness.token('worker', 'worker-3')}"}
    url = f"/api/v1/tickets/{ident}/events"

    def activity() -> list[tuple[object, ...]]:
        async def read() -> list[tuple[object, ...]]:
            async with harness.db.read() as conn:
                cursor = await conn.execute("SELECT worker, last_seq, last_type FROM worker_activity")
                return [tuple(row) for row in await cursor.fetchall()]

        return harness.call(read)

    def post(event: dict[str, object]) -> None:
        assert harness.client.post(url, json=event, headers=worker).status_code == 201

    post({"type": "system", "subtype": "init"})
    assert activity() == [("worker-3", 1, "system")]  # a new pair: at once
    post({"type": "assistant", "message": {"content": [{"type": "text", "text": "step"}]}})
    post({"type": "assistant", "message": {"content": [{"type": "text", "text": "step"}]}})
    deadline = time.monotonic() + 5
    while activity() != [("worker-3", 3, "assistant")] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert activity() == [("worker-3", 3, "assistant")], "written once the writer was idle"
    post({"type": "result", "subtype": "success"})
    assert activity() == [("worker-3", 4, "result")]  # the run ended: at once


def test_a_run_that_went_quiet_marks_its_card_and_team_says_so(harness: Harness) -> None:
    harness.login()
    ident = harness.ticket("Left hanging")
    worker = {"Authorization": f"Bearer {harness.token('worker', 'worker-7')}"}
    events = {"events": [{"type": "system", "subtype": "init"}, {"type": "assistant", "message": {"content": []}}]}
    assert harness.client.post(f"/api/v1/tickets/{ident}/events", json=events, headers=worker).status_code == 201

    async def quiet() -> None:
        async with harness.db.write() as conn:
            await conn.execute(
                "UPDATE worker_activity SET last_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-20 minutes')"
            )

    harness.call(quiet)
    harness.call(harness.client.app.state.mc.live.expire)
    mark = soup(harness.client.get("/board").text).select_one(f"#card-{ident} .live-mark")
    assert mark is not None and "stale-mark" in mark["class"]
    assert mark.select_one(".live").get_text() == "stalled" and "went quiet" in mark.get_text()
    row = soup(harness.client.get("/team").text).select_one("table.team-table tbody tr")
    assert row.select_one(".badge").get_text() == "Stale" and "run went quiet" in row.get_text()
    assert "No agent is working right now" in soup(harness.client.get("/").text).select_one("#running-now").get_text()


def test_team_counts_sessions_today_and_tickets_done_this_week(harness: Harness) -> None:
    harness.login()
    worker = {"Authorization": f"Bearer {harness.token('worker', 'worker-8')}"}
    ident = harness.ticket("Assigned", assigned_to="worker-8")
    init = {"type": "system", "subtype": "init", "session_id": "sess-1"}
    assert harness.client.post(f"/api/v1/tickets/{ident}/events", json=init, headers=worker).status_code == 201

    async def close() -> None:
        async with harness.db.write() as conn:
            await conn.execute("UPDATE tickets SET status = 'done' WHERE identifier = ?", (ident,))
            await conn.execute("UPDATE sessions SET agent = 'worker-8'")

    harness.call(close)
    row = soup(harness.client.get("/team").text).select_one("table.team-table tbody tr")
    cells = [td.get_text(" ", strip=True) for td in row.select("td")]
    assert "1 sessions today" in cells and "1 done this week" in cells


def test_the_team_file_names_roles_and_commands_and_says_what_is_wrong(harness: Harness, settings: Settings) -> None:
    harness.login()
    settings.team_path.write_text(
        '[[agents]]\nname = "worker-1"\nrole = "Coding agent"\ncommand = "claude -p --output-format stream-json"\n\n'
        '[[agents]]\nname = "lucienne"\nrole = "Personal assistant"\n\n'
        '[[agents]]\nname = "worker-1"\n\n'
        '[[agents]]\nrole = "nameless"\n'
    )
    worker = {"Authorization": f"Bearer {harness.token('worker', 'worker-1')}"}
    assert harness.client.post("/api/v1/heartbeats", json={"worker": "worker-1", "status": "ok"},
                               headers=worker).status_code == 201  # fmt: skip
    page = soup(harness.client.get("/team").text)
    rows = {tr.select_one("th a").get_text(): tr for tr in page.select("table.team-table tbody tr")}
    assert set(rows) == {"worker-1", "lucienne"}
    assert rows["worker-1"].select_one(".team-role").get_text() == "Coding agent"
    assert "stream-json" in rows["worker-1"].select_one(".team-command").get_text()
    assert rows["lucienne"].select_one(".badge").get_text() == "Offline", "named, never heard of"
    assert "never heard of" in rows["lucienne"].get_text()
    problems = page.select_one("#team-problems-title").find_parent("section").get_text(" ")
    assert "'worker-1' is named twice" in problems and "Agent 4:" in problems
    assert "lucienne" not in soup(harness.client.get("/").text).select_one("#needs-you").get_text(), (
        "an agent never heard of is not out of touch"
    )


def test_the_demo_writes_a_sample_team_file_only_when_there_is_none(tmp_path: Path) -> None:
    settings = load_settings({}, db=str(tmp_path / "mc.db"))
    assert write_sample_team(settings).startswith(f"Wrote a sample team file to {tmp_path / 'team.toml'}")
    sample = load_team(str(tmp_path / "team.toml"))
    assert not sample.problems and {"lucienne", "worker-1", "scheduler"} <= {a.name for a in sample.agents}
    (tmp_path / "team.toml").write_text("# mine\n")
    assert write_sample_team(settings).startswith("Left ")
    assert (tmp_path / "team.toml").read_text() == "# mine\n"

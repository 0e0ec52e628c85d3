"""Scheduled tasks: the tasks file, cron's next run, and the scheduler running real processes (output, exit
status, timeout, one run at a time, a command that cannot run, "Run now", the one-process lock)."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from app.db import Database
from app.reaper import ProcessLock
from app.scheduler import Scheduler
from app.settings import Settings, load_settings
from app.store import tasks as store
from app.tasks import Task, current_tasks, load_tasks
from tests.conftest import TEST_HOST, Harness, bearer, soup


def tasks_file(tmp_path: Path, text: str) -> str:
    path = tmp_path / "tasks.toml"
    path.write_text(text)
    return str(path)


def scheduler(db: Database, path: str) -> Scheduler:
    return Scheduler(db, load_settings({}, db=str(db.path), tasks_file=path))


async def runs(db: Database, name: str | None = None) -> list[store.Run]:
    return await store.recent_runs(db, name, None, 100)


async def run_one(db: Database, tmp_path: Path, command: str, timeout: float = 300) -> store.Run:
    """A task of `command` run once by a scheduler, waited for; its run."""
    path = tasks_file(
        tmp_path, f'[[tasks]]\nname = "one"\ncron = "0 0 1 1 *"\ncommand = """{command}"""\ntimeout = {timeout}\n'
    )
    s = scheduler(db, path)
    s.reload()
    assert await s.run_task(s.tasks.tasks[0], "manual")
    await s.wait()
    (run,) = await runs(db, "one")
    return run


def test_the_tasks_file_keeps_what_is_right_and_says_what_is_wrong(tmp_path: Path) -> None:
    path = tasks_file(tmp_path, """
[[tasks]]
name = "backup"
cron = "15 3 * * *"
command = "mc backup"
timeout = 600

[[tasks]]
name = "bad cron"
cron = "every day"
command = "true"

[[tasks]]
name = "backup"
cron = "* * * * *"
command = "echo twice"

[[tasks]]
name = "no command"
cron = "* * * * *"

[[tasks]]
name = "typo"
cron = "* * * * *"
command = "true"
enabeld = false
""")  # fmt: skip
    found = load_tasks(path)
    assert [t.name for t in found.tasks] == ["backup"] and found.tasks[0].timeout == 600
    assert len(found.problems) == 4
    assert "'every day' is not a cron schedule" in found.problems[0] and "named twice" in found.problems[1]
    assert "command" in found.problems[2] and "enabeld" in found.problems[3]
    assert load_tasks("").tasks == [] and load_tasks("").problems == []
    assert "does not exist" in load_tasks(str(tmp_path / "nope.toml")).problems[0]
    assert "not valid TOML" in load_tasks(tasks_file(tmp_path, "[[tasks]\n")).problems[0]


def test_next_run_follows_cron_in_local_time() -> None:
    task = Task("hourly", "30 * * * *", "true")
    at = dt.datetime(2026, 12, 2, 10, 45, tzinfo=dt.UTC)
    following = task.next_run(at)
    assert following > at and following - at <= dt.timedelta(hours=1)
    assert following.astimezone().minute == 30


async def test_a_run_keeps_its_output_exit_status_and_duration(db: Database, tmp_path: Path) -> None:
    run = await run_one(db, tmp_path, "echo hello; echo oops >&2; exit 3")
    assert (run.status, run.exit_code, run.trigger) == ("error", 3, "manual")
    assert run.output == "hello\noops" and run.duration_ms is not None and run.finished_at


async def test_a_run_past_its_timeout_is_stopped_with_its_whole_process_group(db: Database, tmp_path: Path) -> None:
    marker = tmp_path / "child-alive"
    began = time.monotonic()
    run = await run_one(db, tmp_path, f"(sleep 30; touch {marker}) & echo started; sleep 30", timeout=0.5)
    assert time.monotonic() - began < 5
    assert run.status == "error" and "timeout of 0.5 s" in run.output and run.output.startswith("started")
    assert run.exit_code is not None and run.exit_code < 0  # ended by a signal


async def test_one_run_at_a_time_per_task_the_second_is_recorded_as_skipped(db: Database, tmp_path: Path) -> None:
    path = tasks_file(tmp_path, '[[tasks]]\nname = "long"\ncron = "0 0 1 1 *"\ncommand = "sleep 0.5"\n')
    s = scheduler(db, path)
    s.reload()
    assert await s.run_task(s.tasks.tasks[0], "schedule")
    assert not await s.run_task(s.tasks.tasks[0], "manual")
    await s.wait()
    statuses = sorted(r.status for r in await runs(db, "long"))
    assert statuses == ["ok", "skipped"]


async def test_a_command_that_cannot_run_is_an_error_with_the_shells_words(db: Database, tmp_path: Path) -> None:
    run = await run_one(db, tmp_path, "no-such-program-x")
    assert run.status == "error" and run.exit_code == 127 and "not found" in run.output


async def test_a_long_output_keeps_its_end(db: Database, tmp_path: Path) -> None:
    run = await run_one(db, tmp_path, "seq 1 100000; echo THE END")
    assert run.status == "ok" and run.output.endswith("THE END") and run.output.startswith("[… earlier output")
    assert len(run.output.encode()) < 70_000


async def test_ticks_start_due_tasks_and_requests_and_only_the_lock_holder_schedules(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tasks_file(tmp_path, """
[[tasks]]
name = "every minute"
cron = "* * * * *"
command = "echo tick"

[[tasks]]
name = "off"
cron = "* * * * *"
command = "echo never"
enabled = false

[[tasks]]
name = "yearly"
cron = "0 0 1 1 *"
command = "echo asked"
""")  # fmt: skip
    s = scheduler(db, path)
    other = ProcessLock(db.path, "scheduler")
    assert other.acquire()
    await s.tick()
    assert await runs(db) == [], "another process schedules"
    other.release()
    now = dt.datetime.now(dt.UTC)
    clock: dict[str, Any] = {"now": now}
    monkeypatch.setattr("app.scheduler.utcnow", lambda: clock["now"])
    await s.tick()  # plans: nothing is due yet
    await store.request_run(db, "yearly", "admin")
    await store.request_run(db, "not in the file", "admin")
    clock["now"] = now + dt.timedelta(minutes=1, seconds=1)
    await s.tick()
    await s.wait()
    done = {(r.task_name, r.trigger, r.status, r.output) for r in await runs(db)}
    assert done == {("every minute", "schedule", "ok", "tick"), ("yearly", "manual", "ok", "asked")}
    await s.tick()
    assert len(await runs(db)) == 2, "a request is taken once; the minute's run is not repeated"
    await s.stop()
    assert not ProcessLock(db.path, "scheduler").taken_elsewhere()


async def test_stopping_the_scheduler_stops_a_run_and_records_it(db: Database, tmp_path: Path) -> None:
    path = tasks_file(tmp_path, '[[tasks]]\nname = "hang"\ncron = "0 0 1 1 *"\ncommand = "echo begun; sleep 60"\n')
    s = scheduler(db, path)
    s.reload()
    await s.run_task(s.tasks.tasks[0], "schedule")
    await asyncio.sleep(0.3)
    await s.stop()
    (run,) = await runs(db, "hang")
    assert run.status == "error" and "the scheduler was stopped" in run.output and "begun" in run.output


# --- the page, Run now and the API, on an app whose scheduler runs ------------------------------------------

PAGE_TASKS = """
[[tasks]]
name = "greet"
cron = "0 0 1 1 *"
command = "echo hello from greet"

[[tasks]]
name = "paused"
cron = "*/5 * * * *"
command = "true"
enabled = false

[[tasks]]
name = "broken"
cron = "61 * * * *"
command = "true"
"""


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """The harness's settings with a tasks file and a quick scheduler."""
    return load_settings(
        {}, data_dir=str(tmp_path / "data"), allowed_hosts=TEST_HOST, login_attempts_per_minute=5,
        tasks_file=tasks_file(tmp_path, PAGE_TASKS), scheduler_tick_s=0.1,
    )  # fmt: skip


def wait_for(check: Any, seconds: float = 10) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if found := check():
            return found
        time.sleep(0.1)
    raise AssertionError("not within the time")


def test_the_page_lists_tasks_and_run_now_runs_one(harness: Harness) -> None:
    csrf = harness.login()
    page = soup(harness.client.get("/tasks").text)
    assert [h.contents[0].strip() for h in page.select(".task-name")] == ["greet", "paused"]
    assert "'61 * * * *' is not a cron schedule" in page.select_one(".task-problems").get_text()
    assert "Never run yet" in page.select_one("#task-greet").get_text()
    assert "next" in page.select_one("#task-greet .task-facts").get_text()
    assert "off" in page.select_one("#task-paused .task-name").get_text()
    answer = harness.client.post("/tasks/greet/run", data={"_csrf": csrf}, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/tasks#task-greet"
    assert harness.client.post("/tasks/nope/run", data={"_csrf": csrf}).status_code == 404
    assert harness.client.post("/tasks/greet/run", data={}).status_code == 403, "a form needs its CSRF token"

    def finished() -> Any:
        html = soup(harness.client.get("/tasks").text)
        run = html.select_one(".task-run-ok")
        return html if run is not None else None

    html = wait_for(finished)
    run = html.select_one(".task-run-ok")
    assert "greet" in run.get_text() and "run now" in run.get_text()
    assert html.select_one(".task-run-ok pre").get_text() == "hello from greet"
    assert html.select_one("#task-greet svg.sparkline[role=img]") is not None
    assert "0 of the last 1 failed" in html.select_one("#task-greet .task-facts").get_text(" ")
    fragment = harness.client.get("/tasks", headers={"HX-Request": "true"})
    assert "<html" not in fragment.text and 'id="tasks"' in fragment.text


def test_an_external_scheduler_reports_runs_and_they_page_by_keyset(harness: Harness) -> None:
    harness.login()
    worker = bearer(harness.token("worker"))
    body = {"task": "nightly report", "status": "error", "started_at": "2026-12-01T03:00:00Z",
            "finished_at": "2026-12-01T03:00:02.5Z", "exit_code": 2, "output": "disk full"}  # fmt: skip
    answer = harness.client.post("/api/v1/task-runs", json=body, headers=worker)
    assert answer.status_code == 201, answer.text
    backwards = body | {"finished_at": "2026-12-01T02:59:00Z"}
    assert harness.client.post("/api/v1/task-runs", json=backwards, headers=worker).status_code == 422
    assert harness.client.post("/api/v1/task-runs", json=body | {"status": "maybe"}, headers=worker).status_code == 400
    for n in range(34):
        ok = {"task": "nightly report", "status": "ok", "started_at": f"2026-11-{(n % 28) + 1:02d}T03:00:{n:02d}Z",
              "duration_ms": 1000 + n}  # fmt: skip
        assert harness.client.post("/api/v1/task-runs", json=ok, headers=worker).status_code == 201
    page = soup(harness.client.get("/tasks").text)
    row = page.select_one("#task-nightly-report")
    assert "not in the tasks file" in row.get_text() and "exit 2" in row.get_text() and "2.5 s" in row.get_text()
    assert "task-failing" in row["class"] and row.select("circle.spark-fail")
    first = page.select(".task-run")
    older = page.select_one('.pager a[rel="next"]')["href"]
    second = soup(harness.client.get(older).text).select(".task-run")
    assert len(first) == 30 and len(second) == 5 + 0, "35 runs: 30 and 5"
    only = soup(harness.client.get("/tasks", params={"task": "greet"}).text)
    assert "No runs of greet yet." in only.get_text()
    assert harness.client.get("/tasks", params={"before": "nonsense"}).status_code == 400


def test_the_command_runs_what_this_minute_is_due_for_and_refuses_a_second_scheduler(tmp_path: Path) -> None:
    path = tasks_file(tmp_path, """
[[tasks]]
name = "every minute"
cron = "* * * * *"
command = "echo from cron"

[[tasks]]
name = "yearly"
cron = "0 0 1 1 *"
command = "echo not now"
""")  # fmt: skip
    db = tmp_path / "mc.db"
    env = {**os.environ, "MC_TASKS_FILE": path}
    command = [sys.executable, "-m", "app.cli", "scheduler", "--once", "--db", str(db)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 0, done.stderr
    assert "Started 1 runs" in done.stdout
    lock = ProcessLock(db, "scheduler")
    assert lock.acquire()
    try:
        busy = subprocess.run(command, capture_output=True, text=True, timeout=60, env=env)
    finally:
        lock.release()
    assert busy.returncode != 0 and "another scheduler is running" in busy.stderr
    without = subprocess.run(command, capture_output=True, text=True, timeout=60,
                             env={k: v for k, v in os.environ.items() if k != "MC_TASKS_FILE"})  # fmt: skip
    assert without.returncode != 0 and "MC_TASKS_FILE" in without.stderr


def test_the_tasks_file_is_read_again_only_when_it_changes(tmp_path: Path) -> None:
    path = tasks_file(tmp_path, '[[tasks]]\nname = "a"\ncron = "* * * * *"\ncommand = "true"\n')
    first = current_tasks(path)
    assert current_tasks(path) is first, "unchanged: not read again"
    Path(path).write_text('[[tasks]]\nname = "b"\ncron = "* * * * *"\ncommand = "true --longer"\n')
    assert [t.name for t in current_tasks(path).tasks] == ["b"]
    missing = str(tmp_path / "gone.toml")
    assert current_tasks(missing) is current_tasks(missing) and current_tasks(missing).problems

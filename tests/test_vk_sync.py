"""`mc vk sync` and the sync inside `mc serve`: a running Vibe Kanban (a fake on 127.0.0.1) onto tickets, statuses
changed here pushed back, conflicts settled by the newer change and kept, and a VK that is down, slow, talking
nonsense or refusing: one clear line, tries again, nothing half-written."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest
from litestar.testing import TestClient

from app.db import Database
from app.main import create_app
from app.settings import Settings, load_settings
from app.vk_client import VkRefused, VkUnavailable
from app.vk_import import Importer
from app.vk_sync import Syncer, SyncReport, VkSyncer
from tests.fakes.vibe_kanban import FakeVibeKanban
from tests.vk_db import VkDb, count, rows, text, ticket


@pytest.fixture
def fake() -> Iterator[FakeVibeKanban]:
    with FakeVibeKanban() as server:
        yield server


@pytest.fixture
def settings(tmp_path: Path, fake: FakeVibeKanban) -> Settings:
    return load_settings({}, data_dir=str(tmp_path / "data"), vk_url=fake.base_url, vk_timeout_s=0.5)


def board(fake: FakeVibeKanban) -> dict[str, str]:
    hub = fake.project("Mission Control")
    return {
        "hub": hub,
        "todo": fake.task(hub, "Write the importer", "todo", "Read VK's file."),
        "review": fake.task(hub, "Review the sync", "inreview"),
        "cancelled": fake.task(fake.project("Home Site"), "Try Gatsby", "cancelled"),
    }


async def sync(db: Database, settings: Settings) -> SyncReport:
    return await Syncer(db, settings, backoff_s=0.01).sync_once()


async def test_sync_creates_tickets_and_a_second_sync_changes_nothing(
    db: Database, settings: Settings, fake: FakeVibeKanban
) -> None:
    ids = board(fake)
    report = await sync(db, settings)
    assert (report.projects, report.tasks, report.tickets.created) == (2, 3, 3)
    todo = await ticket(db, "Write the importer")
    assert (todo["status"], todo["description"], todo["tags"]) == ("todo", "Read VK's file.", ["mission-control"])
    assert (await ticket(db, "Try Gatsby"))["tags"] == ["cancelled", "home-site"]
    mapped = await rows(db, "SELECT vk_project, vk_task_id FROM vk_sync WHERE vk_task_id = ?", ids["todo"])
    assert mapped == [{"vk_project": ids["hub"], "vk_task_id": ids["todo"]}]
    again = await sync(db, settings)
    assert (again.tickets.created, again.tickets.updated, again.tickets.unchanged) == (0, 0, 3)
    assert not again.eventful and fake.puts == []


async def test_a_change_in_vk_updates_its_ticket(db: Database, settings: Settings, fake: FakeVibeKanban) -> None:
    ids = board(fake)
    await sync(db, settings)
    fake.change(ids["todo"], title="Write the VK importer", status="inprogress")
    report = await sync(db, settings)
    assert (report.tickets.updated, report.tickets.unchanged) == (1, 2)
    assert (await ticket(db, "Write the VK importer"))["status"] == "in_progress"


async def test_a_status_changed_here_is_pushed_back(db: Database, settings: Settings, fake: FakeVibeKanban) -> None:
    ids = board(fake)
    await sync(db, settings)
    async with db.write() as conn:
        await conn.execute("UPDATE tickets SET status = 'review' WHERE title = 'Write the importer'")
    report = await sync(db, settings)
    assert fake.puts == [(ids["todo"], {"status": "inreview"})]
    assert fake.tasks[ids["todo"]]["status"] == "inreview"
    assert len(report.pushed) == 1 and report.pushed[0].endswith("→ inreview")
    state = await rows(db, "SELECT state FROM vk_sync WHERE vk_task_id = ?", ids["todo"])
    assert state == [{"state": "synced"}]
    quiet = await sync(db, settings)  # agreed now: nothing to send, nothing to change
    assert len(fake.puts) == 1 and quiet.tickets.updated == 0 and not quiet.conflicts


async def test_blocked_here_is_in_progress_there_and_stays_blocked(
    db: Database, settings: Settings, fake: FakeVibeKanban
) -> None:
    ids = board(fake)
    fake.change(ids["todo"], status="inprogress")
    await sync(db, settings)
    async with db.write() as conn:
        await conn.execute("UPDATE tickets SET status = 'blocked' WHERE title = 'Write the importer'")
    await sync(db, settings)
    await sync(db, settings)
    assert fake.puts == []  # VK has no Blocked: in progress is the nearest, and it is that already
    assert (await ticket(db, "Write the importer"))["status"] == "blocked"


async def test_a_conflict_goes_to_the_newer_change_and_is_listed(
    db: Database, settings: Settings, fake: FakeVibeKanban
) -> None:
    ids = board(fake)
    await sync(db, settings)
    async with db.write() as conn:  # both changed here at 2026-02-10
        await conn.execute("UPDATE tickets SET status = 'blocked', updated_at = '2026-02-10T00:00:00.000Z' "
                           "WHERE title IN ('Write the importer', 'Review the sync')")  # fmt: skip
    fake.change(ids["todo"], status="done", updated_at="2026-03-01T00:00:00.000000Z")  # newer there
    fake.change(ids["review"], status="todo", updated_at="2026-01-20T00:00:00.000000Z")  # older there
    report = await sync(db, settings)
    assert (await ticket(db, "Write the importer"))["status"] == "done"
    assert (await ticket(db, "Review the sync"))["status"] == "blocked"
    assert fake.puts == [(ids["review"], {"status": "inprogress"})]  # ours won, so VK hears of it
    assert len(report.conflicts) == 2 and any("VK won" in c for c in report.conflicts)
    kept = await rows(db, "SELECT ours, theirs, winner, via FROM vk_conflicts ORDER BY theirs")
    assert kept == [{"ours": "blocked", "theirs": "done", "winner": "theirs", "via": "sync"},
                    {"ours": "blocked", "theirs": "todo", "winner": "ours", "via": "sync"}]  # fmt: skip


async def test_vk_down_is_one_line_tried_three_times_and_writes_nothing(
    db: Database, settings: Settings, fake: FakeVibeKanban
) -> None:
    board(fake)
    fake.down = True
    with pytest.raises(VkUnavailable) as failed:
        await sync(db, settings)
    assert str(failed.value) == f"Vibe Kanban at {fake.base_url} answered GET /api/projects with HTTP 503 (3 tries)"
    assert fake.requests == [("GET", "/api/projects")] * 3
    assert await count(db, "tickets") == 0


async def test_vk_not_running_at_all_is_one_line(db: Database, settings: Settings) -> None:
    with socket.socket() as free:  # a loopback port nothing listens on
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    nobody = msgspec.structs.replace(settings, vk_url=f"http://127.0.0.1:{port}")
    with pytest.raises(VkUnavailable, match=r"cannot be reached \(ConnectError.*\(3 tries\)"):
        await sync(db, nobody)


async def test_a_slow_answer_times_out_and_is_tried_again(
    db: Database, settings: Settings, fake: FakeVibeKanban
) -> None:
    board(fake)
    fake.slow_s = 1.0
    started = time.monotonic()
    with pytest.raises(VkUnavailable, match=r"did not answer GET /api/projects within 0\.5 s \(3 tries\)"):
        await sync(db, settings)
    assert time.monotonic() - started < 3.5 and len(fake.requests) == 3
    assert await count(db, "tickets") == 0


async def test_garbage_is_said_plainly(db: Database, settings: Settings, fake: FakeVibeKanban) -> None:
    board(fake)
    fake.garbage = True
    with pytest.raises(VkUnavailable, match=r"something that is not its JSON \(\{success, data, message\}; HTTP 200"):
        await sync(db, settings)


async def test_success_false_is_vks_own_refusal_said_as_it_said_it(
    db: Database, settings: Settings, fake: FakeVibeKanban
) -> None:
    board(fake)
    fake.refuse = "Project not found"
    with pytest.raises(VkRefused) as refused:
        await sync(db, settings)
    assert str(refused.value) == f"Vibe Kanban at {fake.base_url} refused GET /api/projects: Project not found"
    assert len(fake.requests) == 1  # an answer, not a failure: not asked again


async def test_vk_failing_half_way_through_the_reads_writes_nothing(
    db: Database, settings: Settings, fake: FakeVibeKanban
) -> None:
    ids = board(fake)
    fake.fail_tasks_of = fake.projects[1]["id"]  # the first project's tasks came; the second's do not
    with pytest.raises(VkUnavailable, match="HTTP 500"):
        await sync(db, settings)
    assert await count(db, "tickets") == 0 and ids


async def test_a_vk_that_takes_no_changes_keeps_ours_pending(
    db: Database, settings: Settings, fake: FakeVibeKanban
) -> None:
    ids = board(fake)
    await sync(db, settings)
    fake.read_only = True
    async with db.write() as conn:
        await conn.execute("UPDATE tickets SET status = 'done' WHERE title = 'Write the importer'")
    syncer = Syncer(db, settings, backoff_s=0.01)
    report = await syncer.sync_once()
    assert "does not take task changes (PUT" in report.read_only and report.not_pushed
    assert await rows(db, "SELECT state FROM vk_sync WHERE vk_task_id = ?", ids["todo"]) == [{"state": "pending"}]
    assert (await ticket(db, "Write the importer"))["status"] == "done"  # kept here
    puts = [r for r in fake.requests if r[0] == "PUT"]
    await syncer.sync_once()  # this process does not ask again
    assert [r for r in fake.requests if r[0] == "PUT"] == puts


async def test_an_import_and_a_sync_meet_on_the_same_ids(
    db: Database, settings: Settings, fake: FakeVibeKanban, tmp_path: Path
) -> None:
    vk = VkDb(tmp_path / "db.sqlite")
    project = vk.project("Mission Control")
    task = vk.task(project, "Write the importer", "inreview", "Read VK's file.")
    vk.close()
    await Importer(db, settings).run(tmp_path / "db.sqlite")
    fake.projects.append({"id": text(project), "name": "Mission Control"})
    fake.tasks[text(task)] = {"id": text(task), "project_id": text(project), "title": "Write the importer",
                              "description": "Read VK's file.", "status": "inreview",
                              "created_at": "2026-01-06T10:00:00Z", "updated_at": "2026-01-06T10:00:00Z"}  # fmt: skip
    report = await sync(db, settings)
    assert (report.tickets.created, report.tickets.updated, report.tickets.unchanged) == (0, 0, 1)


async def test_the_server_syncs_on_its_own_and_pauses_after_failures(settings: Settings, fake: FakeVibeKanban) -> None:
    board(fake)
    fast = load_settings({}, data_dir=settings.data_dir, vk_url=fake.base_url, vk_sync_s=1, vk_timeout_s=0.5)
    app = create_app(fast)
    with TestClient(app) as client:
        db = client.app.state.mc.db
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with client.portal() as portal:
                found = portal.call(count, db, "tickets")
            if found == 3:
                break
            time.sleep(0.2)
        assert found == 3
    syncer = VkSyncer(Database(Path(settings.data_dir) / "unused.db"), fast)
    fake.down = True
    syncer.syncer.backoff_s = 0.01
    said: list[str] = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = lambda record: said.append(record.getMessage())  # type: ignore[method-assign]
    logging.getLogger("mc.vk").addHandler(handler)  # (the app's logging config may stop records reaching caplog)
    try:
        await syncer.tick()  # fails: the next try is the next interval
        await syncer.tick()  # fails again: the pause doubles
        asked = len(fake.requests)
        await syncer.tick()  # paused: VK is not asked
    finally:
        logging.getLogger("mc.vk").removeHandler(handler)
    assert syncer.failures == 2 and len(fake.requests) == asked
    assert said[-1].startswith("vk sync: Vibe Kanban at") and said[-1].endswith("(3 tries); next try in 2 s")
    assert not syncer.lock.held  # the lock is held only for a round


def test_the_cli_reports_and_fails_in_one_line(fake: FakeVibeKanban, tmp_path: Path) -> None:
    from tests.test_cli import assert_one_line_error, mc

    board(fake)
    db = str(tmp_path / "mc.db")
    done = mc("vk", "sync", "--url", fake.base_url, "--db", db)
    assert done.returncode == 0, done.stderr
    assert f"Vibe Kanban at {fake.base_url}: 2 projects, 3 tasks" in done.stdout and "3 created" in done.stdout
    fake.down = True
    assert_one_line_error(mc("vk", "sync", "--url", fake.base_url, "--db", db, env={"MC_VK_TIMEOUT_S": "0.5"}),
                          "answered GET /api/projects with HTTP 503 (3 tries)")  # fmt: skip
    assert_one_line_error(mc("vk", "sync", "--db", db, env={"MC_VK_URL": ""}), "no Vibe Kanban address")


def test_the_cli_imports_a_file_and_dry_runs(tmp_path: Path) -> None:
    from tests.test_cli import assert_one_line_error, mc

    vk = VkDb(tmp_path / "db.sqlite")
    vk.task(vk.project("Mission Control"), "Write the importer")
    vk.close()
    db = str(tmp_path / "mc.db")
    dry = mc("vk", "import", "--from-db", str(tmp_path / "db.sqlite"), "--dry-run", "--db", db)
    assert dry.returncode == 0, dry.stderr
    assert "Tickets: 1 would be created" in dry.stdout and "Dry run: nothing was written." in dry.stdout
    done = mc("vk", "import", "--from-db", str(tmp_path / "db.sqlite"), "--db", db)
    assert done.returncode == 0 and "Tickets: 1 created, 0 updated, 0 unchanged" in done.stdout
    again = mc("vk", "import", "--from-db", str(tmp_path / "db.sqlite"), "--db", db)
    assert "Tickets: 0 created, 0 updated, 1 unchanged" in again.stdout
    assert_one_line_error(mc("vk", "import", "--from-db", str(tmp_path / "nope.sqlite"), "--db", db), "no such file")

"""`mc vk import`: Vibe Kanban databases of both schemas into tickets, comments, links and run events; a second
import changes only what changed; a dry run writes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.db import Database
from app.settings import Settings, load_settings
from app.sqlite import driver as sqlite3
from app.store.vk_source import VkFile, VkSourceError, default_path
from app.vk_import import Importer, Report
from tests.vk_db import VkDb, claude_event_count, claude_logs, count, rows, stdout, text, ticket


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings({}, data_dir=str(tmp_path / "data"))


async def import_file(db: Database, settings: Settings, path: Path, dry_run: bool = False) -> Report:
    return await Importer(db, settings, dry_run=dry_run).run(path)


def board_0_1_44(path: Path) -> tuple[VkDb, dict[str, bytes]]:
    """A 0.1.44 board: two projects, every status, a subtask, an agent run, a script run, a killed run, a tag."""
    vk = VkDb(path)
    hub, site = vk.project("Mission Control"), vk.project("Home Site")
    ids = {
        "todo": vk.task(hub, "Write the importer", "todo", "Read VK's file."),
        "progress": vk.task(hub, "Fix the board test", "inprogress", created="2026-01-06 11:00:00.500"),
        "review": vk.task(hub, "Review the sync", "inreview"),
        "done": vk.task(site, "Deploy the site", "done"),
        "cancelled": vk.task(site, "Try Gatsby", "cancelled", updated="2026-02-01 12:00:00.000"),
    }
    workspace, session = vk.workspace(ids["progress"])
    ids["sub"] = vk.task(hub, "Split the column loop", "todo", parent_workspace=workspace)
    ids["run"] = vk.agent_run(session, claude_logs())
    vk.agent_run(session, [[stdout("npm install\n")]], reason="setupscript")
    _ws, other = vk.workspace(ids["review"], executor="CODEX")
    ids["killed"] = vk.agent_run(other, [[stdout("thinking…")]], status="killed", exit_code=None, summary=None)
    vk.run("INSERT INTO tags (id, tag_name, content) VALUES (?, 'bug_report', 'Describe the bug')", b"t" * 16)
    return vk, ids


async def test_a_0_1_44_board_becomes_tickets_with_columns_and_project_tags(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    vk, ids = board_0_1_44(tmp_path / "db.sqlite")
    vk.close()
    report = await import_file(db, settings, tmp_path / "db.sqlite")
    assert (report.tickets.created, report.tickets.updated) == (6, 0)
    assert "0.1.44's tables, 76 migrations" in report.source
    todo = await ticket(db, "Write the importer")
    assert (todo["status"], todo["description"], todo["tags"]) == ("todo", "Read VK's file.", ["mission-control"])
    assert todo["created_at"] == "2026-01-06T10:00:00.000Z"  # VK's times are kept
    assert (await ticket(db, "Fix the board test"))["status"] == "in_progress"
    assert (await ticket(db, "Review the sync"))["status"] == "review"
    assert (await ticket(db, "Deploy the site"))["tags"] == ["home-site"]
    cancelled = await ticket(db, "Try Gatsby")
    assert (cancelled["status"], cancelled["tags"]) == ("done", ["cancelled", "home-site"])
    mapped = await rows(db, "SELECT vk_task_id, source, state FROM vk_sync ORDER BY vk_task_id")
    assert sorted(m["vk_task_id"] for m in mapped) == sorted(text(i) for k, i in ids.items() if k in (
        "todo", "progress", "review", "done", "cancelled", "sub"))  # fmt: skip
    assert {(m["source"], m["state"]) for m in mapped} == {("task", "synced")}


async def test_a_subtask_is_child_of_its_parent_workspaces_task(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    board_0_1_44(tmp_path / "db.sqlite")[0].close()
    await import_file(db, settings, tmp_path / "db.sqlite")
    links = await rows(db, "SELECT s.title AS child, t.title AS parent, r.rel_type FROM ticket_relationships r "
                           "JOIN tickets s ON s.id = r.source_id JOIN tickets t ON t.id = r.target_id")  # fmt: skip
    assert links == [{"child": "Split the column loop", "parent": "Fix the board test", "rel_type": "child_of"}]


async def test_an_agent_run_becomes_the_tickets_events(db: Database, settings: Settings, tmp_path: Path) -> None:
    board_0_1_44(tmp_path / "db.sqlite")[0].close()
    report = await import_file(db, settings, tmp_path / "db.sqlite")
    fixed = await ticket(db, "Fix the board test")
    events = await rows(db, "SELECT seq, event_type, payload_json, uuid, worker FROM ticket_events "
                            "WHERE ticket_id = ? ORDER BY seq", fixed["id"])  # fmt: skip
    # The prompt first, then every line the agent printed (split across chunks, joined again), in order.
    assert len(events) == 1 + claude_event_count()
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert json.loads(events[0]["payload_json"])["message"]["content"][0]["text"] == "Fix the failing board test"
    assert events[1]["event_type"] == "system" and json.loads(events[1]["payload_json"])["subtype"] == "init"
    assert events[-1]["event_type"] == "result"
    assert {e["worker"] for e in events} == {"vk-claude-code"}
    assert any(e["event_type"] == "text" for e in events)  # the one line that was not stream-json
    session = await rows(db, "SELECT ticket_id FROM sessions WHERE id = '5f3c9a2e-6d41-4b7a-9c0e-2a8f1d7b3e55'")
    assert session == [{"ticket_id": fixed["id"]}]  # its init joined the agent's session to the ticket
    # A killed run without a result of its own gets one that says so.
    review = await ticket(db, "Review the sync")
    last = (await rows(db, "SELECT payload_json FROM ticket_events WHERE ticket_id = ? ORDER BY seq DESC LIMIT 1",
                       review["id"]))[0]  # fmt: skip
    closing = json.loads(last["payload_json"])
    assert (closing["type"], closing["is_error"], closing["vibe_kanban"]["status"]) == ("result", True, "killed")
    assert report.runs.created == 2
    assert report.skipped["runs of setup, cleanup and dev-server scripts (not an agent's)"] == 1
    assert any("JsonPatch" in reason for reason in report.skipped)
    assert report.skipped["0.1.44 tags (prompt snippets pasted with @name, not labels on tasks)"] == 1


async def test_a_second_import_changes_nothing(db: Database, settings: Settings, tmp_path: Path) -> None:
    board_0_1_44(tmp_path / "db.sqlite")[0].close()
    await import_file(db, settings, tmp_path / "db.sqlite")
    before = {t: await count(db, t) for t in ("tickets", "ticket_events", "ticket_relationships", "broadcasts")}
    stamps = await rows(db, "SELECT id, updated_at FROM tickets ORDER BY id")
    again = await import_file(db, settings, tmp_path / "db.sqlite")
    assert (again.tickets.created, again.tickets.updated, again.tickets.unchanged) == (0, 0, 6)
    assert (again.runs.created, again.runs.updated, again.events) == (0, 0, 0)
    assert again.links.unchanged == 1 and again.links.created == 0
    assert {t: await count(db, t) for t in before} == before  # not a row more, not even a broadcast
    assert await rows(db, "SELECT id, updated_at FROM tickets ORDER BY id") == stamps


async def test_a_changed_row_is_exactly_one_update(db: Database, settings: Settings, tmp_path: Path) -> None:
    vk, ids = board_0_1_44(tmp_path / "db.sqlite")
    vk.close()
    await import_file(db, settings, tmp_path / "db.sqlite")
    vk.reopen()
    vk.run("UPDATE tasks SET title = 'Write the VK importer', status = 'inreview', "
           "updated_at = '2026-03-01 09:00:00.000' WHERE id = ?", ids["todo"])  # fmt: skip
    vk.close()
    report = await import_file(db, settings, tmp_path / "db.sqlite")
    assert (report.tickets.created, report.tickets.updated, report.tickets.unchanged) == (0, 1, 5)
    changed = await ticket(db, "Write the VK importer")
    assert changed["status"] == "review"
    assert await count(db, "vk_conflicts") == 0


async def test_a_run_whose_log_grew_adds_only_its_new_events(db: Database, settings: Settings, tmp_path: Path) -> None:
    vk, ids = board_0_1_44(tmp_path / "db.sqlite")
    vk.run("UPDATE execution_processes SET status = 'running', completed_at = NULL WHERE id = ?", ids["killed"])
    vk.close()
    await import_file(db, settings, tmp_path / "db.sqlite")
    review = await ticket(db, "Review the sync")
    # The prompt only: "thinking…" has no newline yet, and the run goes on: the line waits for the next import.
    assert await rows(db, "SELECT count(*) AS n FROM ticket_events WHERE ticket_id = ?", review["id"]) == [{"n": 1}]
    vk.reopen()
    vk.log(ids["killed"], [stdout(" still thinking\nDone.\n"), '"Finished"'])
    vk.run("UPDATE execution_processes SET status = 'completed', exit_code = 0, "
           "completed_at = '2026-01-07 08:09:00.000' WHERE id = ?", ids["killed"])  # fmt: skip
    vk.close()
    report = await import_file(db, settings, tmp_path / "db.sqlite")
    assert (report.runs.updated, report.runs.unchanged) == (1, 1)
    events = await rows(db, "SELECT payload_json FROM ticket_events WHERE ticket_id = ? ORDER BY seq", review["id"])
    said = [json.loads(e["payload_json"]) for e in events]
    # The prompt, the line the first import saw unfinished, whole now, then the rest and how the run ended.
    assert [s.get("text") for s in said[1:3]] == ["thinking… still thinking", "Done."]
    assert said[-1]["type"] == "result" and said[-1]["is_error"] is False
    assert len(said) == 4 and report.events == 3


async def test_a_dry_run_says_what_would_change_and_writes_nothing(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    board_0_1_44(tmp_path / "db.sqlite")[0].close()
    before = {t: await count(db, t) for t in ("tickets", "ticket_events", "vk_sync", "vk_items", "broadcasts")}
    report = await import_file(db, settings, tmp_path / "db.sqlite", dry_run=True)
    assert {t: await count(db, t) for t in before} == before
    assert report.tickets.created == 6 and report.runs.created == 2 and report.events > 30
    lines = report.lines()
    assert "Dry run: nothing was written." in lines
    assert any("new (todo): Write the importer" in line for line in lines)


async def test_local_kanban_issues_bring_priorities_tags_comments_and_relationships(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    vk, ids = board_0_1_44(tmp_path / "db.sqlite")
    vk.add_local_kanban()  # every task became an issue with its id
    hub = vk.conn.execute("SELECT project_id FROM tasks WHERE id = ?", (ids["todo"],)).fetchone()[0]
    ada = b"u" * 16
    vk.run("INSERT INTO remote_users (id, email, display_name) VALUES (?, 'ada@example.org', 'Ada')", ada)
    vk.run("UPDATE local_issues SET priority = 'urgent' WHERE id = ?", ids["todo"])
    vk.run("UPDATE local_issues SET priority = 'low', parent_issue_id = ? WHERE id = ?", ids["todo"], ids["review"])
    bug = vk.conn.execute("SELECT id FROM local_tags WHERE project_id = ? AND name = 'bug'", (hub,)).fetchone()[0]
    vk.run("INSERT INTO local_issue_tags (id, issue_id, tag_id) VALUES (?, ?, ?)", b"a" * 16, ids["progress"], bug)
    vk.run("INSERT INTO local_issue_assignees (id, issue_id, user_id) VALUES (?, ?, ?)", b"b" * 16, ids["todo"], ada)
    vk.run("INSERT INTO local_issue_comments (id, issue_id, author_id, message, created_at) VALUES "
           "(?, ?, ?, 'Start with the schema.', '2026-01-08 07:30:00.250')", b"c" * 16, ids["todo"], ada)  # fmt: skip
    vk.run("INSERT INTO local_issue_comments (id, issue_id, author_id, message) VALUES (?, ?, NULL, '   ')",
           b"d" * 16, ids["todo"])  # fmt: skip
    for n, (a, b, kind) in enumerate([("todo", "progress", "blocking"), ("review", "done", "related"),
                                      ("cancelled", "done", "has_duplicate")]):  # fmt: skip
        vk.run("INSERT INTO local_issue_relationships (id, issue_id, related_issue_id, relationship_type) "
               "VALUES (?, ?, ?, ?)", bytes([n]) * 16, ids[a], ids[b], kind)  # fmt: skip
    # An issue made on the local board after the migration, in a status of its own.
    backlog = new_status(vk, hub, "Backlog")
    vk.run("INSERT INTO local_issues (id, project_id, issue_number, simple_id, status_id, title, sort_order) "
           "VALUES (?, ?, 99, 'LOCAL-99', ?, 'Plan the next board', 1.0)", b"n" * 16, hub, backlog)  # fmt: skip
    vk.close()
    report = await import_file(db, settings, tmp_path / "db.sqlite")
    assert "with the local kanban" in report.source
    assert report.tickets.created == 7  # six tasks as their issues (not twice), and the new one
    todo = await ticket(db, "Write the importer")
    assert (todo["priority"], todo["assigned_to"]) == (1, "Ada")
    assert (await ticket(db, "Review the sync"))["priority"] == 4
    assert (await ticket(db, "Fix the board test"))["tags"] == ["bug", "mission-control"]
    assert (await ticket(db, "Plan the next board"))["status"] == "backlog"
    assert (await ticket(db, "Try Gatsby"))["tags"] == ["cancelled", "home-site"]
    comments = await rows(db, "SELECT author, body, created_at FROM ticket_comments WHERE ticket_id = ?", todo["id"])
    assert comments == [{"author": "Ada", "body": "Start with the schema.", "created_at": "2026-01-08T07:30:00.250Z"}]
    assert report.skipped["empty comments"] == 1
    links = await rows(db, "SELECT s.title AS source, r.rel_type, t.title AS target FROM ticket_relationships r "
                           "JOIN tickets s ON s.id = r.source_id JOIN tickets t ON t.id = r.target_id "
                           "ORDER BY r.id")  # fmt: skip
    assert {(link["source"], link["rel_type"], link["target"]) for link in links} == {
        ("Split the column loop", "child_of", "Fix the board test"),
        ("Review the sync", "child_of", "Write the importer"),
        ("Write the importer", "blocks", "Fix the board test"),
        ("Review the sync", "relates_to", "Deploy the site"),
        ("Try Gatsby", "duplicate_of", "Deploy the site"),
    }
    # The runs follow their workspaces to the issues (local_workspace_links).
    assert report.runs.created == 2
    again = await import_file(db, settings, tmp_path / "db.sqlite")
    assert (again.tickets.unchanged, again.comments.unchanged, again.links.unchanged) == (7, 1, 5)
    assert again.tickets.created + again.tickets.updated + again.comments.created + again.links.created == 0


def new_status(vk: VkDb, project: bytes, name: str) -> bytes:
    status = b"s" * 16
    vk.run("INSERT INTO local_project_statuses (id, project_id, name, color, sort_order) "
           "VALUES (?, ?, ?, '0 0% 0%', 50)", status, project, name)  # fmt: skip
    return status


async def test_both_sides_changed_the_newer_wins_and_the_conflict_is_kept(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    vk, ids = board_0_1_44(tmp_path / "db.sqlite")
    vk.close()
    await import_file(db, settings, tmp_path / "db.sqlite")
    async with db.write() as conn:  # moved on our board (now: later than anything in VK's file)
        await conn.execute("UPDATE tickets SET status = 'blocked', updated_at = '2026-02-10T00:00:00.000Z' "
                           "WHERE title = 'Write the importer'")  # fmt: skip
        await conn.execute("UPDATE tickets SET status = 'review', updated_at = '2026-02-10T00:00:00.000Z' "
                           "WHERE title = 'Deploy the site'")  # fmt: skip
    vk.reopen()
    vk.run("UPDATE tasks SET status = 'done', updated_at = '2026-03-01 00:00:00.000' WHERE id = ?", ids["todo"])
    vk.run("UPDATE tasks SET status = 'cancelled', updated_at = '2026-01-20 00:00:00.000' WHERE id = ?", ids["done"])
    vk.close()
    report = await import_file(db, settings, tmp_path / "db.sqlite")
    assert (await ticket(db, "Write the importer"))["status"] == "done"  # VK's change is newer: it wins
    deploy = await ticket(db, "Deploy the site")
    assert deploy["status"] == "review" and "cancelled" in deploy["tags"]  # ours is newer; VK's tag still merges
    kept = await rows(db, "SELECT field, ours, theirs, winner, via FROM vk_conflicts ORDER BY ours")
    assert kept == [
        {"field": "status", "ours": "blocked", "theirs": "done", "winner": "theirs", "via": "import"},
        {"field": "status", "ours": "review", "theirs": "done", "winner": "ours", "via": "import"},
    ]
    assert len(report.conflicts) == 2 and "Conflicts (2; both values kept in vk_conflicts):" in report.lines()


async def test_files_that_are_not_vibe_kanbans_are_refused_in_one_line(tmp_path: Path) -> None:
    with pytest.raises(VkSourceError, match="no such file"):
        await VkFile(tmp_path / "missing.sqlite").__aenter__()
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(VkSourceError, match="not an SQLite database"):
        await VkFile(tmp_path / "notes.txt").__aenter__()
    other = sqlite3.connect(str(tmp_path / "other.db"))
    other.execute("CREATE TABLE notes (x)")
    other.close()
    with pytest.raises(VkSourceError, match="not Vibe Kanban's database"):
        await VkFile(tmp_path / "other.db").__aenter__()


def test_the_default_file_is_where_vibe_kanban_keeps_it(tmp_path: Path) -> None:
    home = tmp_path
    assert default_path({}, "linux", home) == home / ".local/share/vibe-kanban/db.sqlite"
    assert default_path({"XDG_DATA_HOME": "/x"}, "linux", home) == Path("/x/vibe-kanban/db.sqlite")
    mac = default_path({}, "darwin", home)
    assert mac == home / "Library/Application Support/ai.bloop.vibe-kanban/db.sqlite"
    assert default_path({"APPDATA": "C:/R"}, "win32", home) == Path("C:/R/bloop/vibe-kanban/data/db.sqlite")
    custom = tmp_path / "elsewhere"
    custom.mkdir()
    (home / ".config/vibe-kanban").mkdir(parents=True)
    (home / ".config/vibe-kanban/custom_path.json").write_text(json.dumps({"custom_asset_dir": str(custom)}))
    assert default_path({}, "linux", home) == custom / "db.sqlite"

"""The database: WAL verified, migrations atomic and recorded, foreign files refused, indexed board query."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from app import db as dbmod
from app.db import Database, DatabaseError, split_statements
from app.sqlite import driver
from app.store import admin, queries, tickets


def run(coro):  # type: ignore[no-untyped-def]
    """Run one coroutine on a fresh loop."""
    return asyncio.run(coro)


async def opened(path: Path) -> Database:
    """An open database at `path`."""
    database = Database(path, readers=2)
    await database.open()
    return database


def create(path: Path) -> None:
    """Create and migrate a database, then close it."""

    async def make() -> None:
        await (await opened(path)).close()

    run(make())


def test_a_new_database_is_in_wal_mode_with_every_migration_recorded(tmp_path: Path) -> None:
    async def check() -> tuple[int, str, int]:
        database = await opened(tmp_path / "mc.db")
        version = await database.schema_version()
        info = await admin.health(database)
        await database.close()
        return version, str(info["journal_mode"]), len(dbmod.list_migrations())

    version, mode, migrations = run(check())
    assert mode == "wal" and version == migrations >= 1
    conn = driver.connect(tmp_path / "mc.db")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")}
    for table in ("tickets", "ticket_comments", "ticket_messages", "ticket_events", "ticket_tags",
                  "ticket_relationships", "ticket_context", "sessions", "sessions_index", "sessions_fts",
                  "queued_messages", "task_runs", "heartbeats", "vk_sync", "api_tokens", "login_sessions"):  # fmt: skip
        assert table in names


def test_a_failing_migration_leaves_nothing_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "migrations"
    folder.mkdir()
    for _, path in dbmod.list_migrations():
        shutil.copy(path, folder / path.name)
    (folder / "900_broken.sql").write_text(
        "CREATE TABLE half_done (x);\nINSERT INTO no_such_table VALUES (1);\nPRAGMA user_version = 900;\n"
    )
    monkeypatch.setattr(dbmod, "MIGRATIONS_DIR", folder)
    with pytest.raises(DatabaseError, match="no such table"):
        run(opened(tmp_path / "mc.db"))
    conn = driver.connect(tmp_path / "mc.db")
    assert conn.execute("PRAGMA user_version").fetchone()[0] == len(list(folder.glob("*.sql"))) - 1
    assert conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'half_done'").fetchone()[0] == 0


def test_reopening_applies_nothing_twice(tmp_path: Path) -> None:
    async def twice() -> list[int]:
        first = await opened(tmp_path / "mc.db")
        await first.close()
        second = await opened(tmp_path / "mc.db")
        applied = await second.migrate()
        await second.close()
        return applied

    assert run(twice()) == []


def test_a_file_that_is_not_sqlite_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.db").write_text("hello, not a database")
    with pytest.raises(DatabaseError, match="is not an SQLite database"):
        run(opened(tmp_path / "notes.db"))


def test_another_programs_database_is_left_alone(tmp_path: Path) -> None:
    conn = driver.connect(tmp_path / "theirs.db")
    conn.execute("CREATE TABLE theirs (x)")
    conn.commit()
    with pytest.raises(DatabaseError, match="belongs to another program"):
        run(opened(tmp_path / "theirs.db"))
    assert conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 1


def test_a_database_from_a_newer_mc_is_refused(tmp_path: Path) -> None:
    create(tmp_path / "mc.db")
    conn = driver.connect(tmp_path / "mc.db")
    conn.execute("PRAGMA user_version = 999")
    conn.commit()
    with pytest.raises(DatabaseError, match="upgrade mc"):
        run(opened(tmp_path / "mc.db"))


def test_an_unwritable_directory_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DatabaseError, match="cannot create the data directory"):
        run(opened(Path("/proc/nope/mc.db")))


def test_readers_cannot_write(tmp_path: Path) -> None:
    async def attempt() -> None:
        database = await opened(tmp_path / "mc.db")
        try:
            async with database.read() as conn:
                await conn.execute("DELETE FROM tickets")
        finally:
            await database.close()

    with pytest.raises(driver.OperationalError, match=r"readonly|read-only|query_only"):
        run(attempt())


def test_a_failed_write_rolls_back_the_whole_transaction(tmp_path: Path) -> None:
    async def attempt() -> int:
        database = await opened(tmp_path / "mc.db")
        with pytest.raises(driver.IntegrityError):
            async with database.write() as conn:
                await conn.execute("INSERT INTO heartbeats (worker, status) VALUES ('w', 'ok')")
                await conn.execute("INSERT INTO heartbeats (worker, status) VALUES ('w', 'not-a-status')")
        async with database.read() as conn, conn.execute("SELECT count(*) FROM heartbeats") as cur:
            count = (await cur.fetchone())[0]
        await database.close()
        return int(count)

    assert run(attempt()) == 0


def test_identifiers_are_never_reused_after_a_delete(tmp_path: Path) -> None:
    async def make() -> tuple[str, str]:
        database = await opened(tmp_path / "mc.db")
        first = await tickets.create_ticket(database, "MC", "one")
        async with database.write() as conn:
            await conn.execute("DELETE FROM tickets")
        second = await tickets.create_ticket(database, "MC", "two")
        await database.close()
        return first, second

    assert run(make()) == ("MC-1", "MC-2")


@pytest.mark.parametrize("filtered", [False, True])
def test_the_board_queries_use_their_index_and_never_sort(tmp_path: Path, filtered: bool) -> None:
    create(tmp_path / "mc.db")
    conn = driver.connect(tmp_path / "mc.db")
    filters = (
        {"assignee": "luci", "tag": "bug", "priority": 2, "match": '"sse"*'}
        if filtered
        else dict.fromkeys(("assignee", "tag", "priority", "match"))
    )
    params = {"status": "todo", "limit": 31, "after_key": 1.5e12, "after_id": 5, "since": "2026-01-01", **filters}
    for name, index in [
        ("board_first_page", "tickets_board"),
        ("board_next_page", "tickets_board (status=? AND sort_key<?)"),
        ("board_changed_above", "tickets_"),
    ]:
        sql = getattr(queries, name).sql
        plan = " | ".join(row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql, params))
        assert f"SEARCH t USING INDEX {index}" in plan, plan
        assert "TEMP B-TREE" not in plan or name == "board_changed_above", plan
    sql = queries.board_column_last_change.sql
    plan = " | ".join(row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql, {"status": "todo"}))
    assert "tickets_placed" in plan, plan


def test_split_statements_keeps_trigger_bodies_whole() -> None:
    script = "CREATE TABLE a (x);\nCREATE TRIGGER t AFTER INSERT ON a BEGIN\n  SELECT 1;\n  SELECT 2;\nEND;\n-- c\n"
    assert len(split_statements(script)) == 2


def test_backup_makes_a_consistent_copy(tmp_path: Path) -> None:
    async def backup() -> None:
        database = await opened(tmp_path / "mc.db")
        await tickets.create_ticket(database, "MC", "saved")
        await admin.backup(database, tmp_path / "copy.db")
        with pytest.raises(DatabaseError, match="already exists"):
            await admin.backup(database, tmp_path / "copy.db")
        await database.close()

    run(backup())
    copy = driver.connect(tmp_path / "copy.db")
    assert copy.execute("SELECT title FROM tickets").fetchall() == [("saved",)]
    assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_a_write_cancelled_while_waiting_for_another_process_leaves_no_lock_behind(tmp_path: Path) -> None:
    import fcntl
    import os

    create(tmp_path / "mc.db")
    other = os.open(f"{tmp_path / 'mc.db'}.lock", os.O_RDWR)
    fcntl.flock(other, fcntl.LOCK_EX)  # another process is writing

    async def attempt() -> None:
        database = await opened(tmp_path / "mc.db")
        waiting = asyncio.create_task(database.write().__aenter__())
        await asyncio.sleep(0.2)
        waiting.cancel()
        await asyncio.sleep(0.1)
        fcntl.flock(other, fcntl.LOCK_UN)  # the other process finishes; our cancelled waiter takes, then frees
        with pytest.raises(asyncio.CancelledError):
            await waiting
        free = os.open(f"{tmp_path / 'mc.db'}.lock", os.O_RDWR)
        fcntl.flock(free, fcntl.LOCK_EX | fcntl.LOCK_NB)  # would raise BlockingIOError if left locked
        fcntl.flock(free, fcntl.LOCK_UN)
        os.close(free)
        async with database.write():
            pass  # and this process can still write
        await database.close()

    run(attempt())
    os.close(other)


def test_a_write_cancelled_while_its_begin_waits_on_sqlite_leaves_no_transaction_open(tmp_path: Path) -> None:
    import subprocess
    import sys

    create(tmp_path / "mc.db")
    hold = (
        "import sqlite3,sys,time; c=sqlite3.connect(sys.argv[1], isolation_level=None); c.execute('BEGIN IMMEDIATE');"
    )
    other = subprocess.Popen(  # another program mid-transaction (not our lock: SQLite's own)
        [sys.executable, "-c", hold + "print('held', flush=True); time.sleep(0.6)", str(tmp_path / "mc.db")],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert other.stdout is not None and other.stdout.readline() == "held\n"

    async def attempt() -> None:
        database = await opened(tmp_path / "mc.db")
        waiting = asyncio.create_task(database.write().__aenter__())
        await asyncio.sleep(0.2)  # BEGIN IMMEDIATE is waiting on SQLite's busy timeout
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        other.wait()
        async with database.write() as conn:  # a cancelled BEGIN once left a transaction open: this failed
            await conn.execute("INSERT INTO heartbeats (worker, status) VALUES ('w', 'ok')")
        await database.close()

    run(attempt())
    assert driver.connect(tmp_path / "mc.db").execute("SELECT count(*) FROM heartbeats").fetchone()[0] == 1


def test_a_write_that_waited_behind_a_busy_one_fails_at_its_own_deadline_not_later(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import subprocess
    import sys
    import time

    monkeypatch.setattr(dbmod, "BUSY_TIMEOUT_S", 1.0)
    create(tmp_path / "mc.db")
    hold = (
        "import sqlite3,sys,time; c=sqlite3.connect(sys.argv[1], isolation_level=None); c.execute('BEGIN IMMEDIATE');"
    )
    other = subprocess.Popen(
        [sys.executable, "-c", hold + "print('held', flush=True); time.sleep(3)", str(tmp_path / "mc.db")],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert other.stdout is not None and other.stdout.readline() == "held\n"

    async def two_writers() -> list[float]:
        database = await opened(tmp_path / "mc.db")
        started = time.monotonic()

        async def one() -> float:
            with pytest.raises(driver.OperationalError, match="locked"):
                async with database.write():
                    pass
            return time.monotonic() - started

        took = list(await asyncio.gather(one(), one()))
        await database.close()
        return took

    took = run(two_writers())
    other.kill()
    # The second waited behind the first, then only what was left of its own second: ~1 s in all, where a
    # wait of its own would make it 2 s.
    assert max(took) < 1.7, took


def test_no_module_opens_a_database_with_a_second_sqlite_library() -> None:
    # Two SQLite libraries in one process keep separate tables of which files they have open, and POSIX locks
    # never conflict within a process: one library's first connection takes the -shm file for its own and
    # truncates it while the other has it mapped, and the process dies of SIGBUS (it did, in CI). Every
    # connection in app/ and tests/ comes from app.sqlite.driver; only that module may import sqlite3.
    root = Path(__file__).resolve().parent.parent
    offenders = [
        str(path.relative_to(root))
        for folder in ("app", "tests")
        for path in (root / folder).rglob("*.py")
        if path != root / "app" / "sqlite.py"
        and any(line.strip() in ("import sqlite3", "from sqlite3 import") for line in path.read_text().splitlines())
    ]
    assert offenders == []


def test_every_query_is_named_after_its_file() -> None:
    # One scheme, <file>_<what>: a name read in a store module says which sql/ file holds it.
    misnamed = [
        f"{path.name}: {name}"
        for path in sorted((Path(__file__).resolve().parent.parent / "sql").glob("*.sql"))
        for line in path.read_text().splitlines()
        if line.startswith("-- name: ")
        and not (name := line.removeprefix("-- name: ").split("(")[0].rstrip("!$^<>*#")).startswith(f"{path.stem}_")
    ]
    assert misnamed == []

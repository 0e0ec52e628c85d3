"""The `mc` command: tokens, migrate, backup, demo, and one-line errors instead of tracebacks."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from app.sqlite import driver as sqlite3

MC = [sys.executable, "-m", "app.cli"]


def mc(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run `mc` and capture what it prints."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([*MC, *args], capture_output=True, text=True, timeout=60, env=full_env)


def assert_one_line_error(result: subprocess.CompletedProcess[str], words: str) -> None:
    """A failure is one readable line on stderr and a non-zero exit, never a traceback."""
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mc: error: ") and words in lines[0], result.stderr


def test_token_create_prints_the_token_alone_on_its_last_line(tmp_path: Path) -> None:
    db = str(tmp_path / "mc.db")
    result = mc("token", "create", "--scope", "worker", "--name", "builder", "--db", db)
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip().splitlines()[-1]
    assert token.startswith("mc_") and len(token) >= 40 and " " not in token
    listing = mc("token", "list", "--db", db).stdout
    assert "builder" in listing and "worker" in listing and token not in listing


def test_token_revoke_and_its_errors(tmp_path: Path) -> None:
    db = str(tmp_path / "mc.db")
    mc("token", "create", "--scope", "read", "--name", "old", "--db", db)
    assert mc("token", "revoke", "old", "--db", db).returncode == 0
    assert "revoked" in mc("token", "list", "--db", db).stdout
    assert_one_line_error(mc("token", "revoke", "old", "--db", db), "no active token named 'old'")
    assert_one_line_error(mc("token", "create", "--scope", "read", "--name", "old", "--db", db), "already exists")


def test_mc_db_variable_is_used_when_no_flag_is_given(tmp_path: Path) -> None:
    db = tmp_path / "via-env.db"
    assert mc("migrate", env={"MC_DB": str(db)}).returncode == 0
    assert db.exists()


def test_migrate_reports_the_schema_version(tmp_path: Path) -> None:
    result = mc("migrate", "--db", str(tmp_path / "mc.db"))
    assert result.returncode == 0 and "schema version" in result.stdout


def test_backup_copies_a_live_database(tmp_path: Path) -> None:
    db = str(tmp_path / "mc.db")
    mc("token", "create", "--scope", "admin", "--db", db)
    assert mc("backup", str(tmp_path / "copy.db"), "--db", db).returncode == 0
    assert sqlite3.connect(tmp_path / "copy.db").execute("SELECT count(*) FROM api_tokens").fetchone()[0] == 1
    assert_one_line_error(mc("backup", str(tmp_path / "copy.db"), "--db", db), "already exists")
    assert_one_line_error(mc("backup", str(tmp_path / "no" / "x.db"), "--db", db), "does not exist")


@pytest.mark.parametrize(
    ("setup", "words"),
    [
        ("text", "is not an SQLite database"),
        ("foreign", "belongs to another program"),
        ("corrupt", "mc.db"),
        ("directory", "is a directory"),
    ],
)
def test_bad_database_files_give_one_line(tmp_path: Path, setup: str, words: str) -> None:
    db = tmp_path / "mc.db"
    if setup == "text":
        db.write_text("not a database")
    elif setup == "foreign":
        conn = sqlite3.connect(db)
        conn.execute("CREATE TABLE x (a)")
        conn.commit()
    elif setup == "corrupt":
        mc("migrate", "--db", str(db))
        data = bytearray(db.read_bytes())
        data[100:4096] = b"\xff" * (4096 - 100)  # smash the schema page after the header
        db.write_bytes(bytes(data))
    else:
        db.mkdir()
    assert_one_line_error(mc("migrate", "--db", str(db)), words)


def test_an_unwritable_directory_gives_one_line(tmp_path: Path) -> None:
    assert_one_line_error(mc("migrate", "--db", "/proc/no/mc.db"), "cannot create the data directory")


def test_a_port_in_use_gives_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        assert_one_line_error(mc("serve", "--port", port, "--db", str(tmp_path / "mc.db")), "already in use")


def test_bad_settings_give_one_line(tmp_path: Path) -> None:
    result = mc("migrate", "--db", str(tmp_path / "mc.db"), env={"MC_READERS": "lots"})
    assert_one_line_error(result, "bad setting")


def test_demo_fills_an_empty_database_once(tmp_path: Path) -> None:
    db = tmp_path / "mc.db"
    result = mc("demo", "--db", str(db))
    assert result.returncode == 0, result.stderr
    conn = sqlite3.connect(db)
    statuses = dict(conn.execute("SELECT status, count(*) FROM tickets GROUP BY status").fetchall())
    assert sum(statuses.values()) >= 300 and len(statuses) == 6 and min(statuses.values()) > 30
    for table in ("ticket_comments", "ticket_messages", "ticket_events", "ticket_tags", "ticket_relationships",
                  "heartbeats", "task_runs", "queued_messages", "sessions", "sessions_index"):  # fmt: skip
        assert conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] > 0, table
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    assert_one_line_error(mc("demo", "--db", str(db)), "mc demo fills only an empty database")

"""Vibe Kanban databases for the tests, built from tests/fixtures/vibe_kanban/ (its schema as its migrations leave
it) with rows as Vibe Kanban writes them: BLOB uuids, datetime('now', 'subsec')-style times, logs as LogMsg lines."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from app import ROOT
from app.db import Database
from app.sqlite import driver as sqlite3
from app.sqlite import parse_version

FIXTURES = ROOT / "tests" / "fixtures"
SCHEMA = FIXTURES / "vibe_kanban" / "schema_0_1_44.sql"
LOCAL_KANBAN = FIXTURES / "vibe_kanban" / "local_kanban.sql"
CLAUDE_RUN = FIXTURES / "stream_json" / "fix_failing_test.jsonl"


def new_id() -> bytes:
    """A fresh id as VK keeps it: 16 bytes."""
    return uuid.uuid4().bytes


def text(blob: bytes) -> str:
    """An id as the importer and the API write it."""
    return str(uuid.UUID(bytes=blob))


class VkDb:
    """A Vibe Kanban 0.1.44 database file, filled a row at a time."""

    def __init__(self, path: Path) -> None:
        if parse_version(sqlite3.sqlite_version) < (3, 42):  # MC_SQLITE=system on an old Python
            pytest.skip(
                f"Vibe Kanban's schema needs SQLite >= 3.42 (datetime 'subsec'); this is {sqlite3.sqlite_version}"
            )
        self.path = path
        self.conn = sqlite3.connect(str(path), isolation_level=None)
        self.conn.execute("PRAGMA foreign_keys = ON")
        self.conn.executescript(SCHEMA.read_text())
        self.conn.executemany(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) "
            "VALUES (?, ?, 1, x'00', 1)",
            [(20250617183714 + n, f"migration {n}") for n in range(76)],
        )

    def close(self) -> None:
        """Let go of the file (the importer opens it read-only)."""
        self.conn.close()

    def reopen(self) -> VkDb:
        """Take the file again, to change it as Vibe Kanban would between two imports."""
        self.conn = sqlite3.connect(str(self.path), isolation_level=None)
        return self

    def run(self, sql: str, *params: object) -> None:
        """Any change, as Vibe Kanban would make it."""
        self.conn.execute(sql, params)

    def project(self, name: str, when: str = "2026-01-05 09:00:00.000") -> bytes:
        """A project."""
        pid = new_id()
        self.run("INSERT INTO projects (id, name, created_at, updated_at) VALUES (?, ?, ?, ?)", pid, name, when, when)
        return pid

    def task(
        self, project: bytes, title: str, status: str = "todo", description: str | None = None,
        parent_workspace: bytes | None = None, created: str = "2026-01-06 10:00:00.000", updated: str | None = None,
    ) -> bytes:  # fmt: skip
        """A task (a subtask when it names its parent's workspace)."""
        tid = new_id()
        self.run(
            "INSERT INTO tasks (id, project_id, title, description, status, parent_workspace_id, created_at, "
            "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            tid, project, title, description, status, parent_workspace, created, updated or created,
        )  # fmt: skip
        return tid

    def workspace(self, task: bytes, executor: str = "CLAUDE_CODE") -> tuple[bytes, bytes]:
        """An attempt at a task: its workspace and its session."""
        wid, sid = new_id(), new_id()
        self.run("INSERT INTO workspaces (id, task_id, branch) VALUES (?, ?, 'vk/attempt')", wid, task)
        self.run("INSERT INTO sessions (id, workspace_id, executor) VALUES (?, ?, ?)", sid, wid, executor)
        return wid, sid

    def agent_run(
        self, session: bytes, logs: list[list[str]], status: str = "completed", exit_code: int | None = 0,
        reason: str = "codingagent", prompt: str | None = "Fix the failing board test", summary: str | None = None,
    ) -> bytes:  # fmt: skip
        """An execution process with its turn and its log, a chunk (a list of LogMsg lines) per row."""
        eid = new_id()
        self.run(
            "INSERT INTO execution_processes (id, session_id, run_reason, status, exit_code, started_at, "
            "completed_at) VALUES (?, ?, ?, ?, ?, '2026-01-07 08:00:00.000', ?)",
            eid, session, reason, status, exit_code, None if status == "running" else "2026-01-07 08:05:00.000",
        )  # fmt: skip
        if reason == "codingagent":
            self.run(
                "INSERT INTO coding_agent_turns (id, execution_process_id, agent_session_id, prompt, summary) "
                "VALUES (?, ?, ?, ?, ?)",
                new_id(), eid, "5f3c9a2e-6d41-4b7a-9c0e-2a8f1d7b3e55", prompt, summary,
            )  # fmt: skip
        for n, chunk in enumerate(logs):
            self.log(eid, chunk, f"2026-01-07 08:0{min(n, 4)}:30.{n:03d}")
        return eid

    def log(self, execution: bytes, lines: list[str], when: str = "2026-01-07 08:04:59.000") -> None:
        """One more chunk of a run's log."""
        body = "".join(line + "\n" for line in lines)
        self.run(
            "INSERT INTO execution_process_logs (execution_id, logs, byte_size, inserted_at) VALUES (?, ?, ?, ?)",
            execution, body, len(body.encode()), when,
        )  # fmt: skip

    def add_local_kanban(self) -> None:
        """Migrate to the local kanban of VK's development line (every task becomes an issue with its id)."""
        self.conn.executescript(LOCAL_KANBAN.read_text())

    def status_id(self, project: bytes, name: str) -> bytes:
        """A local status's id by its name."""
        row = self.conn.execute(
            "SELECT id FROM local_project_statuses WHERE project_id = ? AND name = ?", (project, name)
        ).fetchone()
        return bytes(row[0])


def stdout(text_: str) -> str:
    """A LogMsg line of the agent's output."""
    return json.dumps({"Stdout": text_})


def claude_logs() -> list[list[str]]:
    """A real-shaped Claude Code run as VK logs it: its stream-json cut into chunks that split lines, with VK's
    own rendering (JsonPatch) and bookkeeping between them."""
    output = CLAUDE_RUN.read_text()
    cut = len(output) // 2 + 7  # inside a line
    return [
        [json.dumps({"SessionId": "5f3c9a2e-6d41-4b7a-9c0e-2a8f1d7b3e55"}), stdout(output[:cut])],
        [json.dumps({"JsonPatch": [{"op": "add", "path": "/entries/0", "value": {}}]}), stdout(output[cut:])],
        ['"Finished"'],
    ]


def claude_event_count() -> int:
    """How many stream-json events that run holds."""
    return sum(1 for line in CLAUDE_RUN.read_text().splitlines() if line.strip())


async def rows(db: Database, sql: str, *params: Any) -> list[dict[str, Any]]:
    """Read our database as a test sees it."""
    async with db.read() as conn:
        return [dict(r) for r in await conn.execute_fetchall(sql, params)]


COUNTS = {
    "tickets": "SELECT count(*) AS n FROM tickets",
    "ticket_events": "SELECT count(*) AS n FROM ticket_events",
    "ticket_relationships": "SELECT count(*) AS n FROM ticket_relationships",
    "broadcasts": "SELECT count(*) AS n FROM broadcasts",
    "vk_sync": "SELECT count(*) AS n FROM vk_sync",
    "vk_items": "SELECT count(*) AS n FROM vk_items",
    "vk_conflicts": "SELECT count(*) AS n FROM vk_conflicts",
}


async def count(db: Database, table: str) -> int:
    """Rows in one of our tables."""
    return (await rows(db, COUNTS[table]))[0]["n"]


async def ticket(db: Database, title: str) -> dict[str, Any]:
    """The one ticket of this title, with its tags."""
    found = await rows(db, "SELECT * FROM tickets WHERE title = ?", title)
    assert len(found) == 1, title
    tags = await rows(db, "SELECT tag FROM ticket_tags WHERE ticket_id = ? ORDER BY tag", found[0]["id"])
    return {**found[0], "tags": [t["tag"] for t in tags]}

"""Reading a Vibe Kanban database file, read-only (sql/vk_source.sql): its projects, tasks or local issues, comments,
relationships and agent runs as the structs of app/vk_map.py and app/vk_runs.py.

The file is opened as `file:…?mode=ro`, so nothing here can write it, and Vibe Kanban may go on running. Which
tables exist says which schema it is: 0.1.44's (tasks, workspaces, sessions, execution_processes …) and, when
present, the local kanban its development line added (local_issues …), whose issues kept their tasks' ids and
take their place.
"""

from __future__ import annotations

import urllib.parse
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import aiosqlite
import msgspec

from app.sqlite import driver
from app.store import queries, run_once
from app.vk_map import VkItem, uuid_blob, uuid_text, vk_time
from app.vk_runs import VkRun

LOCAL_USER = "Local User"


class VkSourceError(Exception):
    """The file cannot be read as a Vibe Kanban database; the message is one line a person can act on."""


class VkComment(msgspec.Struct, frozen=True):
    """A comment on a local issue."""

    id: str
    item_id: str
    author: str
    body: str
    created_at: str | None


class VkLink(msgspec.Struct, frozen=True):
    """A relationship between two local issues, in our words: `source` `kind` `target`."""

    id: str
    source_id: str
    target_id: str
    kind: str  # blocks, relates_to, duplicate_of


class Source(msgspec.Struct):
    """What a Vibe Kanban file holds, read once."""

    path: str
    schema: str
    items: list[VkItem]
    comments: list[VkComment]
    links: list[VkLink]
    runs: list[VkRun]
    skipped: Counter[str]


# local_issue_relationships.relationship_type as our type, issue_id the source: VK's board reads a row as "issue
# blocks related issue" and, for has_duplicate, the issue as "duplicate of" the related one (its frontend's
# resolveRelationships.ts), whatever the name suggests.
RELATIONSHIPS = {"blocking": "blocks", "related": "relates_to", "has_duplicate": "duplicate_of"}


def _executor(text: Any) -> str:
    """A session's executor: 'CLAUDE_CODE', or the JSON profile older rows kept ({"executor": …})."""
    if not text:
        return "agent"
    raw = str(text)
    if raw.startswith("{"):
        try:
            decoded = msgspec.json.decode(raw)
        except msgspec.DecodeError:
            return "agent"
        if isinstance(decoded, dict):
            return str(decoded.get("executor") or "agent")
    return raw


class VkFile:
    """An open Vibe Kanban file (async with VkFile(path) as vk: …)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn: aiosqlite.Connection | None = None
        self.tables: frozenset[str] = frozenset()

    async def __aenter__(self) -> VkFile:
        if not self.path.is_file():
            raise VkSourceError(f"{self.path}: no such file (Vibe Kanban keeps db.sqlite in its data folder)")
        with self.path.open("rb") as handle:
            if handle.read(16) != b"SQLite format 3\x00":
                raise VkSourceError(f"{self.path} is not an SQLite database")
        uri = "file:" + urllib.parse.quote(str(self.path.resolve())) + "?mode=ro"
        try:
            self._conn = await aiosqlite.Connection(lambda: driver.connect(uri, uri=True, isolation_level=None), 64)
            self._conn.row_factory = driver.Row
            await self._conn.execute(queries.vk_source_busy_timeout.sql)
            await self._conn.execute(queries.vk_source_query_only.sql)
            self.tables = frozenset(row["name"] for row in await self._rows(queries.vk_source_tables))
        except driver.DatabaseError as exc:
            await self.__aexit__()
            raise VkSourceError(f"{self.path}: {exc}") from None
        if "projects" not in self.tables or not self.tables & {"tasks", "local_issues"}:
            await self.__aexit__()
            raise VkSourceError(f"{self.path} is not Vibe Kanban's database (it has no projects and tasks tables)")
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._conn is not None:
            await self._conn.close()
            self._conn = None

    async def _rows(self, query: Any, **params: Any) -> list[dict[str, Any]]:
        assert self._conn is not None
        try:
            return [dict(row) for row in await run_once(self._conn, query, **params)]
        except driver.DatabaseError as exc:
            raise VkSourceError(f"{self.path}: {exc}") from None

    async def _table(self, name: str, query: Any) -> list[dict[str, Any]]:
        return await self._rows(query) if name in self.tables else []

    async def schema(self) -> str:
        """Which Vibe Kanban this file is from, in words."""
        kind = "with the local kanban (after 0.1.44)" if "local_issues" in self.tables else "0.1.44's tables"
        if "_sqlx_migrations" in self.tables:
            found = (await self._rows(queries.vk_source_migrations))[0]
            return f"Vibe Kanban {kind}, {found['n']} migrations (newest {found['last']})"
        return f"Vibe Kanban {kind}"

    async def read(self) -> Source:
        """Everything but the runs' logs (read_log reads one run's)."""
        skipped: Counter[str] = Counter()
        projects = {uuid_text(p["id"]): str(p.get("name") or "") for p in await self._rows(queries.vk_source_projects)}
        workspaces = {uuid_text(w["id"]): uuid_text(w.get("task_id")) for w in
                      await self._table("workspaces", queries.vk_source_workspaces)}  # fmt: skip
        for link in await self._table("local_workspace_links", queries.vk_source_workspace_links):
            workspaces[uuid_text(link["workspace_id"])] = uuid_text(link["issue_id"])
        items = {item.id: item for item in self._tasks(await self._table("tasks", queries.vk_source_tasks),
                                                          projects, workspaces)}  # fmt: skip
        users = {uuid_text(u["id"]): str(u.get("display_name") or u.get("email") or "") for u in
                 await self._table("remote_users", queries.vk_source_users)}  # fmt: skip
        if "local_issues" in self.tables:
            # An issue kept its task's id when the local kanban came: it takes the task's place. That migration
            # did not carry a subtask's parent over (parent_workspace_id has no issue column): the task's still says.
            for issue in await self._issues(projects, users):
                task = items.get(issue.id)
                if issue.parent_id is None and task is not None and task.parent_id is not None:
                    issue = msgspec.structs.replace(issue, parent_id=task.parent_id)
                items[issue.id] = issue
        snippets = len(await self._table("tags", queries.vk_source_tags))
        if snippets:
            skipped["0.1.44 tags (prompt snippets pasted with @name, not labels on tasks)"] += snippets
        return Source(
            path=str(self.path),
            schema=await self.schema(),
            items=list(items.values()),
            comments=await self._comments(users, skipped),
            links=await self._links(skipped),
            runs=await self._runs(workspaces),
            skipped=skipped,
        )

    @staticmethod
    def _tasks(rows: list[dict[str, Any]], projects: dict[Any, str], workspaces: dict[Any, Any]) -> list[VkItem]:
        items = []
        for row in rows:
            parent_ws = uuid_text(row.get("parent_workspace_id") or row.get("parent_task_attempt"))
            project_id = uuid_text(row["project_id"]) or ""
            items.append(VkItem(
                id=uuid_text(row["id"]) or "", project_id=project_id, project_name=projects.get(project_id, ""),
                source="task", title=str(row.get("title") or ""), description=row.get("description"),
                status=str(row.get("status") or "todo"), parent_id=workspaces.get(parent_ws) if parent_ws else None,
                created_at=vk_time(row.get("created_at")), updated_at=vk_time(row.get("updated_at")),
            ))  # fmt: skip
        return items

    async def _issues(self, projects: dict[Any, str], users: dict[Any, str]) -> list[VkItem]:
        statuses = {uuid_text(s["id"]): str(s.get("name") or "") for s in
                    await self._table("local_project_statuses", queries.vk_source_statuses)}  # fmt: skip
        tags: dict[Any, list[str]] = defaultdict(list)
        if "local_issue_tags" in self.tables and "local_tags" in self.tables:
            for row in await self._rows(queries.vk_source_issue_tags):
                tags[uuid_text(row["issue_id"])].append(str(row["name"]))
        assignees: dict[Any, str] = {}
        for row in await self._table("local_issue_assignees", queries.vk_source_assignees):
            name = users.get(uuid_text(row["user_id"]))
            if name and name != LOCAL_USER:  # the desktop's placeholder user is nobody in particular
                assignees.setdefault(uuid_text(row["issue_id"]), name)
        items = []
        for row in await self._rows(queries.vk_source_issues):
            issue_id, project_id = uuid_text(row["id"]) or "", uuid_text(row["project_id"]) or ""
            items.append(VkItem(
                id=issue_id, project_id=project_id, project_name=projects.get(project_id, ""), source="issue",
                title=str(row.get("title") or ""), description=row.get("description"),
                status=statuses.get(uuid_text(row.get("status_id")), "Todo"), priority=row.get("priority"),
                tags=tuple(tags.get(issue_id, ())), assignee=assignees.get(issue_id),
                parent_id=uuid_text(row.get("parent_issue_id")), simple_id=row.get("simple_id"),
                created_at=vk_time(row.get("created_at")), updated_at=vk_time(row.get("updated_at")),
                completed_at=vk_time(row.get("completed_at")),
            ))  # fmt: skip
        return items

    async def _comments(self, users: dict[Any, str], skipped: Counter[str]) -> list[VkComment]:
        comments = []
        for row in await self._table("local_issue_comments", queries.vk_source_comments):
            body = str(row.get("message") or "").replace("\x00", "").strip()
            if not body:
                skipped["empty comments"] += 1
                continue
            author = users.get(uuid_text(row.get("author_id"))) or "vibe-kanban"
            comments.append(VkComment(uuid_text(row["id"]) or "", uuid_text(row["issue_id"]) or "", author[:80],
                                      body, vk_time(row.get("created_at"))))  # fmt: skip
        return comments

    async def _links(self, skipped: Counter[str]) -> list[VkLink]:
        links = []
        for row in await self._table("local_issue_relationships", queries.vk_source_relationships):
            kind = RELATIONSHIPS.get(str(row.get("relationship_type")))
            if kind is None:
                skipped[f"relationships of kind {str(row.get('relationship_type'))[:30]!r}"] += 1
                continue
            source, target = uuid_text(row["issue_id"]) or "", uuid_text(row["related_issue_id"]) or ""
            links.append(VkLink(uuid_text(row["id"]) or "", source, target, kind))
        return links

    async def _runs(self, workspaces: dict[Any, Any]) -> list[VkRun]:
        if "execution_processes" not in self.tables:
            return []
        sessions = {uuid_text(s["id"]): s for s in await self._table("sessions", queries.vk_source_sessions)}
        turns = {
            uuid_text(t["execution_process_id"]): t
            for t in await self._table("coding_agent_turns", queries.vk_source_turns)
        }  # fmt: skip (the latest wins)
        sizes = {uuid_text(s["execution_id"]): f"{s['chunks']}/{s['bytes']}/{s['last']}" for s in
                 await self._table("execution_process_logs", queries.vk_source_log_sizes)}  # fmt: skip
        runs = []
        for row in await self._rows(queries.vk_source_runs):
            run_id = uuid_text(row["id"]) or ""
            session = sessions.get(uuid_text(row.get("session_id")), {})
            turn = turns.get(run_id, {})
            exit_code = row.get("exit_code")
            runs.append(VkRun(
                id=run_id, item_id=workspaces.get(uuid_text(session.get("workspace_id"))),
                executor=_executor(session.get("executor")), run_reason=str(row.get("run_reason") or ""),
                status=str(row.get("status") or "running"), exit_code=exit_code if isinstance(exit_code, int) else None,
                dropped=bool(row.get("dropped")), started_at=vk_time(row.get("started_at") or row.get("created_at")),
                completed_at=vk_time(row.get("completed_at")), prompt=turn.get("prompt"), summary=turn.get("summary"),
                log_signature=sizes.get(run_id, ""),
            ))  # fmt: skip
        return runs

    async def read_log(self, run_id: str) -> list[tuple[str, str | None]]:
        """One run's log chunks in order, as (logs, inserted_at)."""
        if "execution_process_logs" not in self.tables:
            return []
        rows = await self._rows(queries.vk_source_run_log, execution_id=uuid_blob(run_id))
        return [(str(r["logs"]), vk_time(r["inserted_at"])) for r in rows]


def default_path(environ: dict[str, str], platform: str, home: Path) -> Path:
    """Where Vibe Kanban keeps db.sqlite: its asset dir, `directories`' ProjectDirs("ai", "bloop", "vibe-kanban")
    data dir (crates/utils/src/assets.rs), unless custom_path.json in its config dir names another."""
    if platform == "darwin":
        data = config = home / "Library" / "Application Support" / "ai.bloop.vibe-kanban"
    elif platform.startswith("win"):
        roaming = Path(environ.get("APPDATA") or home / "AppData" / "Roaming") / "bloop" / "vibe-kanban"
        data, config = roaming / "data", roaming / "config"
    else:
        data = Path(environ.get("XDG_DATA_HOME") or home / ".local" / "share") / "vibe-kanban"
        config = Path(environ.get("XDG_CONFIG_HOME") or home / ".config") / "vibe-kanban"
    custom = config / "custom_path.json"
    try:
        chosen = msgspec.json.decode(custom.read_bytes()).get("custom_asset_dir") if custom.is_file() else None
    except (OSError, msgspec.DecodeError, AttributeError):
        chosen = None
    if isinstance(chosen, str) and chosen and Path(chosen).is_dir():
        return Path(chosen) / "db.sqlite"
    return data / "db.sqlite"

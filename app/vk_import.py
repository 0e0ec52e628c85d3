"""`mc vk import`: a Vibe Kanban database file (read-only) into tickets, comments, links and run events.

Tickets first (each VK task or local issue, merged field by field with what it became last time: app/vk_tickets.py),
then what joins them: subtasks' parents, comments, relationships, and the agents' runs. Each batch is one write
transaction, an item always with its mapping, so an import stopped half-way leaves whole items and the next one
carries on; a second import changes only what changed and creates nothing twice (vk_sync and vk_items remember every
VK row by its id). `--dry-run` reads the same way and says what would change, writing nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from app.clock import stamp
from app.db import Database
from app.ingest import sessions_named
from app.rules import TEXT_MAX
from app.settings import Settings
from app.store import sessions as sessions_store
from app.store import vk as store
from app.store.vk_source import Source, VkComment, VkFile, VkLink
from app.vk_map import VkItem, fields_of
from app.vk_runs import AGENT_REASON, VkRun, events_of_run, worker_of
from app.vk_tickets import reconcile

T = TypeVar("T")
BATCH_ITEMS = 200  # tickets (or comments, links) per transaction
BATCH_EVENTS = 5_000  # run events per transaction
SHOWN_CHANGES = 200  # change lines a report prints (all are counted)


@dataclass
class Tally:
    """Created, updated and unchanged of one kind."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def add(self, action: str) -> None:
        """Count one outcome."""
        setattr(self, action, getattr(self, action) + 1)

    def said(self, would: str = "") -> str:
        """'3 created, 1 updated, 40 unchanged' (`would`: 'would be ' in a dry run)."""
        return f"{self.created:,} {would}created, {self.updated:,} {would}updated, {self.unchanged:,} unchanged"

    def __str__(self) -> str:
        return self.said()


@dataclass
class Report:
    """What an import (or a sync) did, or in a dry run would do."""

    dry_run: bool = False
    source: str = ""
    tickets: Tally = field(default_factory=Tally)
    comments: Tally = field(default_factory=Tally)
    links: Tally = field(default_factory=Tally)
    runs: Tally = field(default_factory=Tally)
    events: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    notes: Counter[str] = field(default_factory=Counter)
    changes: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)

    def change(self, line: str) -> None:
        """Note one change (the first SHOWN_CHANGES are kept to print)."""
        self.changes.append(line)

    def lines(self) -> list[str]:
        """The report, for the person who ran it."""
        out = [self.source] if self.source else []
        would = "would be " if self.dry_run else ""
        out.append(f"Tickets: {self.tickets.said(would)}")
        out.append(f"Comments: {self.comments.said(would)}")
        out.append(f"Links (subtasks and relationships): {self.links.said(would)}")
        out.append(f"Agent runs: {self.runs.said(would)} ({self.events:,} events {would}added)")
        for reason, n in sorted(self.skipped.items(), key=lambda kv: -kv[1]):
            out.append(f"  skipped {n:,} {reason}")
        for note, n in sorted(self.notes.items(), key=lambda kv: -kv[1]):
            out.append(f"  note ({n:,} times): {note}")
        if self.conflicts:
            out.append(f"Conflicts ({len(self.conflicts)}; both values kept in vk_conflicts):")
            out += [f"  {c}" for c in self.conflicts]
        if self.changes and self.dry_run:
            out.append("What would change:")
            out += [f"  {c}" for c in self.changes[:SHOWN_CHANGES]]
            if len(self.changes) > SHOWN_CHANGES:
                out.append(f"  … and {len(self.changes) - SHOWN_CHANGES:,} more")
        if self.dry_run:
            out.append("Dry run: nothing was written.")
        return out


def batches(items: Sequence[T], size: int) -> list[Sequence[T]]:
    """`items` in slices of `size`."""
    return [items[i : i + size] for i in range(0, len(items), size)]


def text_hash(*parts: object) -> str:
    """A short hash of what a VK row holds, to tell a changed row from one seen before."""
    return hashlib.sha256("\x1f".join(map(str, parts)).encode()).hexdigest()[:32]


class Importer:
    """Imports one Vibe Kanban file into one database."""

    def __init__(
        self, db: Database, settings: Settings, progress: Callable[[str], None] | None = None, dry_run: bool = False
    ) -> None:
        self.db, self.prefix, self.dry_run = db, settings.ticket_prefix, dry_run
        self.progress = progress or (lambda text: None)
        self.report = Report(dry_run=dry_run)

    @classmethod
    def runner(
        cls, settings: Settings, path: Path, progress: Callable[[str], None] | None, dry_run: bool
    ) -> Callable[[Database], Awaitable[Report]]:
        """An import of `path` to run on an open database (for `mc vk import`)."""
        return lambda db: cls(db, settings, progress, dry_run).run(path)

    @contextlib.asynccontextmanager
    async def _transaction(self) -> AsyncIterator[Any]:
        """A write transaction, or in a dry run a reader that sees the same rows."""
        if self.dry_run:
            async with self.db.read() as conn:
                yield conn
        else:
            async with self.db.write() as conn:
                yield conn

    async def run(self, path: Path) -> Report:
        """Import everything the file holds."""
        async with VkFile(path) as vk:
            source = await vk.read()
            self.report.source = f"{path}: {source.schema}"
            self.report.skipped.update(source.skipped)
            await self._tickets(source.items)
            ids = await self._ticket_ids(source)
            await self._parents(source.items, ids)
            await self._comments(source.comments, ids)
            await self._links(source.links, ids)
            await self._runs(vk, source.runs, ids)
        return self.report

    async def _tickets(self, items: list[VkItem]) -> None:
        done = 0
        for batch in batches(items, BATCH_ITEMS):
            now = stamp()
            async with self._transaction() as conn:
                known = await store.known_tickets(conn, [i.id for i in batch])
                for item in batch:
                    mapped = fields_of(item)
                    self.report.notes.update(mapped.notes)
                    outcome = await reconcile(conn, prefix=self.prefix, item=item, mapped=mapped,
                                              known=known.get(item.id), via="import", can_push=False,
                                              write=not self.dry_run, now=now)  # fmt: skip
                    self.report.tickets.add(outcome.action)
                    self.report.conflicts += outcome.conflicts
                    self.report.changes += [f"{outcome.identifier} {c}" for c in outcome.changes]
            done += len(batch)
            self.progress(f"tickets {done:,}/{len(items):,}")

    async def _ticket_ids(self, source: Source) -> dict[str, int]:
        """Each VK item's ticket id (in a dry run, items not imported yet get stand-ins below zero)."""
        ids = [item.id for item in source.items]
        async with self.db.read() as conn:
            found = await store.ticket_ids(conn, ids)
        for n, vk_id in enumerate(ids):
            found.setdefault(vk_id, -1 - n)
        return found

    async def _parents(self, items: list[VkItem], ids: dict[str, int]) -> None:
        """A subtask is `child_of` its parent (a task's parent workspace's task, or an issue's parent issue)."""
        for batch in batches(items, BATCH_ITEMS):
            async with self._transaction() as conn:
                known = await store.known_items(conn, "parent", [i.id for i in batch])
                for item in batch:
                    before = known.get(item.id)
                    if item.parent_id is None and before is None:
                        continue
                    if before is not None and before.content_hash == (item.parent_id or ""):
                        self.report.links.unchanged += 1
                        continue
                    child, parent = ids[item.id], ids.get(item.parent_id or "")
                    if item.parent_id and parent is None:
                        self.report.skipped["subtasks whose parent is not in the file"] += 1
                        continue
                    await self._relink(conn, "parent", item.id, child, parent, "child_of", item.parent_id or "", before)

    async def _relink(
        self, conn: Any, kind: str, vk_id: str, source: int, target: int | None, rel_type: str, digest: str,
        before: store.Item | None,
    ) -> None:  # fmt: skip
        """Make (or remake, when its VK row changed) the link a VK row stands for."""
        self.report.links.add("created" if before is None else "updated")
        if self.dry_run:
            return
        if before is not None and before.local_id is not None:
            await store.delete_link(conn, before.local_id)
        if target is None:  # the parent was taken away in VK
            await store.delete_item(conn, kind, vk_id)
            return
        link_id, why = await store.add_link(conn, source, target, rel_type)
        if why:
            self.report.skipped[why] += 1
        await store.save_item(conn, kind, vk_id, source, link_id, digest)

    async def _links(self, links: list[VkLink], ids: dict[str, int]) -> None:
        for batch in batches(links, BATCH_ITEMS):
            async with self._transaction() as conn:
                known = await store.known_items(conn, "link", [link.id for link in batch])
                for link in batch:
                    digest, before = text_hash(link.kind, link.source_id, link.target_id), known.get(link.id)
                    if before is not None and before.content_hash == digest:
                        self.report.links.unchanged += 1
                        continue
                    source, target = ids.get(link.source_id), ids.get(link.target_id)
                    if source is None or target is None:
                        self.report.skipped["relationships with an issue not in the file"] += 1
                        continue
                    await self._relink(conn, "link", link.id, source, target, link.kind, digest, before)

    async def _comments(self, comments: list[VkComment], ids: dict[str, int]) -> None:
        for batch in batches(comments, BATCH_ITEMS):
            async with self._transaction() as conn:
                known = await store.known_items(conn, "comment", [c.id for c in batch])
                for comment in batch:
                    body = comment.body if len(comment.body) <= TEXT_MAX else comment.body[: TEXT_MAX - 1] + "…"
                    digest, before = text_hash(comment.author, body), known.get(comment.id)
                    ticket_id = ids.get(comment.item_id)
                    if ticket_id is None:
                        self.report.skipped["comments on issues not in the file"] += 1
                    elif before is not None and before.content_hash == digest:
                        self.report.comments.unchanged += 1
                    elif before is not None and before.local_id is not None:
                        self.report.comments.updated += 1
                        if not self.dry_run:
                            await store.update_comment(conn, before.local_id, comment.author, body)
                            await store.save_item(conn, "comment", comment.id, ticket_id, before.local_id, digest)
                    else:
                        self.report.comments.created += 1
                        if not self.dry_run:
                            when = comment.created_at or stamp()
                            new_id = await store.insert_comment(conn, ticket_id, comment.author, body, when)
                            await store.save_item(conn, "comment", comment.id, ticket_id, new_id, digest)

    async def _runs(self, vk: VkFile, runs: list[VkRun], ids: dict[str, int]) -> None:
        """Each agent run's events, appended to its ticket (a run whose log grew adds what is new)."""
        wanted = []
        for run in runs:
            if run.run_reason != AGENT_REASON:
                self.report.skipped["runs of setup, cleanup and dev-server scripts (not an agent's)"] += 1
            elif run.dropped:
                self.report.skipped["runs VK dropped (its conversation was restored to an earlier point)"] += 1
            elif run.item_id not in ids:
                self.report.skipped["runs of tasks not in the file"] += 1
            else:
                wanted.append(run)
        pending: list[tuple[VkRun, int, list[Any]]] = []
        size, done = 0, 0
        for batch in batches(wanted, BATCH_ITEMS):
            async with self.db.read() as conn:
                known = await store.known_items(conn, "run", [r.id for r in batch])
            for run in batch:
                before = known.get(run.id)
                if before is not None and before.content_hash == run.signature:
                    self.report.runs.unchanged += 1
                    continue
                events, skipped = events_of_run(run, await vk.read_log(run.id))
                self.report.skipped.update(skipped)
                start = (before.local_id or 0) if before is not None else 0
                pending.append((run, start, events))
                size += max(0, len(events) - start)
                self.report.runs.add("created" if before is None else "updated")
                if size >= BATCH_EVENTS:
                    await self._store_runs(pending, ids)
                    pending, size = [], 0
            done += len(batch)
            self.progress(f"agent runs {done:,}/{len(wanted):,}, {self.report.events:,} events")
        await self._store_runs(pending, ids)

    async def _store_runs(self, pending: list[tuple[VkRun, int, list[Any]]], ids: dict[str, int]) -> None:
        """One transaction: the new events of these runs, and how far each run now goes."""
        if not pending:
            return
        if self.dry_run:
            self.report.events += sum(max(0, len(events) - start) for _run, start, events in pending)
            return
        async with self.db.write() as conn:
            for run, start, events in pending:
                ticket_id = ids[run.item_id or ""]
                fresh = events[start:]
                uuids = [f"vk-{run.id}-{n}" for n in range(start, len(events))]
                stored = await store.append_events(conn, ticket_id, fresh, uuids, worker_of(run))
                await sessions_store.register_from_events(conn, sessions_named(stored))
                self.report.events += len(stored)
                await store.save_item(conn, "run", run.id, ticket_id, max(start, len(events)), run.signature)

"""`mc vk sync` and the sync inside `mc serve` (MC_VK_URL): a running Vibe Kanban's projects and tasks, over its
HTTP API, onto tickets, and status changes made here back to it.

A round reads everything first (every project, every project's tasks); only when all of that came does it write,
in transactions of a batch of tasks each, with the same rule as the import (app/vk_tickets.py): so a VK that goes
away half-way leaves nothing half-written, and the next round starts afresh. Then the statuses changed here are
sent, one PUT each; a mapping is marked agreed only once VK took its change (else it stays `pending` and the next
round sends it again). One process syncs at a time: whoever holds `<db>.vk-sync.lock` for the round.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import httpx

from app.background import Periodic
from app.clock import stamp
from app.db import Database
from app.reaper import ProcessLock
from app.settings import Settings
from app.store import vk as store
from app.vk_client import ApiTask, VkClient, VkReadOnly, VkRefused, VkUnavailable
from app.vk_import import Tally, batches
from app.vk_map import VkItem, fields_of, uuid_text, vk_time
from app.vk_tickets import Push, reconcile

log = logging.getLogger("mc.vk")

BATCH = 200  # tasks per write transaction
MAX_PAUSE = 16  # after failures, the sync waits 1, 2, 4 … up to this many intervals before trying again


class VkSyncBusy(Exception):
    """Another process is syncing this database with Vibe Kanban now."""


@dataclass
class SyncReport:
    """What one round did."""

    url: str = ""
    projects: int = 0
    tasks: int = 0
    tickets: Tally = field(default_factory=Tally)
    pushed: list[str] = field(default_factory=list)
    not_pushed: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)
    read_only: str = ""

    @property
    def eventful(self) -> bool:
        """Whether anything happened worth a log line."""
        return bool(self.tickets.created or self.tickets.updated or self.pushed or self.not_pushed or self.conflicts)

    def lines(self, with_conflicts: bool = True) -> list[str]:
        """The report, for the person who ran it (or the log, which says each conflict as a warning of its own)."""
        out = [f"Vibe Kanban at {self.url}: {self.projects} projects, {self.tasks} tasks",
               f"Tickets: {self.tickets}"]  # fmt: skip
        if self.pushed:
            out.append(f"Statuses sent to VK ({len(self.pushed)}): " + "; ".join(self.pushed))
        if self.not_pushed:
            out.append(f"Not sent yet, tried again next round ({len(self.not_pushed)}): " + "; ".join(self.not_pushed))
        if self.read_only:
            out.append(f"{self.read_only}: status changes made here stay here")
        if self.gone:
            out.append(f"Gone from VK (kept here): {', '.join(self.gone)}")
        if self.conflicts and with_conflicts:
            out.append(f"Conflicts ({len(self.conflicts)}; both values kept in vk_conflicts):")
            out += [f"  {c}" for c in self.conflicts]
        return out


def item_of_task(task: ApiTask, project_name: str) -> VkItem:
    """A task as the API gives it, as the import reads one from the file (so both map it alike)."""
    return VkItem(
        id=uuid_text(task.id) or task.id, project_id=uuid_text(task.project_id) or task.project_id,
        project_name=project_name, source="task", title=task.title, description=task.description,
        status=task.status, created_at=vk_time(task.created_at), updated_at=vk_time(task.updated_at),
    )  # fmt: skip


class Syncer:
    """Syncs one database with one Vibe Kanban."""

    def __init__(
        self, db: Database, settings: Settings, url: str | None = None, backoff_s: float = 0.5,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:  # fmt: skip
        self.db, self.prefix = db, settings.ticket_prefix
        self.url = (url or settings.vk_url).rstrip("/")
        self.timeout_s, self.backoff_s, self.transport = settings.vk_timeout_s, backoff_s, transport
        self.read_only = ""  # once VK said it takes no changes, it is not asked again by this process

    def client(self) -> VkClient:
        """A client with the sync's timeout and retries."""
        return VkClient(self.url, self.timeout_s, backoff_s=self.backoff_s, transport=self.transport)

    async def sync_once(self) -> SyncReport:
        """One round: read all of VK, then write, then send the statuses changed here."""
        report = SyncReport(url=self.url)
        async with self.client() as vk:
            projects = await vk.projects()
            tasks = {p.id: await vk.tasks(p.id) for p in projects}  # every read before any write
        names = {uuid_text(p.id) or p.id: p.name for p in projects}
        items = [item_of_task(t, names.get(uuid_text(t.project_id) or "", "")) for ts in tasks.values() for t in ts]
        report.projects, report.tasks = len(projects), len(items)
        pushes = await self._write(items, report)
        async with self.db.read() as conn:
            mapped = await store.mapped_in_projects(conn, list(names))
        seen = {item.id for item in items}
        report.gone = sorted(identifier for vk_id, identifier in mapped.items() if vk_id not in seen)
        await self._push(pushes, names, report)
        return report

    async def _write(self, items: list[VkItem], report: SyncReport) -> list[Push]:
        pushes: list[Push] = []
        for batch in batches(items, BATCH):
            now = stamp()
            async with self.db.write() as conn:
                known = await store.known_tickets(conn, [i.id for i in batch])
                for item in batch:
                    outcome = await reconcile(conn, prefix=self.prefix, item=item, mapped=fields_of(item),
                                              known=known.get(item.id), via="sync", can_push=not self.read_only,
                                              write=True, now=now)  # fmt: skip
                    report.tickets.add(outcome.action)
                    report.conflicts += outcome.conflicts
                    report.changes += [f"{outcome.identifier} {c}" for c in outcome.changes]
                    if outcome.push is not None:
                        pushes.append(outcome.push)
        return pushes

    async def _push(self, pushes: list[Push], names: dict[str, str], report: SyncReport) -> None:
        """Send each status changed here; record the agreement only for those VK took."""
        if not pushes:
            return
        async with self.client() as vk:
            for n, push in enumerate(pushes):
                try:
                    task = await vk.set_status(push.vk_task_id, push.word)
                except VkReadOnly as exc:
                    self.read_only = report.read_only = str(exc)
                    await self._pending(pushes[n:], report)
                    return
                except (VkUnavailable, VkRefused) as exc:
                    log.warning("vk sync: %s", exc)
                    await self._pending([push], report)
                    continue
                item = item_of_task(task, names.get(uuid_text(task.project_id) or "", ""))
                async with self.db.write() as conn:
                    await store.confirm_push(conn, push.vk_task_id, fields_of(item).hash, push.base,
                                             item.updated_at, stamp())  # fmt: skip
                report.pushed.append(f"{push.identifier} → {push.word}")

    async def _pending(self, pushes: list[Push], report: SyncReport) -> None:
        async with self.db.write() as conn:
            for push in pushes:
                await store.set_state(conn, push.vk_task_id, "pending")
        report.not_pushed += [f"{p.identifier} → {p.word}" for p in pushes]


async def sync_standalone(db: Database, settings: Settings, url: str | None) -> SyncReport:
    """`mc vk sync`: one round, refused while another process syncs."""
    lock = ProcessLock(db.path, "vk-sync")
    if not lock.acquire():
        raise VkSyncBusy(f"another process is syncing {db.path} with Vibe Kanban now (it holds {lock.path})")
    try:
        return await Syncer(db, settings, url).sync_once()
    finally:
        lock.release()


class VkSyncer(Periodic):
    """Inside `mc serve`: a round every MC_VK_SYNC_S seconds in whichever process takes the lock; after a failure,
    a pause that doubles (up to MAX_PAUSE intervals), so a VK that is down is not asked every interval."""

    def __init__(self, db: Database, settings: Settings) -> None:
        super().__init__("mc-vk-sync", settings.vk_sync_s, self.tick, log)
        self.syncer = Syncer(db, settings)
        self.lock = ProcessLock(db.path, "vk-sync")
        self.failures = 0
        self._skip = 0

    async def tick(self) -> None:
        """One round, unless pausing after failures or another process holds the lock."""
        if self._skip:
            self._skip -= 1
            return
        if not self.lock.acquire():
            return
        try:
            report = await self.syncer.sync_once()
        except (VkUnavailable, VkRefused) as exc:
            self.failures += 1
            self._skip = min(2 ** (self.failures - 1), MAX_PAUSE) - 1
            log.warning("vk sync: %s; next try in %g s", exc, (self._skip + 1) * self.every_s)
            return
        finally:
            self.lock.release()
        self.failures = 0
        for conflict in report.conflicts:
            log.warning("vk sync conflict (both values kept in vk_conflicts): %s", conflict)
        if report.eventful:
            for line in report.lines(with_conflicts=False):
                log.info("vk sync: %s", line)

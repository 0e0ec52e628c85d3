"""Vibe Kanban's items on our side (sql/vk.sql): the tickets VK tasks and issues became, their comments, links and
runs, and the conflicts settled. Every function runs inside the caller's transaction (`conn`): an item and its
mapping are always written together."""

from __future__ import annotations

import secrets
from typing import Any

import msgspec

from app.clock import stamp
from app.store import as_json, queries, run_once, structs_once
from app.store import ingest as ingest_store
from app.store.events import WorkerEvent
from app.store.links import ACYCLIC, SYMMETRIC
from app.vk_map import Fields
from app.vk_runs import RunEvent


class Base(msgspec.Struct, frozen=True):
    """What both sides agreed on at the last import or sync: the ticket's fields, and VK's status word then."""

    fields: Fields
    vk_status: str


class Known(msgspec.Struct, frozen=True):
    """A VK item already mapped, with its ticket as it is now."""

    vk_project: str
    vk_task_id: str
    ticket_id: int
    content_hash: str | None
    base_json: str | None
    remote_updated_at: str | None
    source: str
    state: str
    identifier: str
    title: str
    description: str
    status: str
    priority: int
    assigned_to: str | None
    updated_at: str
    tags: str  # a JSON array

    @property
    def fields(self) -> Fields:
        """The ticket's fields now, as the mapping compares them."""
        return Fields(
            title=self.title,
            description=self.description,
            status=self.status,
            priority=self.priority,
            tags=tuple(sorted(msgspec.json.decode(self.tags, type=list[str]))),
            assigned_to=self.assigned_to,
        )

    @property
    def base(self) -> Base | None:
        """The last agreement (None for a mapping made before there was one)."""
        return msgspec.json.decode(self.base_json, type=Base) if self.base_json else None


class Item(msgspec.Struct, frozen=True):
    """Something else that came from VK (a comment, a link, a parent, a run) and where it is here."""

    vk_id: str
    ticket_id: int
    local_id: int | None
    content_hash: str


class Conflict(msgspec.Struct, frozen=True):
    """A field both sides changed, and which side won."""

    identifier: str | None
    vk_task_id: str
    field: str
    ours: str | None
    theirs: str | None
    winner: str
    via: str
    created_at: str
    id: int = 0


async def known_tickets(conn: Any, ids: list[str]) -> dict[str, Known]:
    """The mapped tickets of these VK ids, by VK id."""
    if not ids:
        return {}
    return {k.vk_task_id: k for k in await structs_once(Known, conn, queries.vk_known, ids=as_json(ids))}


async def ticket_ids(conn: Any, ids: list[str]) -> dict[str, int]:
    """The ticket id of each of these VK ids that has one."""
    if not ids:
        return {}
    return {row[0]: row[1] for row in await run_once(conn, queries.vk_ticket_ids, ids=as_json(ids))}


async def mapped_in_projects(conn: Any, projects: list[str]) -> dict[str, str]:
    """The tickets mapped from VK tasks of these projects: identifier by VK id."""
    return {row[0]: row[1] for row in await run_once(conn, queries.vk_mapped_in_projects, projects=as_json(projects))}


async def create_ticket(conn: Any, prefix: str, fields: Fields, created_at: str, updated_at: str) -> tuple[int, str]:
    """A new ticket holding `fields` (with VK's times); its id and identifier."""
    ticket_id = await queries.vk_insert_ticket(
        conn, placeholder="vk-" + secrets.token_hex(8), title=fields.title, description=fields.description,
        status=fields.status, priority=fields.priority, assigned_to=fields.assigned_to,
        created_at=created_at, updated_at=updated_at,
    )  # fmt: skip
    await queries.tickets_set_identifier(conn, prefix=prefix, id=ticket_id)
    for tag in fields.tags:
        await queries.tickets_add_tag(conn, ticket_id=ticket_id, tag=tag)
    return ticket_id, f"{prefix}-{ticket_id}"


async def change_ticket(conn: Any, ticket_id: int, before: Fields, after: Fields) -> None:
    """Write what differs between `before` and `after` (a new column puts the card on top of it, as a move does)."""
    if (before.title, before.description, before.priority, before.assigned_to) != (
        after.title, after.description, after.priority, after.assigned_to
    ):  # fmt: skip
        await queries.tickets_update(
            conn, id=ticket_id, title=after.title, description=after.description, priority=after.priority,
            set_assignee=True, assigned_to=after.assigned_to,
        )  # fmt: skip
    if before.status != after.status:
        await queries.tickets_move_to_top(conn, id=ticket_id, status=after.status)
    if before.tags != after.tags:
        await queries.tickets_clear_tags(conn, ticket_id=ticket_id)
        for tag in after.tags:
            await queries.tickets_add_tag(conn, ticket_id=ticket_id, tag=tag)


async def save_sync(
    conn: Any, *, ticket_id: int, vk_project: str, vk_task_id: str, source: str, state: str, content_hash: str,
    base: Base, remote_updated_at: str | None, synced_at: str,
) -> None:  # fmt: skip
    """Record the mapping of a VK item and what both sides now agree on."""
    await queries.vk_save_sync(
        conn, ticket_id=ticket_id, vk_project=vk_project, vk_task_id=vk_task_id, source=source, state=state,
        content_hash=content_hash, base_json=msgspec.json.encode(base).decode(), remote_updated_at=remote_updated_at,
        synced_at=synced_at,
    )  # fmt: skip


async def set_state(conn: Any, vk_task_id: str, state: str) -> None:
    """Mark a mapping synced, pending (a change here waits to be pushed), conflict or error."""
    await queries.vk_set_state(conn, vk_task_id=vk_task_id, state=state)


async def known_items(conn: Any, kind: str, ids: list[str]) -> dict[str, Item]:
    """What of these VK rows of one kind came here before, by VK id."""
    if not ids:
        return {}
    return {
        i.vk_id: i for i in await structs_once(Item, conn, queries.vk_items_known, item_kind=kind, ids=as_json(ids))
    }


async def save_item(conn: Any, kind: str, vk_id: str, ticket_id: int, local_id: int | None, content_hash: str) -> None:
    """Record where a VK row went (and what it was)."""
    await queries.vk_save_item(
        conn, kind=kind, vk_id=vk_id, ticket_id=ticket_id, local_id=local_id, content_hash=content_hash
    )


async def delete_item(conn: Any, kind: str, vk_id: str) -> None:
    """Forget a VK row (its link was removed)."""
    await queries.vk_delete_item(conn, kind=kind, vk_id=vk_id)


async def insert_comment(conn: Any, ticket_id: int, author: str, body: str, created_at: str) -> int:
    """A comment with its author and time; its id."""
    return int(await queries.vk_insert_comment(conn, ticket_id=ticket_id, author=author, body=body,
                                               created_at=created_at))  # fmt: skip


async def update_comment(conn: Any, comment_id: int, author: str, body: str) -> None:
    """A comment edited in VK."""
    await queries.vk_update_comment(conn, id=comment_id, author=author, body=body)


async def add_link(conn: Any, source_id: int, target_id: int, rel_type: str) -> tuple[int | None, str | None]:
    """Link two tickets as the board would (no self-links, repeats or cycles): (its id, None), or (None, why not)."""
    if source_id == target_id:
        return None, "links of an item to itself"
    for same in SYMMETRIC if rel_type in SYMMETRIC else (rel_type,):
        if await queries.links_exists(conn, source_id=source_id, target_id=target_id, rel_type=same,
                                      either_way=rel_type in SYMMETRIC):  # fmt: skip
            return None, "links already there"
    if rel_type in ACYCLIC and await queries.links_reaches(conn, rel_type=rel_type, start_id=target_id,
                                                           goal_id=source_id):  # fmt: skip
        return None, f"{rel_type} links that would make a cycle"
    return int(await queries.links_insert(conn, source_id=source_id, target_id=target_id, rel_type=rel_type)), None


async def delete_link(conn: Any, link_id: int) -> None:
    """Remove a link this import made (its VK row changed or went)."""
    await queries.vk_delete_link(conn, id=link_id)


async def append_events(
    conn: Any, ticket_id: int, events: list[RunEvent], uuids: list[str], worker: str
) -> list[WorkerEvent]:
    """Append a run's events to its ticket, after its last seq (each under its uuid: one stored already is left
    out); the events stored."""
    start = await ingest_store.batch_start(conn, [ticket_id])
    if not start or not events:
        return []
    held = await ingest_store.known_uuids(conn, [(ticket_id, u) for u in uuids])
    seq, rowid = start[0].seq, start[0].last_rowid  # inside the write transaction: the next ones are ours
    rows, stored, now = [], [], stamp()
    for event, uuid in zip(events, uuids, strict=True):
        if (ticket_id, uuid) in held:
            continue
        seq, rowid, ts = seq + 1, rowid + 1, event.ts or now  # (VK's time, or now when it kept none)
        rows.append([rowid, ticket_id, seq, event.event_type, event.payload_json, uuid, ts, worker])
        stored.append(WorkerEvent(rowid, ticket_id, seq, event.event_type, event.payload_json, ts, worker))
    if rows:
        await run_once(conn, queries.vk_insert_events, rows=as_json(rows))
    return stored


async def record_conflict(
    conn: Any, *, ticket_id: int, vk_task_id: str, field: str, ours: str, theirs: str, ours_updated_at: str | None,
    theirs_updated_at: str | None, winner: str, via: str,
) -> None:  # fmt: skip
    """Keep both values of a field both sides changed, and which won."""
    await queries.vk_insert_conflict(
        conn, ticket_id=ticket_id, vk_task_id=vk_task_id, field=field, ours=ours, theirs=theirs,
        ours_updated_at=ours_updated_at, theirs_updated_at=theirs_updated_at, winner=winner, via=via,
    )  # fmt: skip


async def recent_conflicts(conn: Any, limit: int = 50) -> list[Conflict]:
    """The conflicts settled lately, newest first."""
    return await structs_once(Conflict, conn, queries.vk_conflicts_recent, limit=limit)


async def confirm_push(
    conn: Any, vk_task_id: str, content_hash: str, base: Base, remote_updated_at: str | None, synced_at: str
) -> None:
    """VK took a status changed here: record the new agreement."""
    await queries.vk_confirm_push(
        conn, vk_task_id=vk_task_id, content_hash=content_hash, base_json=msgspec.json.encode(base).decode(),
        remote_updated_at=remote_updated_at, synced_at=synced_at,
    )  # fmt: skip

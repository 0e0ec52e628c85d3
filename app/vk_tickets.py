"""A Vibe Kanban item onto its ticket, the one rule the import and the sync share: create it, or merge it field by
field against what both sides last agreed on (vk_sync.base_json).

A field VK changed since then is taken, unless this side changed it too: then the side whose updated_at is newer
wins, and the conflict is kept (vk_conflicts) and reported, never silently lost. A field changed only here is
kept; its status is pushed back when the caller can (the sync, to a VK that accepts writes). Tags merge as sets:
what VK added or removed is added or removed here, and what was added here stays.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec

from app.clock import stamp
from app.store import vk as store
from app.vk_map import Fields, Mapped, VkItem, pushed_status

Action = Literal["created", "updated", "unchanged"]
Via = Literal["import", "sync"]
MERGED = ("title", "description", "status", "priority", "assigned_to")  # tags merge as sets (see below)


class Push(msgspec.Struct, frozen=True):
    """A status changed here, to be sent to VK; `base` is the agreement to record once VK took it."""

    vk_task_id: str
    ticket_id: int
    identifier: str
    word: str
    base: store.Base


class Outcome(msgspec.Struct, frozen=True):
    """What reconciling one item did (or, in a dry run, would do)."""

    action: Action
    identifier: str
    changes: tuple[str, ...] = ()
    conflicts: tuple[str, ...] = ()
    push: Push | None = None
    ticket_id: int | None = None


def _said(value: Any) -> str:
    text = ", ".join(value) if isinstance(value, tuple) else "" if value is None else str(value)
    return text if len(text) <= 40 else text[:39] + "…"


def merge_tags(base: tuple[str, ...], local: tuple[str, ...], remote: tuple[str, ...]) -> tuple[str, ...]:
    """Three-way merge of tag sets: VK's additions and removals since `base`, over what this side holds."""
    added, removed = set(remote) - set(base), set(base) - set(remote)
    return tuple(sorted((set(local) | added) - removed))


async def reconcile(
    conn: Any, *, prefix: str, item: VkItem, mapped: Mapped, known: store.Known | None, via: Via, can_push: bool,
    write: bool, now: str | None = None,
) -> Outcome:  # fmt: skip
    """Bring one VK item here (only reading when `write` is false: a dry run says what it would do)."""
    now = now or stamp()
    remote = mapped.fields
    if known is None:
        identifier, ticket_id = f"{prefix}-(new)", None
        if write:
            created, updated = item.created_at or now, item.updated_at or item.created_at or now
            ticket_id, identifier = await store.create_ticket(conn, prefix, remote, created, updated)
            await store.save_sync(
                conn, ticket_id=ticket_id, vk_project=item.project_id, vk_task_id=item.id, source=item.source,
                state="synced", content_hash=mapped.hash, base=store.Base(remote, mapped.vk_status),
                remote_updated_at=item.updated_at, synced_at=now,
            )  # fmt: skip
        return Outcome("created", identifier, (f"new ({remote.status}): {_said(remote.title)}",), ticket_id=ticket_id)
    local, base = known.fields, known.base or store.Base(known.fields, "")
    if known.content_hash == mapped.hash and known.base is not None:  # VK's side did not move
        return Outcome("unchanged", known.identifier, push=_push(known, local, base, mapped, can_push))
    merged, new_base = msgspec.structs.asdict(local), msgspec.structs.asdict(base.fields)
    conflicts: list[str] = []
    for name in MERGED:
        theirs, ours, was = getattr(remote, name), getattr(local, name), getattr(base.fields, name)
        moved = mapped.vk_status != base.vk_status if name == "status" else theirs != was
        if not moved:
            continue
        new_base[name] = theirs
        if ours in (was, theirs):
            merged[name] = theirs
            continue
        winner = "theirs" if (item.updated_at or "") > known.updated_at else "ours"
        if winner == "theirs":
            merged[name] = theirs
        won = "VK" if winner == "theirs" else "here"
        conflicts.append(f"{known.identifier} {name}: here {_said(ours)!r} ({known.updated_at}), "
                         f"VK {_said(theirs)!r} ({item.updated_at or 'no time'}): {won} won")  # fmt: skip
        if write:
            await store.record_conflict(
                conn, ticket_id=known.ticket_id, vk_task_id=item.id, field=name, ours=_said(ours),
                theirs=_said(theirs), ours_updated_at=known.updated_at, theirs_updated_at=item.updated_at,
                winner=winner, via=via,
            )  # fmt: skip
    merged["tags"] = merge_tags(base.fields.tags, local.tags, remote.tags)
    new_base["tags"] = remote.tags
    after = Fields(**merged)
    agreed = store.Base(Fields(**new_base), mapped.vk_status)
    changes = [f"{name} {_said(getattr(local, name))!r} → {_said(getattr(after, name))!r}"
               for name in (*MERGED, "tags") if getattr(local, name) != getattr(after, name)]  # fmt: skip
    if write:
        await store.change_ticket(conn, known.ticket_id, local, after)
        await store.save_sync(
            conn, ticket_id=known.ticket_id, vk_project=known.vk_project, vk_task_id=item.id, source=item.source,
            state="conflict" if conflicts else "synced", content_hash=mapped.hash, base=agreed,
            remote_updated_at=item.updated_at, synced_at=now,
        )  # fmt: skip
    return Outcome(
        "updated" if changes else "unchanged",
        known.identifier,
        tuple(changes),
        tuple(conflicts),
        _push(known, after, agreed, mapped, can_push),
        known.ticket_id,
    )


def _push(known: store.Known, local: Fields, base: store.Base, mapped: Mapped, can_push: bool) -> Push | None:
    """The status to send VK: this side's, when it changed here since the agreement and VK's word differs."""
    if not can_push or local.status == base.fields.status:
        return None
    word = pushed_status(local.status, local.tags)
    if word == mapped.vk_status:
        return None
    agreed = store.Base(msgspec.structs.replace(base.fields, status=local.status), word)
    return Push(known.vk_task_id, known.ticket_id, known.identifier, word, agreed)

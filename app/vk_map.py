"""Vibe Kanban's rows as Mission Control's (pure): ids, times, statuses, priorities, tags, and a ticket's fields.

What comes from VK (its local database, or its HTTP API) is first made a `VkItem` (a task of 0.1.44, or a local
issue of its later kanban); `fields_of` then says what the ticket holds. The same item always maps to the same
fields, so the hash of them tells a changed row from one seen before.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from datetime import UTC, datetime
from typing import Any, Literal

import msgspec

from app.clock import stamp
from app.rules import TEXT_MAX, TITLE_MAX

Source = Literal["task", "issue"]

# 0.1.44's task statuses (crates/db/src/models/task.rs, TaskStatus) as board columns. VK has no cancelled column
# here: a cancelled task is Done with the `cancelled` tag.
TASK_STATUSES = {"todo": "todo", "inprogress": "in_progress", "inreview": "review", "done": "done", "cancelled": "done"}
# Our columns back to VK's words, for a status changed here and pushed there (VK has no backlog or blocked).
PUSHED_STATUSES = {
    "backlog": "todo",
    "todo": "todo",
    "in_progress": "inprogress",
    "review": "inreview",
    "blocked": "inprogress",
    "done": "done",
}
# The local kanban's statuses are rows with names people can change; these are the names it seeds and the usual
# others, compared lower-case with spaces, dashes and underscores taken out.
STATUS_NAMES = {
    "backlog": "backlog",
    "todo": "todo",
    "triage": "backlog",
    "inprogress": "in_progress",
    "doing": "in_progress",
    "started": "in_progress",
    "inreview": "review",
    "review": "review",
    "blocked": "blocked",
    "done": "done",
    "complete": "done",
    "completed": "done",
    "closed": "done",
    "cancelled": "done",
    "canceled": "done",
}
CANCELLED_WORDS = ("cancelled", "canceled")
CANCELLED_TAG = "cancelled"
PRIORITIES = {"urgent": 1, "high": 2, "medium": 3, "low": 4}  # app/rules.py: 1 urgent … 4 low
DEFAULT_PRIORITY = 3
UNTITLED = "(untitled)"


class VkItem(msgspec.Struct, frozen=True, kw_only=True):
    """One VK task or local issue, whichever way it was read."""

    id: str
    project_id: str
    project_name: str
    source: Source
    title: str
    description: str | None = None
    status: str  # a task's status word, or a local issue's status name
    priority: str | None = None
    tags: tuple[str, ...] = ()
    assignee: str | None = None
    parent_id: str | None = None  # the parent task or issue (a subtask's)
    simple_id: str | None = None  # LOCAL-12, a local issue's own name
    created_at: str | None = None  # ours (app.clock), or None when VK's could not be read
    updated_at: str | None = None
    completed_at: str | None = None


class Fields(msgspec.Struct, frozen=True, kw_only=True):
    """What a ticket holds of a VK item."""

    title: str
    description: str
    status: str
    priority: int
    tags: tuple[str, ...]
    assigned_to: str | None


class Mapped(msgspec.Struct, frozen=True, kw_only=True):
    """An item's fields, VK's own status word (two of our columns can share one), and notes on what was changed."""

    fields: Fields
    vk_status: str
    notes: tuple[str, ...] = ()

    @property
    def hash(self) -> str:
        """The same item, the same hash: whether a VK row changed since it was last read."""
        return content_hash(self.fields, self.vk_status)


def content_hash(fields: Fields, vk_status: str) -> str:
    """A short hash of mapped fields and VK's status word."""
    return hashlib.sha256(msgspec.json.encode([fields, vk_status])).hexdigest()[:32]


def uuid_text(value: Any) -> str | None:
    """A VK id as text: its 16-byte BLOB (or the text the API sends) as a lower-case hyphenated uuid."""
    if value is None:
        return None
    if isinstance(value, bytes | bytearray | memoryview):
        raw = bytes(value)
        return str(uuid.UUID(bytes=raw)) if len(raw) == 16 else raw.hex()
    text = str(value).strip().lower()
    try:
        return str(uuid.UUID(text))
    except ValueError:
        return text or None


def uuid_blob(text: str) -> bytes:
    """A uuid as the 16 bytes VK keeps (to look rows up by id in its file)."""
    return uuid.UUID(text).bytes


def vk_time(value: Any) -> str | None:
    """A VK time as ours: SQLite's '2026-03-02 10:15:00.123' (UTC), sqlx's '…+00:00', the API's '…Z', or epoch."""
    if value is None or value == "":
        return None
    try:
        if isinstance(value, int | float):
            moment = datetime.fromtimestamp(value / 1000 if value > 1e11 else value, UTC)
        else:
            moment = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    except (ValueError, OverflowError, OSError):
        return None
    return stamp(moment if moment.tzinfo else moment.replace(tzinfo=UTC))


def slug_tag(name: str) -> str | None:
    """A VK project's or tag's name as one of our tags (lower-case letters, digits, - and _, at most 40)."""
    slug = re.sub(r"[^a-z0-9_]+", "-", name.lower()).strip("-_")[:40].strip("-_")
    return slug or None


def status_word(text: str) -> str:
    """A status name as compared: lower-case, without spaces, dashes or underscores."""
    return re.sub(r"[\s_-]+", "", text.lower())


def column_of(item: VkItem) -> tuple[str, bool, str | None]:
    """(our column, whether VK called it cancelled, a note when the status was not one we know)."""
    word = status_word(item.status)
    cancelled = word in CANCELLED_WORDS
    column = TASK_STATUSES.get(word) if item.source == "task" else STATUS_NAMES.get(word)
    if column is not None:
        return column, cancelled, None
    column = "done" if item.completed_at else "todo"
    return column, cancelled, f"status {item.status[:40]!r} is not one we know: put in {column}"


def fields_of(item: VkItem, assignee_max: int = 80) -> Mapped:
    """The ticket fields of a VK item (the project as a tag, cancelled as done with a tag)."""
    notes: list[str] = []
    column, cancelled, note = column_of(item)
    if note:
        notes.append(note)
    title = " ".join(item.title.replace("\x00", "").split()) or UNTITLED
    if len(title) > TITLE_MAX:
        title = title[: TITLE_MAX - 1] + "…"
        notes.append("title cut to 300 characters")
    description = (item.description or "").replace("\x00", "")
    if len(description) > TEXT_MAX:
        description = description[: TEXT_MAX - 1] + "…"
        notes.append("description cut to 100,000 characters")
    tags = {t for t in (slug_tag(item.project_name), *(slug_tag(n) for n in item.tags)) if t}
    if cancelled:
        tags.add(CANCELLED_TAG)
    priority = PRIORITIES.get((item.priority or "").lower(), DEFAULT_PRIORITY)
    assignee = (item.assignee or "").strip()[:assignee_max] or None
    fields = Fields(
        title=title,
        description=description,
        status=column,
        priority=priority,
        tags=tuple(sorted(tags)),
        assigned_to=assignee,
    )
    return Mapped(fields=fields, vk_status=item.status, notes=tuple(notes))


def pushed_status(status: str, tags: tuple[str, ...]) -> str:
    """Our column as VK's task status word (Done with the cancelled tag is cancelled there)."""
    if status == "done" and CANCELLED_TAG in tags:
        return "cancelled"
    return PUSHED_STATUSES.get(status, "todo")

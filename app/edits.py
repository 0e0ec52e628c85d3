"""Checking an inline edit of a ticket's header: each field a person may send, and what to tell them."""

from __future__ import annotations

from typing import Any

import msgspec

from app.autotag import clean_tags
from app.store import tickets


class EditForm(msgspec.Struct, frozen=True):
    """An inline edit: any subset of the header's fields (a field that is absent stays as it is)."""

    title: str | None = None
    status: str | None = None
    priority: str | None = None
    assignee: str | None = None
    tags: str | None = None


class Edit(msgspec.Struct, frozen=True):
    """A checked edit: what to store, and what to tell the person."""

    patch: tickets.TicketPatch
    said: list[str]


# SQLite's length() stops at a NUL, so the tables' length checks would refuse the row (a 500): it is refused
# here instead, with a message. No keyboard types one; careless scripts and fuzzers do.
NUL = "\x00"


def check_title(raw: str) -> str:
    """A title with its whitespace tidied; ValueError unless it has 1-300 characters and no NUL."""
    title = " ".join(raw.split())
    if not 1 <= len(title) <= 300:
        raise ValueError("A title needs 1 to 300 characters (not only spaces).")
    if NUL in title:
        raise ValueError("A title cannot contain a NUL character.")
    return title


def check_status(raw: str) -> str:
    """One of the board's six columns."""
    if raw not in tickets.STATUSES:
        raise ValueError(f"There is no status {raw[:40]!r}: use one of {', '.join(tickets.STATUSES)}.")
    return raw


def check_priority(raw: str) -> int:
    """1 (urgent) to 4 (low)."""
    if raw.strip() not in ("1", "2", "3", "4"):
        raise ValueError("Priority is 1 (urgent), 2 (high), 3 (medium) or 4 (low).")
    return int(raw)


def check_assignee(raw: str) -> str | None:
    """A name of at most 80 characters; empty means unassigned."""
    name = raw.strip()
    if len(name) > 80:
        raise ValueError("An assignee name can be at most 80 characters.")
    return name or None


def check_tags(raw: str) -> list[str]:
    """Tags typed as "bug, infra" (app.autotag.clean_tags); empty clears them."""
    try:
        return clean_tags(raw)
    except ValueError as exc:
        raise ValueError(f"Tags: {exc}.") from None


def parse_edit(form: EditForm, ticket: tickets.Ticket, tags: list[str]) -> Edit:
    """Check every field sent (a ValueError says what is wrong); fields that would not change are left out."""
    if all(value is None for value in msgspec.structs.astuple(form)):
        raise ValueError("Nothing to change: send a title, status, priority, assignee or tags.")
    patch: dict[str, Any] = {}
    said: list[str] = []
    title = ticket.title if form.title is None else check_title(form.title)
    if title != ticket.title:
        patch["title"] = title
        said.append(f"Title changed to {title}.")
    status = ticket.status if form.status is None else check_status(form.status)
    if status != ticket.status:
        patch["status"] = status
        said.append(f"Moved to {tickets.STATUS_LABELS[status]}.")
    priority = ticket.priority if form.priority is None else check_priority(form.priority)
    if priority != ticket.priority:
        patch["priority"] = priority
        said.append(f"Priority set to {tickets.PRIORITY_LABELS[priority]}.")
    assignee = ticket.assigned_to if form.assignee is None else check_assignee(form.assignee)
    if assignee != ticket.assigned_to:
        patch["assigned_to"] = assignee
        said.append(f"Assigned to {assignee}." if assignee else "Unassigned.")
    new_tags = tags if form.tags is None else check_tags(form.tags)
    if new_tags != tags:
        patch["tags"] = new_tags
        said.append(f"Tags set to {', '.join(new_tags)}." if new_tags else "Tags cleared.")
    return Edit(patch=tickets.TicketPatch(**patch), said=said or ["Nothing changed."])

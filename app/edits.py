"""Checking an inline edit of a ticket's header (against app/rules.py): each field a person may send, and what
to tell them."""

from __future__ import annotations

from typing import Any

import msgspec

from app import rules
from app.rules import check_assignee, check_description, check_priority, check_status, check_tags, check_title
from app.store import tickets


class EditForm(msgspec.Struct, frozen=True):
    """An inline edit: any subset of the header's fields (a field that is absent stays as it is)."""

    title: str | None = None
    description: str | None = None
    status: str | None = None
    priority: str | None = None
    assignee: str | None = None
    tags: str | None = None


class Edit(msgspec.Struct, frozen=True):
    """A checked edit: what to store, and what to tell the person."""

    patch: tickets.TicketPatch
    said: list[str]
    fields: list[str] = []  # the form fields that changed


def parse_edit(form: EditForm, ticket: tickets.Ticket, tags: list[str]) -> Edit:
    """Check every field sent (a RuleBroken says what is wrong); fields that would not change are left out."""
    if all(value is None for value in msgspec.structs.astuple(form)):
        raise rules.RuleBroken("Nothing to change: send a title, description, status, priority, assignee or tags.")
    patch: dict[str, Any] = {}
    said: list[str] = []
    title = ticket.title if form.title is None else check_title(form.title)
    if title != ticket.title:
        patch["title"] = title
        said.append(f"Title changed to {title}.")
    description = ticket.description if form.description is None else check_description(form.description)
    if description != ticket.description:
        patch["description"] = description
        said.append("Description saved.")
    status = ticket.status if form.status is None else check_status(form.status)
    if status != ticket.status:
        patch["status"] = status
        said.append(f"Moved to {rules.STATUS_LABELS[status]}.")
    priority = ticket.priority if form.priority is None else check_priority(form.priority)
    if priority != ticket.priority:
        patch["priority"] = priority
        said.append(f"Priority set to {rules.PRIORITY_LABELS[priority]}.")
    assignee = ticket.assigned_to if form.assignee is None else check_assignee(form.assignee)
    if assignee != ticket.assigned_to:
        patch["assigned_to"] = assignee
        said.append(f"Assigned to {assignee}." if assignee else "Unassigned.")
    new_tags = tags if form.tags is None else check_tags(form.tags)
    if new_tags != tags:
        patch["tags"] = new_tags
        said.append(f"Tags set to {', '.join(new_tags)}." if new_tags else "Tags cleared.")
    fields = [{"assigned_to": "assignee"}.get(name, name) for name in patch]
    return Edit(patch=tickets.TicketPatch(**patch), said=said or ["Nothing changed."], fields=fields)

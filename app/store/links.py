"""A ticket's links: relationships to other tickets (read from both ends, no cycles) and its vault files."""

from __future__ import annotations

import re
from typing import Literal

import msgspec

from app.db import Database
from app.store import queries, to_struct, to_structs
from app.store.tickets import Ticket, no_such_ticket

# The stored types (the seed's), in the order the page lists them.
REL_TYPES: tuple[str, ...] = ("blocks", "child_of", "duplicate_of", "caused_by", "relates_to", "related_to")
# How a link reads on its source's page, and on its target's page.
OUTWARD = {
    "blocks": "blocks",
    "duplicate_of": "duplicate of",
    "caused_by": "caused by",
    "child_of": "child of",
    "relates_to": "relates to",
    "related_to": "related to",
}
INWARD = {
    "blocks": "blocked by",
    "duplicate_of": "duplicated by",
    "caused_by": "caused",
    "child_of": "parent of",
    "relates_to": "relates to",
    "related_to": "related to",
}
# The inverse words a person may ask for: stored as the forward type with the two ends swapped.
INVERSES = {"blocked_by": "blocks", "duplicated_by": "duplicate_of", "cause_of": "caused_by", "parent_of": "child_of"}
# Types that read the same both ways: one such link per pair, whichever way round it was made.
SYMMETRIC = ("relates_to", "related_to")
# Types that order tickets (in time or in a tree), so a cycle would contradict itself.
ACYCLIC = ("blocks", "child_of", "duplicate_of", "caused_by")
# Whole sentences for refusals ("MC-9 blocks MC-12").
SENTENCES = {
    "blocks": "blocks",
    "duplicate_of": "is a duplicate of",
    "caused_by": "was caused by",
    "child_of": "is a child of",
    "relates_to": "relates to",
    "related_to": "is related to",
}
# The add form's choices, as (kind, label): the page never needs related_to, which reads like relates_to.
FORM_KINDS: tuple[tuple[str, str], ...] = (
    ("blocks", "blocks"),
    ("blocked_by", "blocked by"),
    ("child_of", "child of"),
    ("parent_of", "parent of"),
    ("relates_to", "relates to"),
    ("duplicate_of", "duplicate of"),
    ("duplicated_by", "duplicated by"),
    ("caused_by", "caused by"),
    ("cause_of", "caused"),
)
CONTEXT_ACTIONS: tuple[str, ...] = ("consulted", "updated", "created")
CONTEXT_SOURCES: tuple[str, ...] = ("auto", "manual")
MAX_NOTE = 2000


RefusalKind = Literal["invalid", "missing", "conflict"]


class Refused(Exception):
    """A change that is not allowed, with a message a person understands. `kind`: "invalid" (the request is
    wrong in itself), "missing" (a ticket it names does not exist), "conflict" (it contradicts what is
    stored). The route says what each means in HTTP."""

    def __init__(self, kind: RefusalKind, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


class TicketRef(msgspec.Struct, frozen=True):
    """Enough of a ticket to link it and name it."""

    id: int
    identifier: str
    title: str
    status: str


class LinkView(msgspec.Struct, frozen=True):
    """One relationship as one ticket's page shows it: the wording from this end and the ticket at the other."""

    id: int
    rel_type: str
    outgoing: bool
    label: str
    identifier: str
    title: str
    status: str
    created_at: str


class Relationship(msgspec.Struct, frozen=True):
    """One stored relationship, as the API returns it: `source` `type` `target`."""

    id: int
    type: str
    source: str
    target: str
    created_at: str


class ContextLink(msgspec.Struct, frozen=True):
    """A vault file a ticket consulted, updated or created."""

    id: int
    vault_path: str
    action: str
    source: str
    note: str
    created_at: str


class _LinkRow(msgspec.Struct, frozen=True):
    id: int
    rel_type: str
    outgoing: int
    other_identifier: str
    other_title: str
    other_status: str
    created_at: str


def resolve_kind(kind: str) -> tuple[str, bool]:
    """A kind asked for as (stored type, whether the two ends swap); 400 for a kind that does not exist."""
    if kind in REL_TYPES:
        return kind, False
    if kind in INVERSES:
        return INVERSES[kind], True
    raise Refused("invalid", f"There is no link type {kind[:40]!r}: use one of {', '.join(REL_TYPES)}.")


_IDENTIFIER = re.compile(r"^[A-Z0-9]{1,20}-[0-9]{1,12}$")  # a prefix (MC_TICKET_PREFIX: letters, digits), a number


def normalise_identifier(ref: str, prefix: str) -> str:
    """A ticket named by a person: 'mc-12', '#12', '12' or a pasted /ticket/MC-12 address all mean MC-12."""
    name = ref.strip().rstrip("/").rsplit("/", 1)[-1].lstrip("#").upper()
    return f"{prefix}-{name}" if name.isdigit() else name


async def find_ref(db: Database, ref: str, prefix: str) -> TicketRef:
    """The ticket a person named; 400 when they named none, 422 when there is no such ticket (the request is
    well formed and its own ticket exists: a 404 would say the address is wrong)."""
    identifier = normalise_identifier(ref, prefix)
    if not identifier:
        raise Refused("invalid", f"Name the ticket to link, e.g. {prefix}-12.")
    if not _IDENTIFIER.match(identifier):  # no ticket has such a name (422, as for one that is not there)
        raise Refused("missing", f"{ref.strip()[:100]!r} is not a ticket: name one like {prefix}-12.")
    async with db.read() as conn:
        found = to_struct(TicketRef, await queries.links_ticket_ref(conn, identifier=identifier[:100]))
    if found is None:
        raise Refused("missing", no_such_ticket(identifier))
    return found


async def list_links(db: Database, ticket_id: int) -> list[LinkView]:
    """A ticket's relationships from both ends, grouped by type (outgoing first), oldest first within."""
    async with db.read() as conn:
        rows = await to_structs(_LinkRow, queries.links_of_ticket(conn, ticket_id=ticket_id))
    views = [
        LinkView(
            id=r.id,
            rel_type=r.rel_type,
            outgoing=bool(r.outgoing),
            label=(OUTWARD if r.outgoing else INWARD)[r.rel_type],
            identifier=r.other_identifier,
            title=r.other_title,
            status=r.other_status,
            created_at=r.created_at,
        )
        for r in rows
    ]
    return sorted(views, key=lambda v: (REL_TYPES.index(v.rel_type), not v.outgoing))


async def add_link(db: Database, ticket: Ticket, kind: str, target: str, prefix: str) -> Relationship:
    """Link `ticket` to `target` as `kind`, refusing self-links, repeats and cycles; return the stored link."""
    rel_type, swapped = resolve_kind(kind)
    other = await find_ref(db, target, prefix)
    if other.id == ticket.id:
        raise Refused("invalid", "A ticket cannot be linked to itself.")
    source, dest = (other, ticket) if swapped else (ticket, other)
    # Checks and insert share one write transaction, so two requests cannot both pass and make a cycle.
    async with db.write() as conn:
        for same in SYMMETRIC if rel_type in SYMMETRIC else (rel_type,):
            exists = await queries.links_exists(
                conn, source_id=source.id, target_id=dest.id, rel_type=same, either_way=rel_type in SYMMETRIC
            )
            if exists:
                sentence = SENTENCES[same]
                said = f"That link is already there: {source.identifier} {sentence} {dest.identifier}."
                raise Refused("conflict", said)
        if rel_type in ACYCLIC and await queries.links_reaches(
            conn, rel_type=rel_type, start_id=dest.id, goal_id=source.id
        ):
            sentence = SENTENCES[rel_type]
            raise Refused(
                "conflict",
                f"That would make a cycle: {dest.identifier} {sentence} {source.identifier} already, "
                "directly or through other tickets.",
            )
        link_id = await queries.links_insert(conn, source_id=source.id, target_id=dest.id, rel_type=rel_type)
        await queries.tickets_touch(conn, ticket_id=ticket.id)
        link = to_struct(Relationship, await queries.links_by_id(conn, id=link_id))
    assert link is not None
    return link


async def remove_link(db: Database, ticket_id: int, link_id: int) -> bool:
    """Remove one of this ticket's links (from either end); False when it has no such link."""
    async with db.write() as conn:
        removed = await queries.links_delete_of_ticket(conn, id=link_id, ticket_id=ticket_id)
        if removed:
            await queries.tickets_touch(conn, ticket_id=ticket_id)
    return bool(removed)


async def remove_link_to(db: Database, ticket: Ticket, kind: str, target: str, prefix: str) -> bool:
    """Remove the `kind` link between `ticket` and `target`; False when there is none."""
    rel_type, swapped = resolve_kind(kind)
    other = await find_ref(db, target, prefix)
    source_id, dest_id = (other.id, ticket.id) if swapped else (ticket.id, other.id)
    async with db.write() as conn:
        removed = await queries.links_delete_between(
            conn, source_id=source_id, target_id=dest_id, rel_type=rel_type, either_way=rel_type in SYMMETRIC
        )
        if removed:
            await queries.tickets_touch(conn, ticket_id=ticket.id)
    return bool(removed)


# The rules of check_vault_path as one pattern, for the API's document (JSON Schema and Python read it alike).
VAULT_PATH_PATTERN = r"^(?![A-Za-z]:)(?!(?:.*[/\\])?\.\.(?:[/\\]|$))[^ /\\\x00-\x1f\x7f][^\x00-\x1f\x7f]*$"


def check_vault_path(raw: str) -> str:
    """A vault path as given, refused (400) unless it is relative, inside the vault and 1-1000 characters."""
    if re.search(r"[\x00-\x1f\x7f]", raw):
        raise Refused("invalid", "A vault path cannot contain control characters.")
    path = raw.strip()
    if not path:
        raise Refused("invalid", "Give the vault file's path, e.g. projects/mission-control/notes.md.")
    if len(path) > 1000:
        raise Refused("invalid", "A vault path can be at most 1,000 characters.")
    if path.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", path):
        raise Refused("invalid", "A vault path is relative to the vault: drop the leading / or drive.")
    if ".." in re.split(r"[/\\]", path):
        raise Refused("invalid", "A vault path cannot step out of a folder with '..'.")
    return path


async def list_context(db: Database, ticket_id: int) -> list[ContextLink]:
    """The vault files linked to a ticket, oldest first."""
    async with db.read() as conn:
        return await to_structs(ContextLink, queries.links_context_of_ticket(conn, ticket_id=ticket_id))


async def add_context(
    db: Database, ticket_id: int, vault_path: str, action: str, source: str, note: str
) -> tuple[ContextLink, bool]:
    """Link a vault file to a ticket; return (the link, whether it is new) — the same path and action twice
    is one link, so a worker that retries or consults a file again does not pile up rows."""
    path = check_vault_path(vault_path)
    if action not in CONTEXT_ACTIONS:
        raise Refused("invalid", f"The action is one of {', '.join(CONTEXT_ACTIONS)}.")
    if source not in CONTEXT_SOURCES:
        raise Refused("invalid", f"The source is one of {', '.join(CONTEXT_SOURCES)}.")
    if len(note) > MAX_NOTE:
        raise Refused("invalid", f"A note can be at most {MAX_NOTE:,} characters.")
    async with db.write() as conn:
        found = to_struct(
            ContextLink, await queries.links_context_find(conn, ticket_id=ticket_id, vault_path=path, action=action)
        )
        if found is not None:
            return found, False
        new_id = await queries.links_context_insert(
            conn, ticket_id=ticket_id, vault_path=path, action=action, source=source, note=note.strip()
        )
        link = to_struct(ContextLink, await queries.links_context_by_id(conn, id=new_id))
    assert link is not None
    return link, True


async def remove_context(db: Database, ticket_id: int, context_id: int) -> bool:
    """Unlink one of this ticket's vault files; False when the id is not this ticket's."""
    async with db.write() as conn:
        return bool(await queries.links_context_delete_of_ticket(conn, id=context_id, ticket_id=ticket_id))

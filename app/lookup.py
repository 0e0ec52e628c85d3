"""Finding the ticket a request names, and saying so when there is none (said once, here)."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.exceptions import HTTPException, NotFoundException

from app.state import AppState, app_state
from app.store import events as event_store
from app.store import tickets
from app.store.tickets import no_such_ticket


def missing_target(identifier: str) -> HTTPException:
    """A 422 for a body that names a ticket that does not exist (the address itself was fine)."""
    return HTTPException(status_code=422, detail=no_such_ticket(identifier))


async def find_ticket(request: Request[Any, Any, Any], identifier: str) -> tickets.Ticket:
    """The ticket, or a 404 that names it."""
    ticket = await tickets.get_ticket(app_state(request).db, identifier.upper())
    if ticket is None:
        raise NotFoundException(no_such_ticket(identifier))
    return ticket


async def find_target(request: Request[Any, Any, Any], identifier: str | None) -> tickets.Ticket | None:
    """The ticket a body names (None when it names none), or a 422 that names it."""
    if identifier is None:
        return None
    ticket = await tickets.get_ticket(app_state(request).db, identifier.upper())
    if ticket is None:
        raise missing_target(identifier)
    return ticket


async def ticket_id_of(mc: AppState, identifier: str) -> int:
    """The ticket's row id (kept per process: identifiers are never reused), or 404."""
    key = identifier.upper()
    found = mc.ticket_ids.get(key)
    if found is None:
        found = await event_store.ticket_id(mc.db, key)
        if found is None:
            raise NotFoundException(no_such_ticket(identifier))
        mc.ticket_ids.put(key, found)
    return found

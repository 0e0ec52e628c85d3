"""The JSON API that workers and scripts call with bearer tokens."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from litestar import Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, JSONBody

from app.state import app_state
from app.store import ops, tickets


class HeartbeatIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A worker's health report."""

    worker: Annotated[str, msgspec.Meta(min_length=1, max_length=80, description="The worker's name")]
    status: Literal["ok", "busy", "idle", "degraded", "down"]
    ticket: Annotated[str | None, msgspec.Meta(description="Identifier of the ticket being worked on")] = None
    detail: Annotated[str, msgspec.Meta(max_length=2000)] = ""


class HeartbeatOut(msgspec.Struct, frozen=True):
    """The stored heartbeat's id."""

    id: int


@get("/api/v1/tickets/{identifier:str}", cache=False, opt={"worker": True})
async def get_ticket(request: Request[Any, Any, Any], identifier: FromPath[str]) -> tickets.Ticket:
    """One ticket as JSON."""
    ticket = await tickets.get_ticket(app_state(request).db, identifier.upper())
    if ticket is None:
        raise NotFoundException(f"There is no ticket {identifier}.")
    return ticket


@post("/api/v1/heartbeats", opt={"worker": True}, status_code=201)
async def post_heartbeat(request: Request[Any, Any, Any], data: JSONBody[HeartbeatIn]) -> HeartbeatOut:
    """Record a worker's heartbeat (the Team and Overview pages read them)."""
    db = app_state(request).db
    if data.ticket is not None and await tickets.get_ticket(db, data.ticket.upper()) is None:
        raise NotFoundException(f"There is no ticket {data.ticket}.")
    ticket = data.ticket.upper() if data.ticket else None
    return HeartbeatOut(await ops.record_heartbeat(db, data.worker, data.status, data.detail, ticket))


ROUTES = [get_ticket, post_heartbeat]

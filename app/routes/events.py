"""Worker events: POST one stream-json event (or a batch), GET them back in seq order."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post
from litestar.enums import MediaType
from litestar.exceptions import ClientException, NotFoundException
from litestar.params import FromPath, Parameter

from app.auth import WORKER
from app.event_input import MAX_BODY_BYTES, parse_events
from app.ingest import TicketGone
from app.lookup import no_such_ticket, ticket_id_of
from app.params import Seq
from app.state import app_state
from app.store import events as event_store


class EventOut(msgspec.Struct, frozen=True):
    """An event as replayed: its seq, type, the object that was posted, and when it was stored."""

    seq: int
    event_type: str
    payload: msgspec.Raw
    ts: str


@post("/api/v1/tickets/{identifier:str}/events", opt=WORKER, request_max_body_size=MAX_BODY_BYTES)
async def post_events(request: Request[Any, Any, Any], identifier: FromPath[str]) -> Response[Any]:
    """Store one stream-json event (201 {"seq"}) or a batch {"events": [...]} (201 {"seqs"}); a repeat
    (same event uuid, or same Idempotency-Key) answers 200 with the first seqs and stores nothing."""
    mc = app_state(request)
    events, batch = parse_events(await request.body())
    ticket_id = await ticket_id_of(mc, identifier)
    key = request.headers.get("idempotency-key")
    if key is not None and not 1 <= len(key) <= 200:
        raise ClientException("An Idempotency-Key is 1-200 characters.")
    try:
        seqs, fresh = await mc.writer.submit(ticket_id, events, key, request.user.name)
    except TicketGone:
        mc.ticket_ids.clear()
        raise NotFoundException(no_such_ticket(identifier)) from None
    body = msgspec.json.encode({"seqs": seqs} if batch else {"seq": seqs[0]})
    return Response(body, status_code=201 if fresh else 200, media_type=MediaType.JSON)


@get("/api/v1/tickets/{identifier:str}/events", opt=WORKER, cache=False)
async def get_events(
    request: Request[Any, Any, Any],
    identifier: FromPath[str],
    after: Seq = 0,
    limit: Annotated[int, Parameter(ge=1, le=5000, description="At most this many events")] = 1000,
) -> list[EventOut]:
    """A ticket's events after a seq, in seq order (at most `limit`, 1-5000)."""
    mc = app_state(request)
    ticket_id = await ticket_id_of(mc, identifier)
    rows = await event_store.events_after(mc.db, ticket_id, after, limit)
    return [EventOut(r.seq, r.event_type, msgspec.Raw(r.payload_json.encode()), r.ts) for r in rows]


ROUTES = [post_events, get_events]

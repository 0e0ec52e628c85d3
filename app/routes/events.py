"""Worker events: POST one stream-json event (or a batch), GET them back in seq order."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response, get, post
from litestar.enums import MediaType
from litestar.exceptions import ClientException, NotFoundException
from litestar.params import FromPath, FromQuery

from app.ingest import IncomingEvent, TicketGone
from app.state import AppState, app_state
from app.store import events as event_store

MAX_EVENT_BYTES = 256 * 1024  # one event's JSON, as documented for workers
MAX_BATCH = 1000  # events in one POST
MAX_BODY_BYTES = 32 * 1024 * 1024


class EventOut(msgspec.Struct, frozen=True):
    """An event as replayed: its seq, type, the object that was posted, and when it was stored."""

    seq: int
    event_type: str
    payload: msgspec.Raw
    ts: str


class _Envelope(msgspec.Struct):
    """The top of a POST body: one event (it has a type) or a batch (it has events). Nothing else is read."""

    type: Any = None
    uuid: Any = None
    events: msgspec.Raw = msgspec.Raw()  # empty when absent (msgspec takes no Raw | None)


class _Head(msgspec.Struct):
    """What is read of each event: the rest stays as the exact JSON the worker sent."""

    type: Any = None
    uuid: Any = None


def parse_events(body: bytes) -> tuple[list[IncomingEvent], bool]:
    """The events in a POST body (one object, or {"events": [...]}) and whether it was a batch.

    Each event is kept as the bytes it came in (msgspec.Raw): only its type and uuid are decoded, so a
    batch costs one pass over the JSON, not a decode and an encode of every event."""
    try:
        top = msgspec.json.decode(body, type=_Envelope)
    except msgspec.ValidationError:
        raise ClientException("an event must be a JSON object.") from None
    except msgspec.DecodeError as exc:
        raise ClientException(f"The body is not valid JSON: {exc}.") from None
    if top.type is not None or not len(top.events):
        return [check_event(_Head(top.type, top.uuid), body, None)], False
    try:
        items = msgspec.json.decode(top.events, type=list[msgspec.Raw])
    except msgspec.ValidationError:
        raise ClientException('"events" must be a non-empty list of event objects.') from None
    if not items:
        raise ClientException('"events" must be a non-empty list of event objects.')
    if len(items) > MAX_BATCH:
        raise ClientException(f"A batch holds at most {MAX_BATCH} events; this one has {len(items)}.")
    events = []
    for n, raw in enumerate(items):
        try:
            head = msgspec.json.decode(raw, type=_Head)
        except msgspec.ValidationError:
            raise ClientException(f"events[{n}]: an event must be a JSON object.") from None
        events.append(check_event(head, bytes(raw), n))
    return events, True


def check_event(head: _Head, raw: bytes, index: int | None) -> IncomingEvent:
    """One stream-json event: an object with a string `type`, at most MAX_EVENT_BYTES; its uuid if any."""
    where = f"events[{index}]: " if index is not None else ""
    if not isinstance(head.type, str) or not 1 <= len(head.type) <= 100:
        raise ClientException(f'{where}an event needs a "type": a string of 1-100 characters.')
    if len(raw) > MAX_EVENT_BYTES:
        raise ClientException(f"{where}an event can be at most {MAX_EVENT_BYTES // 1024} KB; this one is "
                              f"{len(raw) // 1024} KB.", status_code=413)  # fmt: skip
    uuid = head.uuid if isinstance(head.uuid, str) and 1 <= len(head.uuid) <= 200 else None
    return IncomingEvent(head.type, raw.decode(), uuid)


async def ticket_id_of(mc: AppState, identifier: str) -> int:
    """The ticket's row id (kept per process: identifiers are never reused), or 404."""
    key = identifier.upper()
    found = mc.ticket_ids.get(key)
    if found is None:
        found = await event_store.ticket_id(mc.db, key)
        if found is None:
            raise NotFoundException(f"There is no ticket {identifier}.")
        mc.ticket_ids.put(key, found)
    assert isinstance(found, int)
    return found


@post("/api/v1/tickets/{identifier:str}/events", opt={"worker": True}, request_max_body_size=MAX_BODY_BYTES)
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
        seqs, fresh = await mc.writer.submit(ticket_id, events, key)
    except TicketGone:
        mc.ticket_ids.clear()
        raise NotFoundException(f"There is no ticket {identifier}.") from None
    body = {"seqs": seqs} if batch else {"seq": seqs[0]}
    return Response(body, status_code=201 if fresh else 200, media_type=MediaType.JSON)


@get("/api/v1/tickets/{identifier:str}/events", opt={"worker": True}, cache=False)
async def get_events(
    request: Request[Any, Any, Any], identifier: FromPath[str], after: FromQuery[int] = 0, limit: FromQuery[int] = 1000
) -> list[EventOut]:
    """A ticket's events after a seq, in seq order (at most `limit`, 1-5000)."""
    if after < 0 or not 1 <= limit <= 5000:
        raise ClientException("`after` is a seq (0 or more) and `limit` is 1-5000.")
    mc = app_state(request)
    ticket_id = await ticket_id_of(mc, identifier)
    rows = await event_store.events_after(mc.db, ticket_id, after, limit)
    return [EventOut(r.seq, r.event_type, msgspec.Raw(r.payload_json.encode()), r.ts) for r in rows]


ROUTES = [post_events, get_events]

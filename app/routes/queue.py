"""The worker queue: the workers' claim/ack/fail API, a listing, and the ticket composer's "Send to worker"."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from litestar import Request, Response, get, post
from litestar.enums import MediaType
from litestar.exceptions import HTTPException, NotFoundException
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, JSONBody, Parameter, URLEncodedBody
from litestar.response import Redirect

from app.apierrors import JSON_ERRORS
from app.auth import WORKER
from app.composer import CommentForm, composer_text
from app.htmx import spoken_note, wants_fragment
from app.lookup import find_target, find_ticket
from app.openapi import refusals
from app.params import MessageId
from app.rules import NOT_BLANK, TEXT_MAX
from app.state import app_state
from app.store import queue
from app.templates import render_html

Status = Literal["queued", "leased", "done", "failed", "expired", "dead"]  # queue.STATUSES; a test checks
WorkerName = Annotated[str, msgspec.Meta(min_length=1, max_length=80, description="The worker's name")]
DOCS: dict[str, Any] = {"tags": ["Queue"], "exception_handlers": JSON_ERRORS}
ID_DOCS: dict[str, Any] = {**DOCS, "raises": [NotFoundException]}
CONFLICT = refusals({409: "Not the lease owner, the lease has run out, or the message is not leased"})
NO_TICKET = refusals({422: "The ticket named in the body does not exist"})


class ClaimIn(msgspec.Struct, frozen=True):
    """Who claims, and for how long they may hold the message before it is offered again."""

    worker: WorkerName
    lease_seconds: Annotated[int, msgspec.Meta(ge=10, le=3600, description="10-3600 seconds")] = 300


class AckIn(msgspec.Struct, frozen=True):
    """Who finished the message (its lease owner)."""

    worker: WorkerName


class FailIn(msgspec.Struct, frozen=True):
    """Who failed the message, and why."""

    worker: WorkerName
    error: Annotated[str, msgspec.Meta(min_length=1, max_length=2000, description="What went wrong")]


class EnqueueIn(msgspec.Struct, frozen=True, kw_only=True):
    """A message for a worker; worker null (or omitted) means any worker may take it."""

    body: Annotated[str, msgspec.Meta(min_length=1, max_length=TEXT_MAX, pattern=NOT_BLANK)]
    ticket: (
        Annotated[str, msgspec.Meta(min_length=1, max_length=100, description="Identifier of the ticket it is about")]
        | None
    ) = None
    worker: WorkerName | None = None


class MessageList(msgspec.Struct, frozen=True):
    """Queued messages, newest first."""

    messages: list[queue.QueueItem]


def conflict(exc: queue.QueueConflict) -> HTTPException:
    """A 409 that says why the change is not possible now."""
    return HTTPException(status_code=409, detail=str(exc))


def missing(message_id: int) -> NotFoundException:
    """A 404 that names the message."""
    return NotFoundException(f"There is no queued message {message_id}.")


@post(
    "/api/v1/queue/claim", opt=WORKER, status_code=200,
    responses={204: ResponseSpec(None, description="Nothing to claim right now")}, **DOCS,
)  # fmt: skip
async def claim_message(request: Request[Any, Any, Any], data: JSONBody[ClaimIn]) -> Response[queue.Claimed | None]:
    """Lease the oldest message for this worker (or for any worker): 200 with it, 204 when there is none."""
    claimed = await queue.claim(app_state(request).db, data.worker, data.lease_seconds)
    if claimed is None:
        return Response(None, status_code=204)
    return Response(claimed, status_code=200)


@post("/api/v1/queue/{message_id:int}/ack", opt=WORKER, status_code=200, responses=CONFLICT, **ID_DOCS)
async def ack_message(request: Request[Any, Any, Any], message_id: MessageId, data: JSONBody[AckIn]) -> queue.QueueItem:
    """Mark a message done: only its lease owner, while the lease lasts (409 otherwise, saying why)."""
    try:
        item = await queue.ack(app_state(request).db, message_id, data.worker)
    except queue.QueueConflict as exc:
        raise conflict(exc) from None
    if item is None:
        raise missing(message_id)
    return item


@post("/api/v1/queue/{message_id:int}/fail", opt=WORKER, status_code=200, responses=CONFLICT, **ID_DOCS)
async def fail_message(
    request: Request[Any, Any, Any], message_id: MessageId, data: JSONBody[FailIn]
) -> queue.QueueItem:
    """Record a failed attempt: retried after a growing backoff, dead at MC_QUEUE_MAX_ATTEMPTS."""
    mc = app_state(request)
    try:
        item = await queue.fail(mc.db, message_id, data.worker, data.error, mc.settings.queue_max_attempts)
    except queue.QueueConflict as exc:
        raise conflict(exc) from None
    if item is None:
        raise missing(message_id)
    return item


@get("/api/v1/queue", cache=False, opt=WORKER, tags=["Queue"])
async def list_messages(
    request: Request[Any, Any, Any],
    status: Annotated[Status | None, Parameter(description="Only messages in this state")] = None,
    limit: Annotated[int, Parameter(ge=1, le=500, description="How many, newest first")] = 100,
) -> MessageList:
    """Queued messages, newest first (read tokens may list them too)."""
    return MessageList(await queue.list_messages(app_state(request).db, status, limit))


@post("/api/v1/queue", opt=WORKER, status_code=201, responses=NO_TICKET, **DOCS)
async def enqueue_message(request: Request[Any, Any, Any], data: JSONBody[EnqueueIn]) -> queue.QueueItem:
    """Queue a message for a worker, about a ticket or not."""
    db = app_state(request).db
    ticket = await find_target(request, data.ticket)
    message_id = await queue.enqueue(db, ticket.id if ticket else None, data.worker, data.body)
    item = await queue.get_message(db, message_id)
    assert item is not None  # just written by this process's writer
    return item


@post("/ticket/{identifier:str}/queue", cache=False)
async def send_to_worker(
    request: Request[Any, Any, Any], identifier: FromPath[str], data: URLEncodedBody[CommentForm]
) -> Response[Any]:
    """The composer's "Send to worker": queue the text for the ticket's assignee (or any worker)."""
    ticket = await find_ticket(request, identifier)
    body, problem = composer_text(data.body, "A message for the worker")
    if problem:
        return problem
    db = app_state(request).db
    sent = await queue.get_message(db, await queue.enqueue(db, ticket.id, ticket.assigned_to, body))
    assert sent is not None  # just written, by this one writer
    if not wants_fragment(request):
        return Redirect(path=f"/ticket/{ticket.identifier}#queued-{sent.id}", status_code=303)
    # Appended to the conversation, where the composer's form puts its answers; the empty state goes.
    said = f"Sent to {ticket.assigned_to or 'any worker'}: it is queued."
    html = render_html("fragments/ticket/sent.html", m=sent)
    html += render_html("fragments/ticket/no_comments.html", oob_delete=True) + spoken_note("ticket-note", said)
    return Response(html, status_code=201, media_type=MediaType.HTML, headers={"Vary": "HX-Request"})


@post("/queue/{message_id:int}/requeue")
async def requeue_message(request: Request[Any, Any, Any], message_id: MessageId) -> Redirect:
    """A person sends a dead or expired message again (from the Overview's "Needs you")."""
    if not await queue.requeue(app_state(request).db, message_id):
        raise HTTPException(status_code=409, detail="This message is not dead or expired: there is nothing to requeue.")
    return Redirect(path="/#needs-you", status_code=303)


@post("/queue/{message_id:int}/dismiss")
async def dismiss_message(request: Request[Any, Any, Any], message_id: MessageId) -> Redirect:
    """A person lets a dead or expired message go from "Needs you" (it is kept)."""
    if not await queue.dismiss(app_state(request).db, message_id):
        raise HTTPException(status_code=409, detail="This message is not waiting on you: it was requeued or dismissed.")
    return Redirect(path="/#needs-you", status_code=303)


ROUTES = [
    claim_message,
    ack_message,
    fail_message,
    list_messages,
    enqueue_message,
    send_to_worker,
    requeue_message,
    dismiss_message,
]

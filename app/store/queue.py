"""The worker queue: enqueue, claim with a lease, ack, fail with backoff, and the reaper's sweeps."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import msgspec

from app.clock import stamp, utcnow
from app.db import Database
from app.store import queries, run_once, to_struct, to_structs

STATUSES = ("queued", "leased", "done", "failed", "expired", "dead")
BACKOFF_BASE_S = 30  # the first retry waits this long; each further one twice as long …
BACKOFF_CAP_S = 15 * 60  # … up to this, so a retry never waits longer than the stuck threshold's default


class QueueConflict(Exception):
    """The message is not in a state that allows the change; the message says why (an HTTP 409)."""


class QueueItem(msgspec.Struct, frozen=True):
    """One queued message as the API and the ticket page show it."""

    id: int
    ticket: str | None
    worker: str | None
    body: str
    status: str
    attempts: int
    lease_owner: str | None
    lease_expires_at: str | None
    next_attempt_at: str | None
    last_error: str | None
    alerted_at: str | None
    created_at: str
    updated_at: str


class Claimed(msgspec.Struct, frozen=True):
    """A message a worker now holds until `lease_expires_at`."""

    id: int
    ticket: str | None
    body: str
    attempts: int
    lease_expires_at: str


class Change(msgspec.Struct, frozen=True):
    """A message the reaper moved, and the status it moved to."""

    id: int
    status: str


class Sweep(msgspec.Struct, frozen=True):
    """What one reaper sweep changed."""

    leases: list[Change]
    retries: list[Change]
    stuck: list[Change]


class Alert(msgspec.Struct, frozen=True):
    """An expired or dead message to tell a person about."""

    id: int
    ticket: str | None
    worker: str | None
    body: str
    status: str
    attempts: int
    last_error: str | None


def backoff_seconds(attempts: int) -> int:
    """How long to wait before the next try after `attempts` failures: 30 s, 60 s, 120 s … capped."""
    return int(min(BACKOFF_BASE_S * 2 ** max(attempts - 1, 0), BACKOFF_CAP_S))


async def enqueue(
    db: Database, ticket_id: int | None, worker: str | None, body: str, now: datetime | None = None
) -> int:
    """Queue a message for `worker` (None: any worker); return its id."""
    async with db.write() as conn:
        stamped = stamp(now)
        return int(await queries.queue_enqueue(conn, ticket_id=ticket_id, worker=worker, body=body, now=stamped))


async def claim(db: Database, worker: str, lease_seconds: int, now: datetime | None = None) -> Claimed | None:
    """Lease the oldest message `worker` may take, or None when there is none."""
    moment = now or utcnow()
    until = stamp(moment + timedelta(seconds=lease_seconds))
    async with db.write() as conn:
        row = await queries.queue_claim(conn, worker=worker, now=stamp(moment), lease_until=until)
    return to_struct(Claimed, row)


async def get_message(db: Database, message_id: int) -> QueueItem | None:
    """One message, or None."""
    async with db.read() as conn:
        return to_struct(QueueItem, await queries.queue_get(conn, id=message_id))


async def list_messages(db: Database, status: str | None, limit: int) -> list[QueueItem]:
    """The newest messages, of one status or all."""
    async with db.read() as conn:
        return await to_structs(QueueItem, queries.queue_list(conn, status=status, limit=limit))


async def list_for_ticket(db: Database, ticket_id: int, limit: int) -> tuple[list[QueueItem], int]:
    """A ticket's newest messages and how many it has in all."""
    async with db.read() as conn:
        items = await to_structs(QueueItem, queries.queue_list_for_ticket(conn, ticket_id=ticket_id, limit=limit))
        total = int(await queries.queue_count_for_ticket(conn, ticket_id=ticket_id))
    return items, total


async def _held(conn: Any, message_id: int, worker: str, now: str, action: str) -> QueueItem | None:
    """The message if `worker` holds a current lease on it (None if there is no such message); else QueueConflict."""
    item = to_struct(QueueItem, await queries.queue_get(conn, id=message_id))
    if item is None:
        return None
    if item.status != "leased":
        raise QueueConflict(f"Message {message_id} is {item.status}, not leased: there is nothing to {action}.")
    if item.lease_owner != worker:
        raise QueueConflict(f"Message {message_id} is leased by {item.lease_owner}, not {worker}.")
    if item.lease_expires_at is not None and item.lease_expires_at <= now:
        raise QueueConflict(
            f"The lease of {worker} on message {message_id} ran out at {item.lease_expires_at};"
            " it will be offered again."
        )
    return item


async def ack(db: Database, message_id: int, worker: str, now: datetime | None = None) -> QueueItem | None:
    """Mark a message done; only its lease owner may, while the lease lasts (else QueueConflict)."""
    stamped = stamp(now)
    # Check and change inside one write transaction, so the lease cannot run out or move in between.
    async with db.write() as conn:
        if await _held(conn, message_id, worker, stamped, "acknowledge") is None:
            return None
        await queries.queue_mark_done(conn, id=message_id, worker=worker, now=stamped)
    return await get_message(db, message_id)


async def fail(
    db: Database, message_id: int, worker: str, error: str, max_attempts: int, now: datetime | None = None
) -> QueueItem | None:
    """Record a failed attempt: retried after a backoff, or dead once it reaches `max_attempts`."""
    moment = now or utcnow()
    stamped = stamp(moment)
    async with db.write() as conn:
        item = await _held(conn, message_id, worker, stamped, "fail")
        if item is None:
            return None
        attempts = item.attempts + 1
        dead = attempts >= max_attempts
        retry_at = None if dead else stamp(moment + timedelta(seconds=backoff_seconds(attempts)))
        await queries.queue_mark_failed(
            conn, id=message_id, worker=worker, status="dead" if dead else "failed",
            attempts=attempts, next_attempt_at=retry_at, error=error, now=stamped,
        )  # fmt: skip
    return await get_message(db, message_id)


async def sweep(db: Database, max_attempts: int, stuck_minutes: int, now: datetime | None = None) -> Sweep:
    """The reaper's state changes, in one transaction: run-out leases, due retries, then stuck messages."""
    moment = now or utcnow()
    stamped, stuck_before = stamp(moment), stamp(moment - timedelta(minutes=stuck_minutes))
    async with db.write() as conn:
        leases = await to_structs(
            Change, queries.queue_return_expired_leases(conn, now=stamped, max_attempts=max_attempts)
        )
        retries = await to_structs(Change, queries.queue_retry_failed(conn, now=stamped, max_attempts=max_attempts))
        stuck = await to_structs(Change, queries.queue_expire_stuck(conn, now=stamped, stuck_before=stuck_before))
    return Sweep(leases, retries, stuck)


async def claim_alerts(db: Database, limit: int, now: datetime | None = None) -> tuple[str, list[Alert]]:
    """Mark up to `limit` expired or dead messages as alerted; return the mark and them, to send."""
    stamped = stamp(now)
    async with db.write() as conn:
        alerts = await to_structs(Alert, queries.queue_claim_alerts(conn, now=stamped, limit=limit))
    return stamped, sorted(alerts, key=lambda a: a.id)


async def release_alerts(db: Database, ids: list[int], claimed_at: str) -> None:
    """Unmark alerts that were not sent, so the next pass sends them."""
    if not ids:
        return
    async with db.write() as conn:
        for message_id in ids:
            await queries.queue_release_alert(conn, id=message_id, claimed_at=claimed_at)


async def requeue(db: Database, message_id: int) -> bool:
    """Put a dead or expired message back in the queue (attempts from zero); False when it is neither."""
    async with db.write() as conn:
        return bool(await run_once(conn, queries.queue_requeue, id=message_id, now=stamp()))


async def dismiss(db: Database, message_id: int) -> bool:
    """Let a dead or expired message go from "Needs you" (it is kept); False when it is neither, or gone already."""
    async with db.write() as conn:
        return bool(await run_once(conn, queries.queue_dismiss, id=message_id, now=stamp()))

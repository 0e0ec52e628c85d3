"""`mc emit TICKET < events.jsonl`: post an agent's stream-json output to a ticket as it is produced.

Lines are sent in batches (up to BATCH lines, or whatever arrived within FLUSH_S), each batch under an
Idempotency-Key made from its content and its place in the input, so a batch retried after a timeout or a
dropped connection is stored once: the server answers a repeat with the seqs it gave the first time.
"""

from __future__ import annotations

import hashlib
import json
import select
import sys
import time
from collections.abc import Iterator
from typing import IO, Any

import httpx

BATCH = 100
FLUSH_S = 0.2
RETRIES = 6


class EmitError(Exception):
    """Posting failed for good; the message says why."""


def to_event(line: str, default_type: str | None) -> dict[str, Any] | None:
    """A line as an event: a JSON object as it is (given --type, or "text", when it has no type); other text
    wrapped as {"type", "text"}. One odd line must not stop an agent's whole stream from arriving."""
    text = line.rstrip("\r\n")
    if not text.strip():
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        value = None
    if isinstance(value, dict):
        if "type" not in value:
            value["type"] = default_type or "text"
        return value
    return {"type": default_type or "text", "text": text}


def batches(stream: IO[str], default_type: str | None) -> Iterator[list[dict[str, Any]]]:
    """Events in batches: a batch goes when it is full, when input pauses for FLUSH_S, or at the end."""
    batch: list[dict[str, Any]] = []
    while True:
        ready = True
        if batch and stream is sys.stdin:
            ready = bool(select.select([stream], [], [], FLUSH_S)[0])
        if not ready:
            yield batch
            batch = []
            continue
        line = stream.readline()
        if not line:
            break
        event = to_event(line, default_type)
        if event is not None:
            batch.append(event)
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def batch_key(ticket: str, number: int, events: list[dict[str, Any]]) -> str:
    """The same batch at the same place in the input always gets the same key."""
    digest = hashlib.sha256(json.dumps([ticket, number, events], sort_keys=True).encode()).hexdigest()
    return f"emit-{digest[:40]}"


def post_batch(client: httpx.Client, url: str, key: str, events: list[dict[str, Any]]) -> list[int]:
    """POST one batch, retrying network errors and 5xx with backoff (safe: the key makes repeats no-ops)."""
    delay = 0.25
    for attempt in range(RETRIES):
        try:
            response = client.post(url, json={"events": events}, headers={"Idempotency-Key": key})
        except httpx.TransportError as exc:
            problem = f"{type(exc).__name__}: {exc}"
        else:
            if response.status_code in (200, 201):
                return list(response.json()["seqs"])
            if response.status_code < 500 and response.status_code != 429:
                detail = response.json().get("detail", response.text) if response.content else response.reason_phrase
                raise EmitError(f"the server refused the events ({response.status_code}): {detail}")
            problem = f"HTTP {response.status_code}"
        if attempt < RETRIES - 1:
            time.sleep(delay)
            delay = min(delay * 2, 5.0)
    raise EmitError(f"gave up after {RETRIES} tries: {problem}")


def emit(base_url: str, token: str, ticket: str, stream: IO[str], default_type: str | None) -> tuple[int, int, int]:
    """Send everything on `stream`; return (events, first seq, last seq)."""
    url = f"{base_url.rstrip('/')}/api/v1/tickets/{ticket}/events"
    sent, first, last = 0, 0, 0
    with httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
        for number, events in enumerate(batches(stream, default_type)):
            seqs = post_batch(client, url, batch_key(ticket, number, events), events)
            sent += len(events)
            first = first or seqs[0]
            last = seqs[-1]
    return sent, first, last

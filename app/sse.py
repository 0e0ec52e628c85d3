"""Server-sent events: the framing, and the two frames a worker event goes out as (the activity row on its
ticket's stream, the line on its log tail). Replay and live delivery both call these, so a reconnecting
browser gets the very bytes a live one got."""

from __future__ import annotations

from app.event_summary import EventRow, summarise, tail_line
from app.store.events import WorkerEvent
from app.templates import render_html

HEARTBEAT = b": keep-alive\n\n"
UNORDERED = -1  # a frame that is not one of the ticket's numbered events (never skipped as already sent)


def sse_frame(event: str, data: str, event_id: int | None = None) -> bytes:
    """One SSE message. Every line of `data` gets its own `data:` field, and a lone CR counts as a line end,
    so agent text holding blank lines, "data:" or CRs still arrives as one event with its text intact."""
    lines = data.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    head = f"id: {event_id}\n" if event_id is not None else ""
    return (head + f"event: {event}\n" + "".join(f"data: {line}\n" for line in lines) + "\n").encode()


def activity_frame(row: EventRow) -> bytes:
    """The event as its activity row (`event: ticket_event`, the seq as its id)."""
    return sse_frame("ticket_event", str(render_html("fragments/ticket/event.html", event=row)), row.seq)


def tail_frame(row: EventRow) -> bytes:
    """The event as a line of the log tail (`event: line`)."""
    return sse_frame("line", tail_line(row), row.seq)


def event_frames(event: WorkerEvent) -> tuple[bytes, bytes]:
    """Both frames, summarised once: what the broker puts on a ticket's stream and its tail."""
    row = summarise(event)
    return activity_frame(row), tail_frame(row)

"""Server-sent events: the framing, and a worker event as a line of its ticket's log tail. (On its ticket's
stream an event goes out as a change to its run: app/run_frames.py.) Replay and live delivery both call
these, so a reconnecting browser gets the very bytes a live one got."""

from __future__ import annotations

HEARTBEAT = b": keep-alive\n\n"
UNORDERED = -1  # a frame that is not one of the ticket's numbered events (never skipped as already sent)


def sse_frame(event: str, data: str, event_id: int | None = None) -> bytes:
    """One SSE message. Every line of `data` gets its own `data:` field, and a lone CR counts as a line end,
    so agent text holding blank lines, "data:" or CRs still arrives as one event with its text intact."""
    lines = data.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    head = f"id: {event_id}\n" if event_id is not None else ""
    return (head + f"event: {event}\n" + "".join(f"data: {line}\n" for line in lines) + "\n").encode()


def tail_frame(line: str, seq: int) -> bytes:
    """An event as a line of the log tail (`event: line`, the seq as its id)."""
    return sse_frame("line", line, seq)


def read_sse_frame(frame: bytes) -> tuple[str, int | None, str]:
    """One message made by sse_frame back as (event, id, data): for a WebSocket that forwards a stream's frames."""
    event, event_id, data = "message", None, []
    for line in frame.decode().split("\n"):
        name, _, value = line.partition(": ")
        if name == "data":
            data.append(value)
        elif name == "event":
            event = value
        elif name == "id" and value.isdigit():
            event_id = int(value)
    return event, event_id, "\n".join(data)

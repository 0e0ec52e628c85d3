"""One event of a run in full: what the run view cut short (a long output, a long answer, a large input)."""

from __future__ import annotations

import json
from typing import Any

import msgspec
from litestar import Request, Response, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

from app import markdown
from app.event_summary import result_text
from app.htmx import render
from app.lookup import find_ticket
from app.params import Seq
from app.state import app_state
from app.store import events as event_store
from app.store import sessions
from app.store.events import WorkerEvent


class Part(msgspec.Struct, frozen=True):
    """One block of an event, whole: `shape` says how it reads (markdown, text or json)."""

    label: str
    shape: str
    text: str


class EventPage(msgspec.Struct, frozen=True):
    """Context of one event in full."""

    title: str
    identifier: str
    seq: int
    ts: str
    event_type: str
    parts: list[Part]
    back_url: str = ""  # where it is in its run
    back_label: str = ""


def parts_of(payload: Any) -> list[Part]:
    """An event's blocks, whole: text as markdown, tool results as text, tool inputs and the rest as JSON."""
    message = payload.get("message") if isinstance(payload, dict) else None
    content = message.get("content") if isinstance(message, dict) else None
    if isinstance(content, str):
        content = [{"type": "text", "text": content}]
    if not isinstance(content, list):
        if isinstance(payload, dict) and isinstance(payload.get("result"), str):
            return [Part("Result", "markdown", payload["result"])]
        return [Part("Event", "json", json.dumps(payload, ensure_ascii=False, indent=2))]
    parts = []
    for block in content:
        if not isinstance(block, dict):
            continue
        kind = block.get("type")
        if kind == "text":
            parts.append(Part("Text", "markdown", str(block.get("text", ""))))
        elif kind == "thinking":
            parts.append(Part("Thinking", "text", str(block.get("thinking", ""))))
        elif kind == "tool_use":
            text = json.dumps(block.get("input"), ensure_ascii=False, indent=2)
            parts.append(Part(f"{block.get('name') or 'Tool'} input", "json", text))
        elif kind == "tool_result":
            label = "Error" if block.get("is_error") else "Output"
            parts.append(Part(label, "text", result_text(block.get("content"))))
        else:
            parts.append(Part(str(kind or "Block"), "json", json.dumps(block, ensure_ascii=False, indent=2)))
    return parts


async def whole_parts(event: WorkerEvent) -> list[Part]:
    """An event's (or a transcript line's) blocks whole, their markdown rendered."""
    try:
        payload = json.loads(event.payload_json)
    except (ValueError, RecursionError):
        payload = event.payload_json
    parts = parts_of(payload)
    await markdown.prepare([p.text for p in parts if p.shape == "markdown"])
    return parts


@get("/ticket/{identifier:str}/events/{seq:int}", cache=False)
async def event_page(request: Request[Any, Any, Any], identifier: FromPath[str], seq: FromPath[Seq]) -> Response[str]:
    """Event `seq` of the ticket, every block of it whole (a page, or the fragment for an in-place expand)."""
    ticket = await find_ticket(request, identifier)
    found = await event_store.events_between(app_state(request).db, ticket.id, seq, seq)
    if not found:
        raise NotFoundException(f"{ticket.identifier} has no event #{seq}.")
    event = found[0]
    parts = await whole_parts(event)
    ctx = EventPage(f"{ticket.identifier} event #{seq}", ticket.identifier, seq, event.ts, event.event_type, parts)
    return render(request, "templates/page.html", "fragments/run/event.html", ctx)


@get("/sessions/{session_id:str}/lines/{seq:int}", cache=False)
async def line_page(request: Request[Any, Any, Any], session_id: FromPath[str], seq: FromPath[Seq]) -> Response[str]:
    """Line `seq` of a session's transcript, every block of it whole."""
    line = await sessions.line(app_state(request).db, session_id, seq)
    if line is None:
        raise NotFoundException(f"Session {session_id!r} has no line #{seq}.")
    parts = await whole_parts(line)
    back = f"/sessions/{session_id}?after={max(0, seq - 1)}#ev-{seq}"
    title = f"Session {session_id[:8]} line #{seq}"
    ctx = EventPage(title, "", seq, line.ts, line.event_type, parts, back, "Transcript")
    return render(request, "templates/page.html", "fragments/run/event.html", ctx)


ROUTES = [event_page, line_page]

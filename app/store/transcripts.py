"""What workers said and did on a ticket: its messages, and its stream-json events as one-line summaries."""

from __future__ import annotations

import json
import re
from typing import Any

import msgspec

from app.db import Database
from app.store import queries, to_structs

# How much of a text a one-line summary keeps.
SUMMARY_CHARS = 200
# Input fields that say what a tool call does, most telling first (Claude Code's tools use these names).
_INPUT_KEYS = ("command", "file_path", "path", "url", "query", "description", "prompt", "skill")
_SPACE = re.compile(r"\s+")


class Message(msgspec.Struct, frozen=True):
    """One line of a worker's transcript; `summary` is its first line, for a folded tool call or thought."""

    id: int
    kind: str
    tool_name: str | None
    content: str
    created_at: str
    summary: str


class Event(msgspec.Struct, frozen=True):
    """One stream-json event as the activity panel shows it; `tone` picks its style."""

    seq: int
    event_type: str
    ts: str
    summary: str
    tone: str


class Page(msgspec.Struct, frozen=True):
    """The newest rows of a long list, and how many there are in all."""

    total: int
    showing_all: bool


class _MessageRow(msgspec.Struct, frozen=True):
    id: int
    kind: str
    tool_name: str | None
    content: str
    created_at: str


class _EventRow(msgspec.Struct, frozen=True):
    seq: int
    event_type: str
    payload_json: str
    ts: str


def one_line(text: str, limit: int = SUMMARY_CHARS) -> str:
    """`text` on one line (whitespace collapsed), cut to `limit` characters with an ellipsis."""
    flat = _SPACE.sub(" ", text).strip()
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def first_line(text: str, limit: int = SUMMARY_CHARS) -> str:
    """The first non-blank line of `text`, cut to `limit`."""
    for line in text.splitlines():
        if line.strip():
            return one_line(line, limit)
    return ""


async def list_messages(db: Database, ticket_id: int, limit: int | None) -> tuple[list[Message], Page]:
    """The newest `limit` messages (None: all), oldest first, and how many there are."""
    async with db.read() as conn:
        rows = await to_structs(
            _MessageRow,
            queries.transcript_newest_messages(conn, ticket_id=ticket_id, limit=-1 if limit is None else limit),
        )
        total = await queries.transcript_count_messages(conn, ticket_id=ticket_id)
    messages = [Message(**msgspec.structs.asdict(r), summary=first_line(r.content, 160)) for r in rows]
    return messages, Page(total=total, showing_all=len(messages) >= total)


async def list_events(db: Database, ticket_id: int, limit: int | None) -> tuple[list[Event], Page]:
    """The newest `limit` events (None: all) in seq order, summarised, and how many there are."""
    async with db.read() as conn:
        rows = await to_structs(
            _EventRow, queries.transcript_newest_events(conn, ticket_id=ticket_id, limit=-1 if limit is None else limit)
        )
        total = await queries.transcript_count_events(conn, ticket_id=ticket_id)
    events = [summarise_event(r.seq, r.event_type, r.payload_json, r.ts) for r in rows]
    return events, Page(total=total, showing_all=len(events) >= total)


def summarise_event(seq: int, event_type: str, payload_json: str, ts: str) -> Event:
    """An event as a row: its payload (untrusted agent output) reduced to one line of plain text."""
    try:
        payload = json.loads(payload_json)
    except ValueError:
        return Event(seq, event_type, ts, "(unreadable payload)", "error")
    except RecursionError:  # stored before ingest refused deep nesting: show the row, never break the page
        return Event(seq, event_type, ts, "(payload nested too deeply to show)", "error")
    if not isinstance(payload, dict):
        return Event(seq, event_type, ts, one_line(str(payload)), "system")
    summary, tone = summarise_payload(payload)
    return Event(seq, event_type, ts, summary or event_type, tone)


def summarise_payload(payload: dict[str, Any]) -> tuple[str, str]:
    """(one-line summary, tone) of a Claude Code stream-json payload."""
    kind = payload.get("type")
    if kind == "result":
        return _summarise_result(payload)
    if kind == "system":
        extra = payload.get("model") or payload.get("message") or ""
        return one_line(" · ".join(str(p) for p in (payload.get("subtype") or "system", extra) if p)), "system"
    message = payload.get("message")
    content = message.get("content") if isinstance(message, dict) else None
    if isinstance(content, str):
        return one_line(content), "text" if kind == "assistant" else "user"
    if isinstance(content, list):
        voice = "text" if kind == "assistant" else "user"
        parts = [_summarise_block(block, voice) for block in content if isinstance(block, dict)]
        tones = [tone for _, tone in parts]
        tone = "error" if "error" in tones else "tool" if "tool" in tones else tones[0] if tones else "system"
        return one_line(" · ".join(text for text, _ in parts if text)), tone
    return one_line(str(payload.get("subtype") or kind or "")), "system"


def _summarise_result(payload: dict[str, Any]) -> tuple[str, str]:
    """A run's closing event: outcome, turns, cost, and the first line of its answer."""
    bits = [str(payload.get("subtype") or "result")]
    if isinstance(payload.get("num_turns"), int):
        bits.append(f"{payload['num_turns']} turns")
    if isinstance(payload.get("duration_ms"), int | float):
        bits.append(f"{payload['duration_ms'] / 1000:.0f} s")
    if isinstance(payload.get("total_cost_usd"), int | float):
        bits.append(f"${payload['total_cost_usd']:.2f}")
    if isinstance(payload.get("result"), str) and payload["result"].strip():
        bits.append(first_line(payload["result"]))
    return one_line(" · ".join(bits)), "error" if payload.get("is_error") else "result"


def _summarise_block(block: dict[str, Any], voice: str) -> tuple[str, str]:
    """One content block of a message (`voice`: text for the agent, user for a prompt): text, a thought,
    a tool call or a tool's result."""
    kind = block.get("type")
    if kind == "text":
        return one_line(str(block.get("text", ""))), voice
    if kind == "thinking":
        return "thinking: " + one_line(str(block.get("thinking", "")), 120), "thinking"
    if kind == "tool_use":
        return f"{block.get('name') or 'tool'}: {_summarise_input(block.get('input'))}".rstrip(": "), "tool"
    if kind == "tool_result":
        text = _result_text(block.get("content"))
        line = first_line(text) or "(no output)"
        return ("error: " + line, "error") if block.get("is_error") else (line, "output")
    return one_line(str(kind or "")), "system"


def _summarise_input(tool_input: Any) -> str:
    """What a tool call was asked to do, in one line: its most telling field, else its input as JSON."""
    if not isinstance(tool_input, dict):
        return one_line(str(tool_input or ""), 120)
    pattern, where = tool_input.get("pattern"), tool_input.get("path")
    if isinstance(pattern, str) and pattern:
        return first_line(f"{pattern} in {where}" if isinstance(where, str) and where else pattern, 120)
    for key in _INPUT_KEYS:
        value = tool_input.get(key)
        if isinstance(value, str) and value.strip():
            return first_line(value, 120)
    return one_line(json.dumps(tool_input, ensure_ascii=False), 120)


def _result_text(content: Any) -> str:
    """A tool result's text: a string, or the text blocks of a list."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(str(b.get("text", "")) for b in content if isinstance(b, dict) and b.get("type") == "text")
    return ""

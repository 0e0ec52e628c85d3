"""A worker's stream-json event as people read it: one line of plain text and a tone (tool call, output,
error, ...) for the activity row, and the same as a line of the log tail. Pure formatting of stored events;
the page, the replay and the live stream all call it."""

from __future__ import annotations

import json
from typing import Any

import msgspec

from app.store.events import WorkerEvent
from app.text import first_line, one_line

# Input fields that say what a tool call does, most telling first (Claude Code's tools use these names).
_INPUT_KEYS = ("command", "file_path", "path", "url", "query", "description", "prompt", "skill")


class EventRow(msgspec.Struct, frozen=True):
    """One stream-json event as the activity panel shows it; `tone` picks its style."""

    seq: int
    event_type: str
    ts: str
    summary: str
    tone: str


def tail_line(row: EventRow) -> str:
    """The event as one line of the log tail."""
    return f"#{row.seq} {row.ts[11:19]} {row.event_type}: {row.summary}"


def summarise(event: WorkerEvent) -> EventRow:
    """An event as a row: its payload (untrusted agent output) reduced to one line of plain text."""
    seq, event_type, ts = event.seq, event.event_type, event.ts
    try:
        payload = json.loads(event.payload_json)
    except ValueError:
        return EventRow(seq, event_type, ts, "(unreadable payload)", "error")
    except RecursionError:  # stored before ingest refused deep nesting: show the row, never break the page
        return EventRow(seq, event_type, ts, "(payload nested too deeply to show)", "error")
    if not isinstance(payload, dict):
        return EventRow(seq, event_type, ts, one_line(str(payload)), "system")
    summary, tone = summarise_payload(payload)
    return EventRow(seq, event_type, ts, summary or event_type, tone)


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
        return f"{block.get('name') or 'tool'}: {summarise_input(block.get('input'))}".rstrip(": "), "tool"
    if kind == "tool_result":
        text = result_text(block.get("content"))
        line = first_line(text) or "(no output)"
        return ("error: " + line, "error") if block.get("is_error") else (line, "output")
    return one_line(str(kind or "")), "system"


def summarise_input(tool_input: Any) -> str:
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


def result_text(content: Any) -> str:
    """A tool result's text: a string, or the text blocks of a list (images and others named)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for block in content:
            if isinstance(block, dict):
                kind = block.get("type")
                parts.append(str(block.get("text", "")) if kind == "text" else f"[{kind or 'block'}]")
        return "\n".join(parts)
    return "" if content is None else json.dumps(content, ensure_ascii=False)

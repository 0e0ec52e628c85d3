"""An agent's transcript as Claude Code writes it (`~/.claude/projects/<project>/<session>.jsonl`): one JSON
object a line, each with `type`, `uuid`, `parentUuid`, `sessionId`, `timestamp`, `cwd` and, for `user` and
`assistant` lines, a `message` whose content is text or blocks (text, thinking, tool_use, tool_result).

A line is kept whole (the run view folds it as it folds a ticket's stream-json event: the shapes are the same)
and its messages are pulled out for search: what the person said, what the agent said, each tool call (its name
and input) and each tool result. Thinking is kept but not indexed (it is long and rarely what one searches for).
`summary` lines name their session; bookkeeping lines (file-history snapshots) are skipped."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

import msgspec

from app.clock import stamp

SKIPPED_TYPES = frozenset({"file-history-snapshot"})
TOOL_INPUT_CHARS = 2_000  # of a tool call's input, indexed
RESULT_CHARS = 8_000  # of a tool result, indexed
TEXT_CHARS = 32_000  # of one said text, indexed


class Malformed(ValueError):
    """A line that is not a transcript line: counted and reported, never fatal."""


# gc=False: neither can be part of a reference cycle, and an import holds tens of thousands of them; tracked, the
# garbage collector's full passes over them took a tenth of an import's time.
class Message(msgspec.Struct, frozen=True, gc=False):
    """One searchable message of a line."""

    role: str  # user, assistant or tool
    kind: str  # user, assistant, tool_use or tool_result
    content: str
    tool: str | None = None


class Line(msgspec.Struct, frozen=True, gc=False):
    """One transcript line: whose session, its id and time, the JSON as written, and its messages."""

    session_id: str
    uuid: str
    event_type: str
    payload_json: str
    ts: str
    cwd: str = ""
    model: str = ""
    summary: str = ""  # a `summary` line's: the session's title
    messages: tuple[Message, ...] = ()


_line = msgspec.json.Decoder(dict[str, Any])


def parse_line(raw: bytes | str, fallback_session: str = "") -> Line | None:
    """A line of a transcript (None: a line to skip); Malformed if it is not one."""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    text = text.strip()
    if not text:
        return None
    try:
        data = _line.decode(text)
    except (msgspec.DecodeError, RecursionError):
        raise Malformed("not a JSON object") from None
    kind = data.get("type")
    if not isinstance(kind, str) or not kind:
        raise Malformed('no "type"')
    if kind in SKIPPED_TYPES:
        return None
    session = data.get("sessionId") or data.get("session_id") or fallback_session
    if not isinstance(session, str) or not session:
        raise Malformed('no "sessionId"')
    uuid = data.get("uuid")
    message = data.get("message")
    model = message.get("model", "") if isinstance(message, dict) and kind == "assistant" else ""
    return Line(
        session_id=session[:200],
        # A line without an id of its own (a summary) is known by its content: importing it again adds nothing.
        uuid=uuid[:200]
        if isinstance(uuid, str) and uuid
        else "sha256:" + hashlib.sha256(text.encode()).hexdigest()[:40],
        event_type=kind[:100],
        payload_json=text,
        ts=_timestamp(data.get("timestamp")),
        cwd=str(data.get("cwd") or ""),
        model=str(model or ""),
        summary=str(data.get("summary") or "") if kind == "summary" else "",
        messages=tuple(messages_of(kind, message)) if not data.get("isMeta") else (),
    )


_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")


def _timestamp(value: Any) -> str:
    """The line's time in the database's format ("" when it has none: a summary line; see with_times)."""
    if isinstance(value, str) and _TIME.match(value):
        return value[:19] + "." + (value[20:23] if value[19:20] == "." else "000").ljust(3, "0") + "Z"
    return ""


def with_times(lines: list[Line]) -> list[Line]:
    """Lines without a time of their own take the time of the line before them (or, first in the file, of the
    first line that has one; now when none has)."""
    known = next((line.ts for line in lines if line.ts), "") or stamp()
    timed = []
    for line in lines:
        known = line.ts or known
        timed.append(line if line.ts else msgspec.structs.replace(line, ts=known))
    return timed


def messages_of(kind: str, message: Any) -> list[Message]:
    """The searchable messages of a `user` or `assistant` line's message."""
    if kind not in ("user", "assistant") or not isinstance(message, dict):
        return []
    content = message.get("content")
    if isinstance(content, str):
        return [Message(kind, kind, content[:TEXT_CHARS])] if content.strip() else []
    if not isinstance(content, list):
        return []
    found = []
    for block in content:
        if not isinstance(block, dict):
            continue
        block_type = block.get("type")
        if block_type == "text" and str(block.get("text", "")).strip():
            found.append(Message(kind, kind, str(block["text"])[:TEXT_CHARS]))
        elif block_type == "tool_use":
            name = str(block.get("name") or "tool")[:100]
            found.append(Message("assistant", "tool_use", f"{name} {_compact(block.get('input'))}", name))
        elif block_type == "tool_result":
            text = result_text(block.get("content"))
            if text.strip():
                found.append(Message("tool", "tool_result", text[:RESULT_CHARS]))
    return found


def result_text(content: Any) -> str:
    """A tool result's text (its content is a string, or text blocks)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(str(b.get("text", "")) for b in content if isinstance(b, dict) and b.get("type") == "text")
    return ""


def _compact(value: Any) -> str:
    if isinstance(value, dict):
        text = " ".join(f"{k}: {v}" if isinstance(v, str) else f"{k}: {json.dumps(v)}" for k, v in value.items())
    else:
        text = json.dumps(value)
    return text[:TOOL_INPUT_CHARS]


def first_prompt(lines: list[Line]) -> str:
    """What the person asked first in these lines ("" if nothing)."""
    for line in lines:
        for message in line.messages:
            if message.kind == "user":
                return message.content
    return ""

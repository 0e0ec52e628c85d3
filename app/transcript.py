"""An agent's transcript as Claude Code writes it (`~/.claude/projects/<project>/<session>.jsonl`): one JSON
object a line, each with `type`, `uuid`, `parentUuid`, `sessionId`, `timestamp`, `cwd` and, for `user` and
`assistant` lines, a `message` whose content is text or blocks (text, thinking, tool_use, tool_result).

A line is kept whole (the run view folds it as it folds a ticket's stream-json event: the shapes are the same)
and its messages are pulled out for search: what the person said, what the agent said, each tool call (its name
and input) and each tool result. Thinking is kept but not indexed (it is long and rarely what one searches for).
`summary` lines name their session; bookkeeping lines (file-history snapshots) are skipped.

Each text is stored once: a message whose text stands whole in its line as a JSON string is cut out of the line
as stored (`null` in its place, where `cuts` says) and put back when the line is read (`restore`), byte for byte.
A transcript's texts are half its size: stored twice, they made the database 37 % larger (bench/sessions.py: 142 MB
against 104 MB for 55.6 MB of transcripts), and an import is mostly writing."""

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
    # Where payload_json holds `null` for a message's text: (place in payload_json, index in messages).
    cuts: tuple[tuple[int, int], ...] = ()


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
    messages = tuple(messages_of(kind, message)) if not data.get("isMeta") else ()
    payload, cuts = cut_texts(text, messages)
    return Line(
        session_id=session[:200],
        # A line without an id of its own (a summary) is known by its content: importing it again adds nothing.
        uuid=uuid[:200]
        if isinstance(uuid, str) and uuid
        else "sha256:" + hashlib.sha256(text.encode()).hexdigest()[:40],
        event_type=kind[:100],
        payload_json=payload,
        ts=_timestamp(data.get("timestamp")),
        cwd=str(data.get("cwd") or ""),
        model=str(model or ""),
        summary=str(data.get("summary") or "") if kind == "summary" else "",
        messages=messages,
        cuts=cuts,
    )


CUT_CHARS = 48  # a shorter text is left in its line: what a cut saves would hardly pay for saying where it is
_encode = msgspec.json.Encoder()


def cut_texts(payload: str, messages: tuple[Message, ...]) -> tuple[str, tuple[tuple[int, int], ...]]:
    """The line as stored, and its cuts: each message's text that stands whole in `payload` as the value of a key
    (encoded as `restore` will encode it again) is replaced by `null`. A text not found so (cut short for the index,
    written with other escapes, a tool call's input) stays where it is."""
    parts: list[str] = []
    cuts: list[tuple[int, int]] = []
    start = stored = 0  # where the search goes on in payload, and the length of the stored form so far
    for index, message in enumerate(messages):
        if len(message.content) < CUT_CHARS:
            continue
        encoded = _encode.encode(message.content).decode()
        at = _value_at(payload, encoded, start)
        if at < 0:
            continue
        parts.append(payload[start:at])
        stored += at - start
        cuts.append((stored, index))
        parts.append("null")
        stored += 4
        start = at + len(encoded)
    if not cuts:
        return payload, ()
    parts.append(payload[start:])
    return "".join(parts), tuple(cuts)


def _value_at(payload: str, encoded: str, start: int) -> int:
    """Where `encoded` (a JSON string) is a value in `payload` from `start` on: after a colon (-1: nowhere). Outside a
    string a quote after a colon opens one, and inside one a quote is always escaped, so this is a whole value."""
    at = payload.find(encoded, start)
    while at >= 0:
        before = at - 1
        while before > start and payload[before] in " \t\r\n":
            before -= 1
        if before >= start and payload[before] == ":":
            return at
        at = payload.find(encoded, at + 1)
    return -1


def restore(stored: str, texts: list[tuple[int, str]]) -> str:
    """A line as it was written, from its stored form and its cut texts (place, text)."""
    for at, text in sorted(texts, reverse=True):  # from the end: each cut leaves the places before it as they are
        if stored[at : at + 4] == "null":
            stored = stored[:at] + _encode.encode(text).decode() + stored[at + 4 :]
    return stored


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

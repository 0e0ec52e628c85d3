"""Worker events as they come in: a POST body (one stream-json event or a batch), or a line an agent wrote,
checked and kept as the exact JSON that was sent (only each event's type and uuid are decoded)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar.exceptions import ClientException

from app.ingest import IncomingEvent

MAX_EVENT_BYTES = 256 * 1024  # one event's JSON, as documented for workers
MAX_BATCH = 1000  # events in one POST
MAX_BODY_BYTES = 32 * 1024 * 1024
# Arrays and objects inside one event. Agents' events nest a dozen deep; an event nested ~975 deep was once
# stored and then broke every page that showed its ticket (decoding it ran out of Python's stack).
MAX_DEPTH = 64
_SHAPE = bytes.maketrans(b"[{]}", b"(())")
_NOT_SHAPE = bytes(sorted(set(range(256)) - set(b'[]{}"')))


class _Envelope(msgspec.Struct, gc=False):
    """The top of a POST body: one event (it has a type) or a batch (it has events). Nothing else is read."""

    type: Any = None
    uuid: Any = None
    events: msgspec.Raw = msgspec.Raw()  # empty when absent (msgspec takes no Raw | None)


class _Head(msgspec.Struct, gc=False):
    """What is read of each event: the rest stays as the exact JSON the worker sent."""

    type: Any = None
    uuid: Any = None


class _CheckedHead(msgspec.Struct, gc=False):
    """The same, with the type checked by msgspec as it reads a batch (Python checks only a failed batch)."""

    type: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    uuid: Any = None


_envelope = msgspec.json.Decoder(_Envelope)
_raws = msgspec.json.Decoder(list[msgspec.Raw])
_checked_heads = msgspec.json.Decoder(list[_CheckedHead])
_head = msgspec.json.Decoder(_Head)


def parse_events(body: bytes) -> tuple[list[IncomingEvent], bool]:
    """The events in a POST body (one object, or {"events": [...]}) and whether it was a batch.

    Each event is kept as the bytes it came in (msgspec.Raw): only its type and uuid are decoded, so a
    batch costs a few passes of msgspec over the JSON, not a decode and an encode of every event."""
    try:
        top = _envelope.decode(body)
    except msgspec.ValidationError:
        raise ClientException("an event must be a JSON object.") from None
    except msgspec.DecodeError as exc:
        raise ClientException(f"The body is not valid JSON: {exc}.") from None
    except RecursionError:
        raise ClientException(too_deep(None)) from None
    if top.type is not None or not len(top.events):
        return [check_event(_Head(top.type, top.uuid), body, None)], False
    try:
        items = _raws.decode(top.events)
    except msgspec.ValidationError:
        raise ClientException('"events" must be a non-empty list of event objects.') from None
    if not items:
        raise ClientException('"events" must be a non-empty list of event objects.')
    if len(items) > MAX_BATCH:
        raise ClientException(f"A batch holds at most {MAX_BATCH} events; this one has {len(items)}.")
    try:  # every event's type and uuid in one pass, checked in C; a batch costs ~0.5 µs of Python an event
        heads = _checked_heads.decode(top.events)
        if max(map(len, items)) <= MAX_EVENT_BYTES:
            events = [IncomingEvent(h.type, str(raw, "utf-8"), u if (u := h.uuid) is None or _is_uuid(u) else None)
                      for h, raw in zip(heads, items, strict=True)]  # fmt: skip
            if not any(nests_too_deep(e.payload_json) for e in events):
                return events, True
    except (msgspec.ValidationError, UnicodeDecodeError):
        pass
    # Some event is wrong: check them one by one to say which, and why.
    return [check_event(_head_of(raw, n), raw, n) for n, raw in enumerate(items)], True


def _head_of(raw: msgspec.Raw, index: int) -> _Head:
    try:
        return _head.decode(raw)
    except msgspec.ValidationError:
        raise ClientException(f"{_at(index)}an event must be a JSON object.") from None


def _at(index: int | None) -> str:
    return f"events[{index}]: " if index is not None else ""


def check_event(head: _Head, raw: bytes | msgspec.Raw, index: int | None) -> IncomingEvent:
    """One stream-json event: an object with a string `type`, at most MAX_EVENT_BYTES; its uuid if any."""
    kind, uuid = head.type, head.uuid
    if not isinstance(kind, str) or not 1 <= len(kind) <= 100:
        raise ClientException(f'{_at(index)}an event needs a "type": a string of 1-100 characters.')
    if len(raw) > MAX_EVENT_BYTES:
        raise ClientException(f"{_at(index)}an event can be at most {MAX_EVENT_BYTES // 1024} KB; this one is "
                              f"{len(raw) // 1024} KB.", status_code=413)  # fmt: skip
    try:
        text = str(raw, "utf-8")
    except UnicodeDecodeError:  # msgspec checks only the strings it decodes, not those it skips
        raise ClientException(f"{_at(index)}an event must be UTF-8 JSON.") from None
    if nests_too_deep(text):
        raise ClientException(too_deep(index))
    return IncomingEvent(kind, text, uuid if _is_uuid(uuid) else None)


def too_deep(index: int | None) -> str:
    """The refusal of an event that nests too deeply."""
    return f"{_at(index)}an event may nest arrays and objects at most {MAX_DEPTH} deep."


def nests_too_deep(raw: str | bytes | msgspec.Raw, limit: int = MAX_DEPTH) -> bool:
    """Whether valid JSON `raw` nests arrays and objects deeper than `limit` (strings do not count).

    Done with bytes methods (C loops) only: most events have fewer brackets than `limit` and cost two counts;
    otherwise strings are cut out, brackets kept, and each pass removes the innermost pairs: a `limit`-deep
    text is empty after `limit` passes."""
    if isinstance(raw, str):
        if raw.count("[") + raw.count("{") <= limit:
            return False
        raw = raw.encode()
    data = bytes(raw)
    if data.count(b"[") + data.count(b"{") <= limit:
        return False
    # Escaped backslashes first, then escaped quotes: what is left of the quotes opens and closes strings.
    marks = data.replace(b"\\\\", b"").replace(b'\\"', b"").translate(None, _NOT_SHAPE)
    shape = b"".join(marks.split(b'"')[::2]).translate(_SHAPE)
    for _ in range(limit):
        if not shape:
            return False
        shape = shape.replace(b"()", b"")
    return bool(shape)


def _is_uuid(value: Any) -> bool:
    """An event's uuid is kept when it is a string of 1-200 characters; anything else is ignored."""
    return isinstance(value, str) and 1 <= len(value) <= 200


def event_from_line(line: bytes) -> IncomingEvent:
    """One line an agent wrote on its stdout, as an event: the stream-json object it holds when it holds a good
    one, otherwise the line as text (`{"type": "text"}`, shown as a line of output), so nothing it said is lost
    and nothing it said can break a page."""
    line = line.rstrip(b"\r\n")
    try:
        return check_event(_head.decode(line), line, None)
    except (msgspec.DecodeError, ClientException, RecursionError):
        text = line.decode("utf-8", "replace")
        if len(text) > MAX_TEXT_CHARS:
            text = text[:MAX_TEXT_CHARS] + f"… (cut: the line was {len(line) // 1024} KB)"
        return IncomingEvent("text", msgspec.json.encode({"type": "text", "text": text}).decode())


MAX_TEXT_CHARS = 64 * 1024  # of a line of agent output that is not an event (a stack trace, a progress bar)

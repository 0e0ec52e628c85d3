"""Agent sessions over the API: register one, list them (with their message counts), read a transcript's
messages. (Imports: `mc sessions import`; a worker's events register theirs: app/ingest.py.)"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Annotated, Any
from urllib.parse import urlencode

import msgspec
from litestar import Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, JSONBody, Parameter, URLEncodedBody
from litestar.response import Redirect, Stream
from markupsafe import Markup

from app import markdown
from app.auth import WORKER
from app.clock import stamp, stamp_of
from app.frame import frame_for
from app.htmx import html_response, refuse, render, spoken_note, wants_fragment
from app.lookup import find_target
from app.openapi import refusals
from app.params import STAMP, Seq
from app.run_view import RunFolder, markdown_of, seconds_between
from app.state import app_state
from app.store import links
from app.store import sessions as store
from app.store.events import WorkerEvent
from app.templates import render_html
from app.ticket_sections import can_write

SESSION_ID = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$"
_STAMP = re.compile(STAMP)
DOCS: dict[str, Any] = {"tags": ["Sessions"]}


class SessionIn(msgspec.Struct, frozen=True):
    """A session to register (or more of what is known of one): the agent's own session id."""

    id: Annotated[str, msgspec.Meta(pattern=SESSION_ID, description="The agent's session id")]
    agent: Annotated[str, msgspec.Meta(min_length=1, max_length=100)] = "agent"
    ticket: (
        Annotated[str, msgspec.Meta(min_length=1, max_length=40, description="The ticket it serves: MC-7")] | None
    ) = None
    started_at: Annotated[str, msgspec.Meta(pattern=STAMP, description="UTC: 2026-12-01T09:30:00Z")] | None = None
    cwd: Annotated[str, msgspec.Meta(max_length=4096)] = ""
    model: Annotated[str, msgspec.Meta(max_length=200)] = ""
    title: Annotated[str, msgspec.Meta(max_length=300)] = ""


class SessionList(msgspec.Struct, frozen=True):
    """One page of sessions, newest first; `next_cursor` asks for the next one (null on the last page)."""

    sessions: list[store.Session]
    next_cursor: str | None


CURSOR = r"^s1\.[0-9]{8}T[0-9]{9}Z\.[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$"


def encode_cursor(session: store.Session) -> str:
    """A cursor meaning "sessions that started before this one" (clients pass next_cursor back as it is)."""
    digits = session.started_at.replace("-", "").replace(":", "").replace(".", "")
    return f"s1.{digits}.{session.id}"


def decode_cursor(cursor: str) -> tuple[str, str]:
    """A cursor's (started_at, id) (the route checks its shape)."""
    _, digits, session_id = cursor.split(".", 2)
    d = digits
    return f"{d[0:4]}-{d[4:6]}-{d[6:8]}T{d[9:11]}:{d[11:13]}:{d[13:15]}.{d[15:18]}Z", session_id


@post(
    "/api/v1/sessions",
    opt=WORKER,
    status_code=201,
    responses=refusals({422: "The ticket named in the body does not exist"}),
    **DOCS,
)
async def register_session(request: Request[Any, Any, Any], data: JSONBody[SessionIn]) -> store.Session:
    """Register an agent session, or add to what is known of one (a field already known keeps its value)."""
    mc = app_state(request)
    ticket = await find_target(request, data.ticket)
    row = msgspec.structs.asdict(data) | {"ticket_id": ticket.id if ticket else None}
    row["started_at"] = stamp_of(data.started_at)
    row["last_at"] = row["started_at"]
    await store.register(mc.db, row)
    found = await store.get_session(mc.db, data.id)
    assert found is not None  # just written, by this one writer
    return found


@get("/api/v1/sessions", cache=False, opt=WORKER, **DOCS)
async def list_sessions(
    request: Request[Any, Any, Any],
    agent: Annotated[str | None, Parameter(max_length=100, description="Only this agent's")] = None,
    ticket: Annotated[str | None, Parameter(max_length=40, description="Only those serving this ticket")] = None,
    limit: Annotated[int, Parameter(ge=1, le=200, description="Sessions per page")] = 50,
    cursor: Annotated[str | None, Parameter(pattern=CURSOR, description="next_cursor of the previous page")] = None,
) -> SessionList:
    """Sessions newest first, each with its message count, a page at a time."""
    before = decode_cursor(cursor) if cursor else None
    found = await store.list_sessions(
        app_state(request).db, agent or None, (ticket or "").upper() or None, before, limit + 1
    )
    more = len(found) > limit
    return SessionList(found[:limit], encode_cursor(found[limit - 1]) if more else None)


@get("/api/v1/sessions/{session_id:str}/messages", cache=False, opt=WORKER, **DOCS)
async def session_messages(
    request: Request[Any, Any, Any],
    session_id: FromPath[str],
    after: Seq = 0,
    limit: Annotated[int, Parameter(ge=1, le=1000, description="At most this many")] = 200,
) -> list[store.MessageRow]:
    """A session's messages (user, assistant, tool calls and results) after turn `after`, in order."""
    db = app_state(request).db
    if await store.get_session(db, session_id) is None:
        raise NotFoundException(f"No session {session_id!r}.")
    return await store.messages_after(db, session_id, after, limit)


# --- pages -------------------------------------------------------------------------------------------------

LINES_SHOWN = 300  # a transcript page shows this many lines; longer ones page by keyset (?after=<seq>)


class SessionsPage(msgspec.Struct, frozen=True):
    """Context of /sessions: a page of sessions under the filters, and the way to the next."""

    title: str
    sessions: list[store.Session]
    agents: list[str]
    agent: str
    ticket: str
    next_url: str
    filtered: bool


class SessionHead(msgspec.Struct, frozen=True):
    """Context of a session's head: its title and facts, and whether the ticket form is offered."""

    title: str
    session: store.Session
    can_write: bool
    prefix: str  # this installation's ticket prefix (the form's example)
    lines: int  # of its transcript (none: nothing to download)
    changed: bool = False  # answering the form: focus goes to what it changed (its ticket, or the field again)


class TranscriptPage(msgspec.Struct, frozen=True):
    """Context of /sessions/<id>: the session's head, and a page of its transcript in the run view."""

    title: str
    head: SessionHead
    runs_html: Markup
    first: int
    last: int
    total: int
    earlier_url: str
    later_url: str


@get("/sessions", cache=False)
async def sessions_page(
    request: Request[Any, Any, Any],
    agent: Annotated[str | None, Parameter(max_length=100)] = None,
    ticket: Annotated[str | None, Parameter(max_length=40)] = None,
    cursor: Annotated[str | None, Parameter(pattern=CURSOR)] = None,
) -> Response[str]:
    """Every agent session, newest first, filtered by agent and ticket in the URL, paged by keyset."""
    db = app_state(request).db
    agent, ticket = (agent or "").strip(), (ticket or "").strip().upper()
    found = await store.list_sessions(db, agent or None, ticket or None, decode_cursor(cursor) if cursor else None, 51)
    next_url = ""
    if len(found) > 50:
        query = urlencode(
            {k: v for k, v in (("agent", agent), ("ticket", ticket)) if v} | {"cursor": encode_cursor(found[49])}
        )
        next_url = f"/sessions?{query}"
    ctx = SessionsPage(
        "Sessions", found[:50], await store.agents(db), agent, ticket, next_url, bool(agent or ticket or cursor)
    )
    return render(request, "templates/page.html", "fragments/sessions/list.html", ctx)


@get("/sessions/{session_id:str}", cache=False)
async def transcript_page(request: Request[Any, Any, Any], session_id: FromPath[str], after: Seq = 0) -> Response[str]:
    """A session's transcript in the run view, LINES_SHOWN lines a page (?after=<seq> pages on)."""
    mc = app_state(request)
    session = await store.get_session(mc.db, session_id)
    if session is None:
        raise NotFoundException(f"There is no session {session_id!r}.")
    total = kept = await store.line_count(mc.db, session_id)
    lines = await store.lines_after(mc.db, session_id, after, LINES_SHOWN)
    if not total and session.message_count:  # indexed messages without their lines (older stores): as said
        lines = [as_line(m) for m in await store.messages_after(mc.db, session_id, after, LINES_SHOWN)]
        total = session.message_count
    folder = RunFolder()
    for line in lines:
        if line.event_type != "summary":  # (the page's title)
            folder.add(line)
    runs = folder.runs
    for run in runs:  # a transcript has no `result` lines: it reads finished once quiet (and is shown open)
        idle = seconds_between(run.header.last_ts, stamp())
        if not run.header.finished and (idle is None or idle >= mc.settings.run_stall_s):
            run.header.finished, run.header.state = True, "finished"
    await markdown.prepare([text for run in runs for text in markdown_of(run.items)])
    owner = f"session:{session_id}"
    html = Markup("").join(
        render_html("fragments/run/run.html", header=run.header, items=run.items, identifier=owner, open_runs=True)
        for run in runs
    )
    first, last = (lines[0].seq, lines[-1].seq) if lines else (0, 0)
    base = f"/sessions/{session_id}"
    earlier = f"{base}?after={max(0, first - 1 - LINES_SHOWN)}" if first > 1 else ""
    later = f"{base}?after={last}" if last < total else ""
    head = session_head(request, session, kept)
    ctx = TranscriptPage(head.title, head, html, first, last, total, earlier, later)
    return render(request, "templates/page.html", "fragments/sessions/transcript.html", ctx)


def session_head(
    request: Request[Any, Any, Any], session: store.Session, lines: int, changed: bool = False
) -> SessionHead:
    title = session.title or f"Session {session.id[:8]}"
    return SessionHead(title, session, can_write(request), app_state(request).settings.ticket_prefix, lines, changed)


class TicketForm(msgspec.Struct, frozen=True):
    """The session page's ticket form: the ticket it served, or `unlink`."""

    ticket: str = ""
    unlink: str = ""


# What a refusal to name a ticket is in HTTP (as on the ticket page's link form).
REFUSED_STATUS = {"invalid": 400, "missing": 422}


@post("/sessions/{session_id:str}/ticket", cache=False)
async def link_ticket(
    request: Request[Any, Any, Any], session_id: FromPath[str], data: URLEncodedBody[TicketForm]
) -> Response[Any]:
    """Link a session to the ticket it served, change it, or unlink it, from its page (a session that names none
    in its first prompt or folder stands alone until then)."""
    mc = app_state(request)
    if await store.get_session(mc.db, session_id) is None:
        return refuse(404, f"There is no session {session_id[:200]!r}.")
    ticket = None
    if not data.unlink:
        try:
            ticket = await links.find_ref(mc.db, data.ticket, mc.settings.ticket_prefix)
        except links.Refused as refused:
            return refuse(REFUSED_STATUS.get(refused.kind, 400), refused.message)
    await store.set_ticket(mc.db, session_id, ticket.id if ticket else None)
    if not wants_fragment(request):
        return Redirect(path=f"/sessions/{session_id}", status_code=303)
    session = await store.get_session(mc.db, session_id)
    assert session is not None  # (sessions are never deleted)
    said = (
        f"Linked to {ticket.identifier}: the session is listed on that ticket."
        if ticket
        else "Unlinked: it stands alone."
    )
    ctx = session_head(request, session, await store.line_count(mc.db, session_id), changed=True)
    head = render_html("fragments/sessions/head.html", ctx=ctx, frame=frame_for(request))
    return html_response(head + spoken_note("session-note", said))


DOWNLOAD_PAGE = 1_000  # lines read at a time for a download


@get("/sessions/{session_id:str}/transcript.jsonl", cache=False)
async def download_transcript(request: Request[Any, Any, Any], session_id: FromPath[str]) -> Stream:
    """A session's transcript as its agent wrote it (JSON Lines, each line byte for byte), a page at a time."""
    db = app_state(request).db
    if await store.get_session(db, session_id) is None:
        raise NotFoundException(f"There is no session {session_id[:200]!r}.")
    if not await store.line_count(db, session_id):
        raise NotFoundException("This session's transcript has not been imported: there is nothing to download.")

    async def pages() -> AsyncIterator[bytes]:
        after = 0
        while lines := await store.lines_after(db, session_id, after, DOWNLOAD_PAGE):
            yield "".join(f"{line.payload_json}\n" for line in lines).encode()
            after = lines[-1].seq

    name = re.sub(r"[^A-Za-z0-9._-]", "_", session_id)[:120]
    disposition = f'attachment; filename="{name}.jsonl"'
    return Stream(pages(), media_type="application/x-ndjson", headers={"Content-Disposition": disposition})


def as_line(message: store.MessageRow) -> WorkerEvent:
    """An indexed message as a transcript line (for a session whose lines were never kept)."""
    voice = "user" if message.role == "user" else "assistant"
    payload = {"type": voice, "message": {"role": voice, "content": [{"type": "text", "text": message.content}]}}
    return WorkerEvent(message.turn, 0, message.turn, voice, msgspec.json.encode(payload).decode(), message.ts)


ROUTES = [
    register_session,
    list_sessions,
    session_messages,
    sessions_page,
    transcript_page,
    link_ticket,
    download_transcript,
]

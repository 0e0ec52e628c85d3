"""SSE streams: the global broadcast, one ticket's live events, one ticket's log tail (each a response that
runs the stream itself: app/streams.py)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from litestar import Request, Response, get
from litestar.params import FromPath, HeaderParameter, Parameter

from app.event_summary import summarise, tail_line
from app.live import Topic
from app.lookup import ticket_id_of
from app.params import Seq, parse_seq
from app.state import app_state
from app.store import events as event_store
from app.streams import STREAMS, TAILS_WHEN_FOLLOWING, StreamResponse, open_stream, replay_events

LastEventId = Annotated[
    str | None,
    HeaderParameter(
        name="Last-Event-ID", pattern=r"^[0-9]{1,19}$", description="The last seq received (browsers resend it)"
    ),
]


def resume_after(after: int, last_event_id: str | None) -> int:
    """Where to resume: the Last-Event-ID a reconnecting browser sends, or ?after= from the page."""
    return max(after, 0 if last_event_id is None else parse_seq(last_event_id, "Last-Event-ID"))


@get("/api/v1/stream", cache=False, opt=STREAMS)
async def global_stream(
    request: Request[Any, Any, Any], after: Seq = 0, last_event_id: LastEventId = None
) -> StreamResponse:
    """Board-wide news: ticket created, changed, commented; worker up or down (none older than `after`)."""
    mc = app_state(request)
    return open_stream(mc, "streams", [Topic.GLOBAL], None, resume_after(after, last_event_id))


@get("/api/v1/tickets/{identifier:str}/stream", cache=False, opt=STREAMS)
async def ticket_stream(
    request: Request[Any, Any, Any], identifier: FromPath[str], after: Seq = 0, last_event_id: LastEventId = None
) -> StreamResponse:
    """A ticket's events as rendered activity rows (`event: ticket_event`), plus its changes and comments;
    those after `after` (or Last-Event-ID) are replayed first."""
    mc = app_state(request)
    ticket = await ticket_id_of(mc, identifier)
    start = resume_after(after, last_event_id)
    return open_stream(mc, "streams", [Topic.ticket(ticket)], replay_events(ticket, tail=False), start)


@get("/api/v1/tickets/{identifier:str}/tail", cache=False, opt=TAILS_WHEN_FOLLOWING)
async def ticket_tail(
    request: Request[Any, Any, Any],
    identifier: FromPath[str],
    follow: Annotated[Literal["0", "1", "true", "false"], Parameter(description="1: keep streaming")] = "0",
    lines: Annotated[int, Parameter(ge=1, le=5000, description="How many of the last lines")] = 100,
    after: Seq = 0,
    last_event_id: LastEventId = None,
) -> Response[str] | StreamResponse:
    """The worker's log as text lines: the last `lines` and done, or with ?follow=1 a stream of them (those
    after `after`, or Last-Event-ID, first)."""
    mc = app_state(request)
    ticket = await ticket_id_of(mc, identifier)
    if follow in ("1", "true"):
        start = resume_after(after, last_event_id)
        return open_stream(mc, "tails", [Topic.tail(ticket)], replay_events(ticket, tail=True), start)
    rows = await event_store.last_events(mc.db, ticket, lines)
    text = "".join(one_text_line(tail_line(summarise(event))) + "\n" for event in rows)
    return Response(text, media_type="text/plain; charset=utf-8")


def one_text_line(line: str) -> str:
    """A line that holds line breaks (an event type may) folded onto one: a plain-text tail is one per line."""
    return " / ".join(line.replace("\r\n", "\n").replace("\r", "\n").split("\n"))


ROUTES = [global_stream, ticket_stream, ticket_tail]

"""A ticket's interactive session: start it, talk to it and stop it from the ticket page, over a WebSocket
(`/ws/tickets/<identifier>/session`) or, without JavaScript, with plain forms.

The socket carries the session's bar (how it stands) and the frames of the ticket's stream (the agent's output
in the run view, the person's messages), replayed from the seq the page last showed; the browser sends what the
person says, Start and Stop. Only the configured command ever runs: nothing the browser sends names one.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
from typing import Any
from urllib.parse import urlsplit

import msgspec
from litestar import Request, Response, WebSocket, post, websocket
from litestar.enums import MediaType
from litestar.exceptions import NotFoundException, WebSocketDisconnect
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect

from app.agent_session import SessionError, SessionStatus
from app.composer import CommentForm
from app.htmx import refuse, spoken_note, wants_fragment
from app.live import Topic
from app.lookup import find_ticket, ticket_id_of
from app.sse import HEARTBEAT, read_sse_frame, sse_frame
from app.state import AppState
from app.streams import HUNG_UP, Stream, replay_events
from app.templates import render_html

log = logging.getLogger("mc.session")

HELLO_TIMEOUT_S = 10  # a socket that has not said hello by then is closed
# Close codes (4000-4999 are the application's own): the page reads them to say what went wrong.
POLICY = 1008  # a refused Origin or security token
TOO_BIG = 1009
TRY_LATER = 1013


class Hello(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The page's first message: its login's security token and the last seq it shows."""

    type: str
    csrf: str = ""
    after: int = 0


class Said(msgspec.Struct, frozen=True):
    """What the page sends after hello: start, say (with text) or stop; `id` comes back with the answer."""

    type: str
    text: str = ""
    id: str = ""


def session_bar(status: SessionStatus) -> str:
    """The session bar's HTML as the socket sends it (the page includes the same fragment; its forms post with
    htmx's CSRF header, or go over the socket)."""
    return str(render_html("fragments/ticket/session.html", s=status, can_write=True, frame=None))


def announce(mc: AppState) -> Any:
    """What the sessions call at every change: the bar goes to every page watching the ticket."""

    def told(status: SessionStatus, ticket_id: int) -> None:
        mc.broker.publish(Topic.ticket(ticket_id), -1, sse_frame("session", session_bar(status)))

    return told


def origin_allowed(headers: Any, allowed_hosts: list[str]) -> bool:
    """A browser's WebSocket must come from a page of this app: its Origin's host is the Host it asked for or one
    of the allowed hosts (Litestar's CSRF check never sees WebSockets). No Origin: not a browser."""
    origin = headers.get("origin")
    if origin is None:
        return True
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return False
    return parts.netloc == headers.get("host") or ("*" not in allowed_hosts and parts.netloc in allowed_hosts)


class SocketStream(Stream):
    """The ticket's stream, written to a WebSocket as JSON messages instead of SSE frames: the run view's
    frames (`{"type": "frame", "seq", "html"}`) and the session bar (`{"type": "session", "html"}`)."""

    def __init__(self, mc: AppState, socket: WebSocket[Any, Any, Any], subscriber: Any) -> None:
        super().__init__(mc, send=socket.send, receive=socket.receive, subscriber=subscriber)
        self.socket = socket

    async def write(self, chunk: bytes) -> None:
        """Forward a frame of the ticket's stream that the page's conversation shows; a client that cannot
        take it within one heartbeat interval is gone."""
        if chunk == HEARTBEAT:
            message: dict[str, Any] = {"type": "ping"}
        else:
            event, seq, data = read_sse_frame(chunk)
            if event == "ticket_event":
                message = {"type": "frame", "seq": seq, "html": data}
            elif event == "session":
                message = {"type": "session", "html": data}
            else:
                return  # the ticket's other news reaches the page over its SSE stream
        await self.send_json(message)

    async def send_json(self, message: dict[str, Any]) -> None:
        """One message; a client that cannot take it within one heartbeat interval is gone."""
        async with asyncio.timeout(self.heartbeat):
            await self.socket.send_text(msgspec.json.encode(message).decode())


@websocket("/ws/tickets/{identifier:str}/session")
async def session_socket(socket: WebSocket[Any, Any, Any], identifier: FromPath[str]) -> None:
    """The ticket's session, live: see module docstring."""
    mc: AppState = socket.app.state.mc
    user = socket.scope.get("user")
    if not origin_allowed(socket.headers, mc.settings.allowed_host_list):
        log.warning("refused a session socket for %s from Origin %s", identifier, socket.headers.get("origin"))
        await socket.close(code=POLICY, reason="Origin not allowed")  # before accept: the handshake gets 403
        return
    if getattr(user, "scope", None) != "admin":
        await socket.close(code=POLICY, reason="Only an admin login may talk to an agent")
        return
    try:
        ticket_id = await ticket_id_of(mc, identifier)
    except NotFoundException:
        await socket.close(code=4404, reason="No such ticket")
        return
    identifier = identifier.upper()
    bucket = mc.broker.buckets["streams"]
    if not bucket.acquire():
        await socket.close(code=TRY_LATER, reason="Too many open streams")
        return
    try:
        await socket.accept()
        await talk(mc, socket, ticket_id, identifier, user)
    except WebSocketDisconnect:
        pass
    finally:
        bucket.release()


async def talk(mc: AppState, socket: WebSocket[Any, Any, Any], ticket_id: int, identifier: str, user: Any) -> None:
    """Hello first (the security token of a browser login), then the bar, the replay and live frames, while
    what the page says is acted on."""
    limit = mc.settings.session_message_bytes + 1024  # the text and the JSON around it
    try:
        async with asyncio.timeout(HELLO_TIMEOUT_S):
            hello = msgspec.json.decode(await socket.receive_text(), type=Hello)
    except (TimeoutError, msgspec.DecodeError):
        await socket.close(code=POLICY, reason="Say hello first")
        return
    expected = getattr(user, "csrf_token", None)
    if hello.type != "hello" or (expected is not None and not hmac.compare_digest(hello.csrf, expected)):
        await socket.close(code=POLICY, reason="The page's security token is missing or stale: reload the page")
        return
    subscriber = mc.broker.subscribe(Topic.ticket(ticket_id))
    stream = SocketStream(mc, socket, subscriber)
    gone = asyncio.Event()
    try:
        await stream.send_json({"type": "session", "html": session_bar(mc.sessions.status(ticket_id, identifier))})
        stream.replay = replay_events(ticket_id, tail=False)
        after = await stream.replay(stream, max(0, hello.after))
        listener = asyncio.create_task(listen(mc, stream, ticket_id, identifier, limit, gone))
        try:
            with contextlib.suppress(TimeoutError, OSError, WebSocketDisconnect):
                await stream.live(gone, after)
        finally:
            listener.cancel()
    finally:
        mc.broker.unsubscribe(subscriber)
    if not gone.is_set():
        with contextlib.suppress(Exception):
            await socket.close(code=TRY_LATER, reason="Too slow: reconnect")


async def listen(
    mc: AppState, stream: SocketStream, ticket_id: int, identifier: str, limit: int, gone: asyncio.Event
) -> None:
    """Act on what the page says until it goes; each answer is `ok` or `error` with the message's `id`."""
    try:
        while True:
            raw = await stream.socket.receive_text()
            if len(raw.encode()) > limit:
                await stream.send_json({"type": "error", "message": too_long(mc)})
                await stream.socket.close(code=TOO_BIG, reason="Message too long")
                break
            try:
                said = msgspec.json.decode(raw, type=Said)
            except msgspec.DecodeError:
                await stream.send_json({"type": "error", "message": "That message was not understood."})
                continue
            answer: dict[str, Any] = {"type": "ok", "id": said.id, "for": said.type}
            try:
                await act(mc, ticket_id, identifier, said.type, said.text)
            except SessionError as exc:
                answer = {"type": "error", "id": said.id, "for": said.type, "message": str(exc)}
            await stream.send_json(answer)
    except (WebSocketDisconnect, RuntimeError, OSError, TimeoutError):
        pass
    finally:
        gone.set()
        with contextlib.suppress(asyncio.QueueFull):
            stream.subscriber.queue.put_nowait(HUNG_UP)


def too_long(mc: AppState) -> str:
    return f"A message to the agent can be at most {mc.settings.session_message_bytes // 1024} KB."


async def act(mc: AppState, ticket_id: int, identifier: str, action: str, text: str) -> None:
    """Start, say or stop, from the socket or a form alike."""
    if action == "start":
        await mc.sessions.start(ticket_id, identifier)
        if text.strip():
            await mc.sessions.say(ticket_id, identifier, text)
    elif action == "say":
        await mc.sessions.say(ticket_id, identifier, text)
    elif action == "stop":
        await mc.sessions.stop(ticket_id)
    else:
        raise SessionError(f"Unknown action {action!r}: start, say or stop.", 400)


async def form_action(request: Request[Any, Any, Any], identifier: str, action: str, text: str = "") -> Response[Any]:
    """The same actions from plain forms (no JavaScript, or the socket is down): back to the page, or for htmx
    the bar as it stands now and a note for screen readers."""
    mc: AppState = request.app.state.mc
    ticket = await find_ticket(request, identifier)
    try:
        await act(mc, ticket.id, ticket.identifier, action, text)
    except SessionError as exc:
        return refuse(exc.status, str(exc))
    if not wants_fragment(request):
        return Redirect(path=f"/ticket/{ticket.identifier}#agent-session", status_code=303)
    said = {"start": "The session started.", "say": "Sent to the agent.", "stop": "The session stopped."}[action]
    html = spoken_note("ticket-note", said)
    return Response(html, status_code=200, media_type=MediaType.HTML, headers={"Vary": "HX-Request"})


@post("/ticket/{identifier:str}/session", cache=False)
async def start_session(
    request: Request[Any, Any, Any], identifier: FromPath[str], data: URLEncodedBody[CommentForm]
) -> Response[Any]:
    """Start the ticket's session (and send the composer's text, when there is some)."""
    return await form_action(request, identifier, "start", data.body)


@post("/ticket/{identifier:str}/session/say", cache=False)
async def say_to_agent(
    request: Request[Any, Any, Any], identifier: FromPath[str], data: URLEncodedBody[CommentForm]
) -> Response[Any]:
    """The composer's "Send to agent": the text goes to the session (started if none runs)."""
    return await form_action(request, identifier, "say", data.body)


@post("/ticket/{identifier:str}/session/stop", cache=False)
async def stop_session(request: Request[Any, Any, Any], identifier: FromPath[str]) -> Response[Any]:
    """Stop the ticket's session."""
    return await form_action(request, identifier, "stop")


ROUTES = [session_socket, start_session, say_to_agent, stop_session]

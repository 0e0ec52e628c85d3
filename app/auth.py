"""Access: who is asking (bearer token or login cookie), what their scope allows, and CSRF for browsers."""

from __future__ import annotations

import hmac
import time
import urllib.parse
from collections import deque
from typing import TYPE_CHECKING, Any

import msgspec
from litestar.datastructures import Cookie
from litestar.types import ASGIApp, Receive, Scope, Send

from app.store import tokens

if TYPE_CHECKING:
    from app.state import AppState

SESSION_COOKIE = "mc_session"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "_csrf"
PUBLIC_PATHS = ("/healthz", "/login")
PUBLIC_PREFIXES = ("/static/",)
# A framed report's own requests carry no cookie (its sandbox makes them cross-site): these addresses hold a
# key instead, which their handler checks (app/report_access.py); GET only.
KEYED_PREFIXES = ("/reports/raw/~",)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MAX_FORM_BYTES = 1_048_576  # forms larger than this are refused before they are parsed


def is_public(path: str) -> bool:
    """Paths anyone may reach: health, login, static files."""
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


def is_keyed(scope: Scope) -> bool:
    """A GET whose address carries its own key, checked by its handler instead of a login."""
    method = scope.get("method")
    return scope["type"] == "http" and method in ("GET", "HEAD") and scope["path"].startswith(KEYED_PREFIXES)


# The route option that lets worker tokens call a route (the worker APIs: agents post events, file follow-ups,
# move their tickets): `opt=WORKER`.
WORKER = {"worker": True}


def worker_allowed(scope: Scope) -> bool:
    """Worker tokens reach only handlers marked `opt=WORKER` (the worker APIs)."""
    handler = scope.get("route_handler")
    return bool(handler is not None and handler.opt.get("worker"))


def session_cookie(value: str, max_age: int, secure: bool) -> Cookie:
    """The login cookie: HttpOnly, SameSite=Lax, Secure when served over HTTPS."""
    return Cookie(
        key=SESSION_COOKIE, value=value, max_age=max_age, httponly=True, samesite="lax", secure=secure, path="/"
    )


class LoginRateLimiter:
    """Failed login attempts per client address in a sliding minute (per process)."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._failures: dict[str, deque[float]] = {}

    def retry_after(self, client: str) -> int:
        """Seconds until `client` may try again; 0 when it may try now."""
        window = self._window(client)
        if len(window) < self.per_minute:
            return 0
        return max(1, int(60 - (time.monotonic() - window[0])) + 1)

    def record_failure(self, client: str) -> None:
        """Count one failed attempt."""
        self._window(client).append(time.monotonic())
        if len(self._failures) > 10_000:  # forget the quiet ones so the table cannot grow without end
            self._failures = {k: v for k, v in self._failures.items() if v}

    def _window(self, client: str) -> deque[float]:
        window = self._failures.setdefault(client, deque())
        cutoff = time.monotonic() - 60
        while window and window[0] < cutoff:
            window.popleft()
        return window


async def _send_json(
    send: Send,
    status: int,
    detail: str,
    extra: list[tuple[bytes, bytes]] = (),  # type: ignore[assignment]
    scope: Scope | None = None,
) -> None:
    body = msgspec.json.encode({"status_code": status, "detail": detail})
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *extra]
    if scope is not None and scope["type"] == "websocket":
        # A refused WebSocket handshake: a close before accepting, which the server answers with a 403 (uvicorn
        # takes a denial response too, but then logs an error for every refusal).
        close: Any = {"type": "websocket.close", "code": 1008, "reason": detail[:120]}
        await send(close)
        return
    start: Any = {"type": "http.response.start", "status": status, "headers": headers}
    await send(start)
    end: Any = {"type": "http.response.body", "body": body}
    await send(end)


async def _send_redirect(send: Send, location: str) -> None:
    start: Any = {
        "type": "http.response.start",
        "status": 303,
        "headers": [(b"location", location.encode()), (b"content-length", b"0")],
    }
    await send(start)
    end: Any = {"type": "http.response.body", "body": b""}
    await send(end)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return None


def _cookie(scope: Scope, name: str) -> str | None:
    raw = _header(scope, b"cookie")
    if not raw:
        return None
    for part in raw.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value
    return None


async def _buffer_body(receive: Receive) -> tuple[bytes, Receive] | None:
    """Read the whole request body (for the CSRF form field) and hand back a receive that replays it."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message: Any = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > MAX_FORM_BYTES:
            return None
        chunks.append(chunk)
        if not message.get("more_body"):
            break
    body = b"".join(chunks)
    sent = False

    async def replay() -> Any:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return body, replay


class AuthMiddleware:
    """Resolve the caller, enforce scopes, check CSRF on cookie-authenticated writes."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or is_public(scope["path"]) or is_keyed(scope):
            await self.app(scope, receive, send)
            return
        state: AppState = scope["app"].state.mc
        principal = await self._resolve(scope, state)
        path, method = scope["path"], scope.get("method", "GET")
        if principal is None:
            await self._deny_anonymous(scope, send, path)
            return
        if principal.scope == "read" and method not in SAFE_METHODS:
            await _send_json(send, 403, "This token can only read: writes need a worker or admin token.", scope=scope)
            return
        if principal.scope == "worker" and not worker_allowed(scope):
            await _send_json(send, 403, "Worker tokens may only call the worker APIs.", scope=scope)
            return
        if principal.csrf_token is not None and method not in SAFE_METHODS:
            checked = await self._check_csrf(scope, receive, principal.csrf_token)
            if checked is None:
                await _send_json(send, 403, "The form's security token is missing or stale: reload the page.")
                return
            receive = checked
        scope["user"] = principal
        await self.app(scope, receive, send)

    async def _resolve(self, scope: Scope, state: AppState) -> tokens.Principal | None:
        authorization = _header(scope, b"authorization")
        if authorization:
            kind, _, raw = authorization.partition(" ")
            if kind.lower() != "bearer" or not raw.strip():
                return None
            return await tokens.principal_for_bearer(state.db, raw.strip())
        session_id = _cookie(scope, SESSION_COOKIE)
        if session_id:
            return await tokens.principal_for_login(state.db, session_id)
        return None

    async def _deny_anonymous(self, scope: Scope, send: Send, path: str) -> None:
        if path.startswith("/api/") or scope["type"] == "websocket":
            await _send_json(
                send,
                401,
                "Authentication required: send Authorization: Bearer <token>.",
                [(b"www-authenticate", b'Bearer realm="mission-control"')],
                scope,
            )
            return
        query = scope.get("query_string", b"").decode("latin-1")
        target = path + ("?" + query if query else "")
        location = "/login?" + urllib.parse.urlencode({"next": target})
        if _header(scope, b"hx-request"):
            # htmx would follow a redirect and swap the login page into a fragment: ask for a full load.
            await _send_json(send, 401, "Your login has ended.", [(b"hx-redirect", location.encode())])
            return
        await _send_redirect(send, location)

    async def _check_csrf(self, scope: Scope, receive: Receive, expected: str) -> Receive | None:
        sent = _header(scope, CSRF_HEADER.encode())
        if sent is not None:
            return receive if hmac.compare_digest(sent, expected) else None
        content_type = (_header(scope, b"content-type") or "").split(";")[0].strip().lower()
        if content_type != "application/x-www-form-urlencoded":
            return None
        buffered = await _buffer_body(receive)
        if buffered is None:
            return None
        body, replay = buffered
        fields = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
        sent_field = (fields.get(CSRF_FIELD) or [""])[0]
        return replay if sent_field and hmac.compare_digest(sent_field, expected) else None


def client_address(scope: Any) -> str:
    """The caller's address, for rate limiting."""
    client = scope.get("client")
    return client[0] if client else "unknown"

"""Security headers on every response (a `before_send` hook, so 404s and errors get them too)."""

from __future__ import annotations

from typing import Any

from litestar.types import ASGIApp, Message, Receive, Scope, Send

# No inline script or style anywhere: htmx's config lives in a meta tag and its indicator styles are off.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]


async def add_security_headers(message: Message, scope: Scope) -> None:
    """Add the headers to the start of every HTTP response that does not set its own."""
    if message["type"] == "http.response.start":
        headers = list(message.get("headers", ()))
        present = {bytes(k).lower() for k, _ in headers}
        headers.extend(h for h in HEADERS if h[0] not in present)
        message["headers"] = headers


_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def sends_json(content_type: str) -> bool:
    """application/json, or a JSON-based type (application/merge-patch+json), whatever its parameters."""
    kind = content_type.split(";", 1)[0].strip().lower()
    return kind == "application/json" or (kind.startswith("application/") and kind.endswith("+json"))


class JsonBodiesOnly:
    """The API reads bodies as JSON: one sent as anything else (text/plain, a form) is refused with 415 rather
    than parsed as if it were JSON. Pages and their forms are not under /api/ and keep their form bodies."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/api/") and scope.get("method") in _BODY_METHODS:
            headers = dict(scope["headers"])
            has_body = headers.get(b"content-length", b"0") not in (b"0", b"") or b"transfer-encoding" in headers
            if has_body and not sends_json(headers.get(b"content-type", b"").decode("latin-1")):
                body = b'{"status_code":415,"detail":"Send the body as JSON, with Content-Type: application/json."}'
                start: Any = {"type": "http.response.start", "status": 415, "headers": [
                    (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]}  # fmt: skip
                await send(start)
                end: Any = {"type": "http.response.body", "body": body}
                await send(end)
                return
        await self.app(scope, receive, send)


async def fix_allow_header(message: Message, scope: Scope) -> None:
    """OPTIONS answers with every method of its path. Litestar's OPTIONS handler lists only the methods of the
    handlers registered before it was made (the first handler of a path, when several are), so the app's own
    route map says instead."""
    if message["type"] != "http.response.start" or scope.get("method") != "OPTIONS":
        return
    handler: Any = scope.get("route_handler")
    if handler is None or not handler.paths:
        return
    methods = scope["app"].route_handler_method_map.get(next(iter(handler.paths)))
    if methods:
        allow = ", ".join(sorted(m for m in methods if m.isupper()))
        headers = [(k, v) for k, v in message.get("headers", ()) if bytes(k).lower() != b"allow"]
        message["headers"] = [*headers, (b"allow", allow.encode())]

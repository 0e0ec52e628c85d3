"""Security headers on every response (a `before_send` hook, so 404s and errors get them too)."""

from __future__ import annotations

from litestar.types import Message, Scope

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

"""How a report's file reaches the browser: sandboxed, with a safe type, and, for the report's own images and
stylesheets, with a short-lived key in its address instead of the login cookie.

A report runs in an opaque origin (`Content-Security-Policy: sandbox` on the file, `sandbox` without
allow-same-origin on the page's iframe), so its scripts can reach neither the login cookie nor the app. The
same opacity makes every request the report itself makes (an `<img src="chart.png">` beside it) cross-site,
and the login cookie, SameSite=Lax, is not sent with it: measured in chromium, the frame's own load carried the
cookie and its image, stylesheet and fetch did not. So the viewer page frames the report at
`/reports/raw/~KEY/<path>`, where KEY is an HMAC (the server's key, an expiry, the report's path): a relative
address in the report resolves under the same KEY, and the key opens that report and the files beside and
below it that are not reports themselves, until it expires. Another report's script that learns a key can
therefore read that report's pictures, not the other reports.

The HMAC key lives in a file beside the database (made once, mode 0600), so every server process agrees.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import threading
import time
from pathlib import Path

from app.reports import is_report

KEY_PREFIX = "~"
KEY_HOURS = 12  # a key minted now is good for 12-13 hours (whole hours, so a page's address is stable)
# Scripts run, links open (a new tab escapes the sandbox, so a source's page works normally); nothing else:
# no same origin, no top navigation, no forms, no downloads.
SANDBOX = "allow-scripts allow-popups allow-popups-to-escape-sandbox"
RAW_CSP = f"sandbox {SANDBOX}; frame-ancestors 'self'"

# What a report may bring along, by suffix; anything else is not served (404), so nothing is sniffed.
TYPES = {
    ".html": "text/html",
    ".htm": "text/html",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".csv": "text/csv; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".md": "text/plain; charset=utf-8",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".svg": "image/svg+xml",
    ".ico": "image/x-icon",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".ttf": "font/ttf",
}


def media_type(path: Path) -> str | None:
    """The Content-Type a file is served with, or None when it is not served at all. HTML without a declared
    charset is taken as UTF-8 (what writers of reports emit); a declared one is left to the file."""
    kind = TYPES.get(path.suffix.lower())
    if kind == "text/html":
        try:
            with path.open("rb") as handle:
                head = handle.read(1024).lower()
        except OSError:
            return None
        return kind if b"charset" in head else "text/html; charset=utf-8"
    return kind


def raw_headers() -> dict[str, str]:
    """Headers of every file served from the reports folder (they replace the app's CSP and frame rules)."""
    return {
        "Content-Security-Policy": RAW_CSP,
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "SAMEORIGIN",  # only the viewer page frames it (frame-ancestors says so too)
        "Referrer-Policy": "no-referrer",  # the key in the address never goes out with the report's requests
        "Cache-Control": "private, no-cache",
    }


_keys: dict[Path, bytes] = {}
_keys_lock = threading.Lock()


def server_key(db_path: Path) -> bytes:
    """The HMAC key beside the database (`<db>.reports-key`), made the first time by whichever process comes
    first: written to a file of its own and linked into place, so another process reads all of it or none."""
    path = Path(f"{db_path}.reports-key")
    with _keys_lock:
        if path in _keys:
            return _keys[path]
        try:
            key = path.read_bytes()
        except FileNotFoundError:
            draft = Path(f"{path}.{os.getpid()}.{secrets.token_hex(4)}")
            descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(secrets.token_bytes(32))
            try:
                os.link(draft, path)
            except FileExistsError:
                pass  # another process was first: use its key
            finally:
                draft.unlink()
            key = path.read_bytes()
        _keys[path] = key
        return key


def _signature(key: bytes, expires: int, report: str) -> str:
    digest = hmac.new(key, f"{expires}\x00{report}".encode(), hashlib.sha256).digest()[:18]
    return base64.urlsafe_b64encode(digest).decode()


def mint(key: bytes, report: str, now: float | None = None) -> str:
    """The key segment (`~…`) that opens `report` and the files beside it, for the next KEY_HOURS."""
    hour = int((time.time() if now is None else now) // 3600)
    expires = (hour + KEY_HOURS + 1) * 3600
    name = base64.urlsafe_b64encode(report.rsplit("/", 1)[-1].encode()).decode().rstrip("=")
    return f"{KEY_PREFIX}{expires:x}.{_signature(key, expires, report)}.{name}"


def opens(key: bytes, segment: str, path: str, now: float | None = None) -> bool:
    """Whether the key segment opens `path`: the report it was minted for, or a file that is not a report in
    that report's folder or below it, before it expires."""
    try:
        expires_hex, signature, name_b64 = segment.removeprefix(KEY_PREFIX).split(".")
        expires = int(expires_hex, 16)
        name = base64.urlsafe_b64decode(name_b64 + "=" * (-len(name_b64) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        return False
    if expires < (time.time() if now is None else now) or not name or "/" in name:
        return False
    parts = path.split("/")
    for depth in range(len(parts) - 1, -1, -1):  # the report sits in one of the path's folders (or the top)
        report = "/".join([*parts[:depth], name])
        if hmac.compare_digest(_signature(key, expires, report), signature):
            return path == report or not is_report(path)
    return False

"""/healthz: the one unauthenticated status endpoint."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from litestar.enums import MediaType

from app import sqlite
from app.state import app_state
from app.store import admin


@get("/healthz", media_type=MediaType.JSON, cache=False)
async def healthz(request: Request[Any, Any, Any]) -> Response[dict[str, object]]:
    """Status, database reachability, journal mode and SQLite version (queried, not assumed), which library it
    comes from and whether it has the WAL-reset bug, and how live updates travel between processes ("poll",
    "redis", or "redis unreachable, polling")."""
    try:
        info = await admin.health(app_state(request).db)
    except Exception as exc:
        body: dict[str, object] = {"status": "error", "database": "unreachable", "detail": str(exc)}
        return Response(body, status_code=503, media_type=MediaType.JSON)
    relay = app_state(request).relay
    live = "poll" if relay is None else ("redis" if relay.connected else "redis unreachable, polling")
    bug = sqlite.has_wal_reset_bug(str(info["sqlite_version"]))
    body = {"status": "ok", "database": "reachable", **info, "sqlite_library": sqlite.library_name(),
            "sqlite_wal_reset_bug": bug, "live": live}  # fmt: skip
    return Response(body, media_type=MediaType.JSON)


ROUTES = [healthz]

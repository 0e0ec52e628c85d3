"""/healthz: the one unauthenticated status endpoint."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from litestar.enums import MediaType

from app.state import app_state
from app.store import admin


@get("/healthz", media_type=MediaType.JSON, cache=False)
async def healthz(request: Request[Any, Any, Any]) -> Response[dict[str, object]]:
    """Status, database reachability, journal mode and SQLite version (queried, not assumed)."""
    try:
        info = await admin.health(app_state(request).db)
    except Exception as exc:
        body: dict[str, object] = {"status": "error", "database": "unreachable", "detail": str(exc)}
        return Response(body, status_code=503, media_type=MediaType.JSON)
    return Response({"status": "ok", "database": "reachable", **info}, media_type=MediaType.JSON)


ROUTES = [healthz]

"""/healthz: the one unauthenticated status endpoint."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from litestar.enums import MediaType

from app.state import app_state


@get("/healthz", media_type=MediaType.JSON, cache=False)
async def healthz(request: Request[Any, Any, Any]) -> Response[dict[str, object]]:
    """Status, database reachability, journal mode and SQLite version (queried, not assumed)."""
    try:
        info = await app_state(request).db.info()
    except Exception as exc:
        body: dict[str, object] = {"status": "error", "database": "unreachable", "detail": str(exc)}
        return Response(body, status_code=503, media_type=MediaType.JSON)
    return Response({"status": "ok", "database": "reachable", **info}, media_type=MediaType.JSON)


ROUTES = [healthz]

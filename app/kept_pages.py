"""Pages kept rendered (the ticket page: app/routes/tickets.py), each sent as it was kept: gzipped once for
every browser that takes gzip, instead of by the compression middleware on every view (~1.3 ms for a 110 KB
ticket page on this machine, twice what a /healthz answer costs in all)."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import Awaitable, Callable, Hashable
from typing import Any

from litestar import Request, Response
from litestar.enums import MediaType

from app.cache import FragmentCache
from app.frame import frame_for
from app.htmx import wants_fragment

GZIP_LEVEL = 6  # as the middleware's (app/main.py)
MIN_GZIP_BYTES = 1024


class KeptPage:
    """A page's HTML, and the same gzipped once someone asked for it."""

    __slots__ = ("_gzipped", "html")

    def __init__(self, html: str) -> None:
        self.html = html.encode()
        self._gzipped: bytes | None = None

    def gzipped(self) -> bytes:
        """The HTML gzipped (made on first use, then kept)."""
        if self._gzipped is None:
            self._gzipped = gzip.compress(self.html, GZIP_LEVEL, mtime=0)
        return self._gzipped


# Rendered pages by everything they show; a few dozen at ~100 KB (and ~8 KB gzipped) each.
KeptPages = FragmentCache[KeptPage]


def send_page(request: Request[Any, Any, Any], page: KeptPage) -> Response[bytes]:
    """The page, gzipped when the browser takes gzip (the route is kept out of the compression middleware)."""
    headers = {"Vary": "HX-Request, Accept-Encoding"}
    body = page.html
    if len(body) >= MIN_GZIP_BYTES and "gzip" in request.headers.get("accept-encoding", ""):
        body = page.gzipped()
        headers["Content-Encoding"] = "gzip"
    return Response(body, media_type=MediaType.HTML, headers=headers)


def view_key(request: Request[Any, Any, Any], *parts: Hashable) -> tuple[Hashable, ...]:
    """A kept page's key: what the page shows (`parts`), the address asked for, who looks, and page or fragment."""
    frame = frame_for(request)
    where = (request.url.path, request.url.query)
    return (*parts, where, frame.user, frame.scope, frame.csrf_token, wants_fragment(request))


async def keep(
    pages: KeptPages, request: Request[Any, Any, Any], key: Hashable, build: Callable[[], Awaitable[str]]
) -> Response[bytes]:
    """The page kept under `key`, or built now and kept (the route is kept out of the compression middleware).
    Views that ask while it is being built wait for that one build rather than each starting their own (sixteen
    at once after a write took the Overview's p99 to 1.5 s)."""
    page = pages.get(key)
    if page is None:
        building = _building.get((id(pages), key))
        if building is None:
            building = asyncio.ensure_future(_build(pages, key, build))
            _building[(id(pages), key)] = building
            building.add_done_callback(lambda _: _building.pop((id(pages), key), None))
        page = await asyncio.shield(building)
    return send_page(request, page)


async def _build(pages: KeptPages, key: Hashable, build: Callable[[], Awaitable[str]]) -> KeptPage:
    return pages.put(key, KeptPage(await build()))


_building: dict[tuple[int, Hashable], asyncio.Future[KeptPage]] = {}

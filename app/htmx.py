"""Page or fragment: one fragment file serves both the full page and the htmx swap."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response
from litestar.enums import MediaType
from markupsafe import Markup

from app.frame import frame_for
from app.templates import render_html


def wants_fragment(request: Request[Any, Any, Any]) -> bool:
    """True for an htmx request that swaps a piece (not a boosted navigation, not a history restore)."""
    details: Any = getattr(request, "htmx", None)
    return bool(details) and not details.boosted and not details.history_restore_request


def render(
    request: Request[Any, Any, Any],
    page: str,
    fragment: str,
    ctx: msgspec.Struct,
    status_code: int = 200,
) -> Response[str]:
    """The whole page for a plain or boosted request, the fragment for an htmx swap; always Vary: HX-Request."""
    return html_response(render_text(request, page, fragment, ctx), status_code)


def render_text(request: Request[Any, Any, Any], page: str, fragment: str, ctx: msgspec.Struct) -> str:
    """What `render` answers with: the page, or for an htmx swap the fragment."""
    frame = frame_for(request)
    if wants_fragment(request):
        return render_html(fragment, ctx=ctx, frame=frame)
    return render_html(page, ctx=ctx, frame=frame, fragment=fragment)


def html_response(html: str, status_code: int = 200) -> Response[str]:
    """HTML that depends on HX-Request (a page or its fragment)."""
    return Response(html, status_code=status_code, media_type=MediaType.HTML, headers={"Vary": "HX-Request"})


def refuse(status_code: int, message: str) -> Response[str]:
    """A refusal as plain text: app.js shows it as a toast for htmx, a browser shows it as the page."""
    return Response(message, status_code=status_code, media_type=MediaType.TEXT)


def spoken_note(note_id: str, text: str, polite: bool = False) -> Markup:
    """What a swap tells screen readers: the page's live region `note_id`, replaced out of band."""
    return render_html("fragments/note.html", note_id=note_id, text=text, polite=polite)

"""Page or fragment: one fragment file serves both the full page and the htmx swap."""

from __future__ import annotations

import functools
import hashlib
from typing import Any

import msgspec
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PrefixLoader, select_autoescape
from litestar import Request, Response
from litestar.enums import MediaType
from markupsafe import Markup

from app import ROOT
from app.frame import frame_for
from app.markdown import render_markdown

# Pages are `templates/…`, swappable pieces `fragments/…`; the prefix says which is which at every include.
env = Environment(
    loader=ChoiceLoader(
        [
            PrefixLoader(
                {
                    "templates": FileSystemLoader(ROOT / "templates"),
                    "fragments": FileSystemLoader(ROOT / "fragments"),
                }
            )
        ]
    ),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
    auto_reload=False,
)
env.filters["markdown"] = render_markdown


@functools.cache
def static_url(name: str) -> str:
    """A static file's address with its content's hash: browsers may keep it for a year (see main.py), and a
    new release changes the address of whatever changed."""
    digest = hashlib.sha256((ROOT / "static" / name).read_bytes()).hexdigest()[:12]
    return f"/static/{name}?v={digest}"


env.globals["static"] = static_url


def wants_fragment(request: Request[Any, Any, Any]) -> bool:
    """True for an htmx request that swaps a piece (not a boosted navigation, not a history restore)."""
    details: Any = getattr(request, "htmx", None)
    return bool(details) and not details.boosted and not details.history_restore_request


def render_html(template: str, **context: Any) -> Markup:
    """Render one template; the result is markup (every template autoescapes its values)."""
    return Markup(env.get_template(template).render(**context))  # noqa: S704 - autoescaped template output


def render(
    request: Request[Any, Any, Any],
    page: str,
    fragment: str,
    ctx: msgspec.Struct,
    status_code: int = 200,
    **extra: Any,
) -> Response[str]:
    """The whole page for a plain or boosted request, the fragment for an htmx swap; always Vary: HX-Request."""
    frame = frame_for(request)
    if wants_fragment(request):
        html = render_html(fragment, ctx=ctx, frame=frame, **extra)
    else:
        html = render_html(page, ctx=ctx, frame=frame, fragment=fragment, **extra)
    return Response(html, status_code=status_code, media_type=MediaType.HTML, headers={"Vary": "HX-Request"})

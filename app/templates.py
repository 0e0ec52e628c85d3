"""The Jinja environment every page, fragment and stream frame is rendered with, and what it offers them:
`static(name)` for content-hashed static addresses and the `markdown` filter (safe HTML of agent text).

Pages are `templates/…`, swappable pieces `fragments/…`; the prefix says which is which at every include.
Nothing here knows about requests: app/htmx.py chooses page or fragment for one.
"""

from __future__ import annotations

import functools
import hashlib
from typing import Any

from jinja2 import Environment, FileSystemLoader, PrefixLoader, select_autoescape
from markupsafe import Markup

from app import ROOT
from app.markdown import render_markdown

env = Environment(
    loader=PrefixLoader(
        {
            "templates": FileSystemLoader(ROOT / "templates"),
            "fragments": FileSystemLoader(ROOT / "fragments"),
        }
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


def render_html(template: str, **context: Any) -> Markup:
    """Render one template; the result is markup (every template autoescapes its values)."""
    return Markup(env.get_template(template).render(**context))  # noqa: S704 - autoescaped template output

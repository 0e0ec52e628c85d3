"""Untrusted markdown (agent and user text) to safe HTML: markdown-it-py with raw HTML off, then nh3."""

from __future__ import annotations

from typing import Any

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup, escape

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")


def _image_as_link(renderer: Any, tokens: Any, idx: int, options: Any, env: Any) -> str:
    # An image in agent or user text would load from anywhere (a tracking pixel) and the CSP blocks it
    # anyway: show it as a link to the image instead, named by its alt text.
    token = tokens[idx]
    src = escape(token.attrGet("src") or "")
    alt = escape(token.content or token.attrGet("src") or "image")
    return f'<a href="{src}">{alt}</a>'


_md.add_render_rule("image", _image_as_link)

# An allow-list, not a block-list: anything not named here (hx-*, on*, style, iframes…) is dropped.
_TAGS = {
    "a",
    "p",
    "br",
    "hr",
    "em",
    "strong",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "del",
    "img",
}
_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "ol": {"start"},
    "th": {"align"},
    "td": {"align"},
    "code": {"class"},
}


def render_markdown(text: str) -> Markup:
    """Markdown to HTML that is safe to put in a page."""
    html = _md.render(text)
    clean = nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )
    return Markup(clean)  # noqa: S704 - nh3 has sanitised it

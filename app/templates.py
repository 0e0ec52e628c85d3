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
from app.rules import PRIORITY_LABELS, STATUS_LABELS
from app.run_view import seconds_between
from app.text import first_line

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
env.globals["status_labels"] = STATUS_LABELS
# The board's columns in order, with their names, for app.js (data-columns): a list, since tojson sorts keys.
env.globals["board_columns"] = [[status, label] for status, label in STATUS_LABELS.items()]
env.globals["priority_labels"] = PRIORITY_LABELS


def render_html(template: str, **context: Any) -> Markup:
    """Render one template; the result is markup (every template autoescapes its values)."""
    return Markup(env.get_template(template).render(**context))  # noqa: S704 - autoescaped template output


# How a stored time reads on the page, by the detail a place needs; every `<time>` comes from `when`, so a
# change of how times read (relative ones, a time zone) is made here once.
_TIME_SHAPES = {"minute": slice(0, 16), "second": slice(0, 19), "date": slice(0, 10), "clock": slice(11, 19)}


def when(stamp: str | None, shape: str = "minute") -> Markup:
    """A stored UTC time as `<time datetime=…>`, its text cut to `shape` (minute, second, date or clock)."""
    if not stamp:
        return Markup("")
    text = stamp[_TIME_SHAPES[shape]].replace("T", " ")
    title = Markup(' title="{}"').format(stamp) if shape == "clock" else Markup("")
    return Markup('<time datetime="{}"{}>{}</time>').format(stamp, title, text)


env.filters["when"] = when


def event_url(owner: str, seq: int) -> str:
    """Where one event of a run is shown whole: a ticket's event, or ("session:<id>") a transcript's line."""
    if owner.startswith("session:"):
        return f"/sessions/{owner.removeprefix('session:')}/lines/{seq}"
    return f"/ticket/{owner}/events/{seq}"


env.globals["event_url"] = event_url


def duration(seconds: float | None) -> str:
    """Seconds as a person reads a span: "0.4 s", "48 s", "3 min 12 s", "2 h 5 min"."""
    if seconds is None:
        return ""
    if seconds < 0.05:
        return "< 0.1 s"
    if seconds < 10:
        return f"{seconds:.1f} s"
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def count(n: int) -> str:
    """A large count in a few characters: 940, 12.3k, 1.2M."""
    if n < 1000:
        return str(n)
    if n < 1_000_000:
        return f"{n / 1000:.1f}k".replace(".0k", "k")
    return f"{n / 1_000_000:.1f}M".replace(".0M", "M")


def file_size(n: int) -> str:
    """A file's size as a person reads it: 812 B, 14.2 KB, 3.1 MB."""
    if n < 1024:
        return f"{n} B"
    if n < 1024 * 1024:
        return f"{n / 1024:.1f} KB".replace(".0 KB", " KB")
    return f"{n / 1024 / 1024:.1f} MB".replace(".0 MB", " MB")


env.filters["duration"] = duration
env.filters["filesize"] = file_size
env.globals["seconds"] = seconds_between
env.filters["count"] = count
env.filters["first_line"] = first_line

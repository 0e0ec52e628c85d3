"""The page frame around every page: navigation, who is logged in, the CSRF token."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request


class NavItem(msgspec.Struct, frozen=True):
    """One entry of the main navigation."""

    href: str
    label: str
    current: bool = False


class Frame(msgspec.Struct, frozen=True):
    """What base.html needs besides the page's own context."""

    user: str | None
    scope: str | None
    csrf_token: str | None
    nav: list[NavItem]


# Every page of the seed, in the order a person scans them.
NAV: tuple[tuple[str, str], ...] = (
    ("/", "Overview"),
    ("/board", "Board"),
    ("/activity", "Activity"),
    ("/sessions", "Sessions"),
    ("/tasks", "Tasks"),
    ("/team", "Team"),
    ("/logs", "Logs"),
    ("/life-manager", "Life Manager"),
    ("/skills", "Skills"),
    ("/reports", "Reports"),
    ("/spotify", "Radio"),
    ("/f1", "F1"),
    ("/apps", "Apps"),
)


def current_section(path: str) -> str:
    """The nav entry a path belongs to (a ticket page belongs to the board)."""
    if path.startswith("/ticket/"):
        return "/board"
    for href, _ in NAV:
        if href != "/" and (path == href or path.startswith(href + "/")):
            return href
    return "/" if path == "/" else ""


def frame_for(request: Request[Any, Any, Any]) -> Frame:
    """The frame for this request's page."""
    user = request.scope.get("user")
    section = current_section(request.url.path)
    return Frame(
        user=getattr(user, "name", None),
        scope=getattr(user, "scope", None),
        csrf_token=getattr(user, "csrf_token", None),
        nav=[NavItem(href, label, href == section) for href, label in NAV],
    )

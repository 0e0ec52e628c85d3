"""Apps: /apps, the external dashboards of the apps file, each a card with its last health check."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import msgspec
from litestar import Request, Response, get

from app.apps import App, Health, current_apps
from app.htmx import render
from app.state import app_state

POLL_S = 30  # the page fetches its cards again this often at most (as often as the checks run, when oftener)


class AppCard(msgspec.Struct, frozen=True):
    """One app's card: the app, where it lives, and its last check (None: not checked yet)."""

    app: App
    anchor: str
    host: str
    health: Health | None


class AppsPage(msgspec.Struct, frozen=True):
    """Context of /apps."""

    title: str
    path: str  # the apps file
    exists: bool
    problems: list[str]
    cards: list[AppCard]
    counts: dict[str, int]  # cards by state ("unchecked" for those not checked yet)
    interval_s: float
    slow_ms: int
    poll_s: int


def card_of(n: int, app: App, health: Health | None) -> AppCard:
    """The card of the `n`th app."""
    parts = urlsplit(app.url)
    name = f"[{parts.hostname}]" if ":" in (parts.hostname or "") else parts.hostname or ""  # IPv6
    host = f"{name}:{parts.port}" if parts.port else name
    return AppCard(app, f"app-{n}", host, health)


@get("/apps", cache=False)
async def apps_page(request: Request[Any, Any, Any]) -> Response[str]:
    """Each external dashboard with its live status; a new or changed file is checked at once."""
    mc = app_state(request)
    found = current_apps(str(mc.settings.apps_path))
    mc.apps.wake(found.apps)
    cards = [card_of(n, app, mc.apps.health_of(app)) for n, app in enumerate(found.apps, 1)]
    counts: dict[str, int] = {}
    for card in cards:
        state = card.health.state if card.health else "unchecked"
        counts[state] = counts.get(state, 0) + 1
    ctx = AppsPage(
        "Apps", found.path, found.exists, found.problems, cards, counts,
        mc.settings.apps_check_interval_s, mc.settings.apps_slow_ms,
        max(2, min(POLL_S, round(mc.settings.apps_check_interval_s))),
    )  # fmt: skip
    return render(request, "templates/page.html", "fragments/apps/apps.html", ctx)


ROUTES = [apps_page]

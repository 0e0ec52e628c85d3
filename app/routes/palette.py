"""The command palette (Ctrl+K): tickets, pages and actions on the focused card. Without JS, a search page."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

import msgspec
from litestar import Request, Response, get
from litestar.params import FromQuery

from app import rules
from app.frame import NAV
from app.htmx import render
from app.state import app_state
from app.store import board, tickets

_IDENTIFIER = re.compile(r"^\s*(?:([A-Za-z0-9]+)-)?(\d+)\s*$")


class PageHit(msgspec.Struct, frozen=True):
    """A page whose name matches."""

    href: str
    label: str


class Action(msgspec.Struct, frozen=True):
    """Something to do to the focused card: a form post."""

    label: str
    action: str
    field: str
    value: str
    key: str = ""


class Option(msgspec.Struct, frozen=True):
    """One palette option, in the order shown: a link (a page, a ticket, the search) or an action's button."""

    id: str  # the element's id, which the input's aria-activedescendant names
    label: str
    href: str = ""
    ident: str = ""  # a ticket's identifier, shown before its title
    hint: str = ""  # a ticket's column; what the search covers
    action: Action | None = None


class PalettePage(msgspec.Struct, frozen=True):
    """Context of the palette results (and of the search page)."""

    title: str
    q: str
    card: tickets.Ticket | None
    options: list[Option]  # best first: the first is highlighted, and Enter in the input opens it


def card_actions(card: tickets.Ticket) -> list[Action]:
    """Moves and priorities for a card, minus what it already is."""
    moves = [
        Action(f"Move {card.identifier} to {label}", f"/ticket/{card.identifier}/move", "status", status)
        for status, label in rules.STATUS_LABELS.items()
        if status != card.status
    ]
    priorities = [
        Action(
            f"Set {card.identifier} priority to {label}", f"/board/cards/{card.identifier}", "priority", str(n), str(n)
        )
        for n, label in rules.PRIORITY_LABELS.items()
        if n != card.priority
    ]
    return moves + priorities


def matches(words: str, text: str) -> bool:
    """Every word of `words` appears in `text` (case-insensitive)."""
    return all(w in text.lower() for w in words.lower().split())


def starts(needle: str, label: str) -> bool:
    """`label`, or one of its words, starts with `needle` (both in lower case)."""
    return any(word.startswith(needle) for word in (label, *label.split()))


def rank_pages(q: str) -> tuple[list[PageHit], list[PageHit]]:
    """The pages to put above every ticket (named `q` exactly, then starting with it), and the other matches.

    "activity" means the Activity page, not a ticket that mentions activity.
    """
    needle = " ".join(q.lower().split())
    pages = [PageHit(href, label) for href, label in NAV if matches(q, label)]
    if not needle:
        return [], pages
    top = sorted((p for p in pages if starts(needle, p.label.lower())), key=lambda p: p.label.lower() != needle)
    return top, [p for p in pages if p not in top]


def ticket_option(found: board.Found) -> Option:
    """A ticket the search found, as an option."""
    hint = rules.STATUS_LABELS.get(found.status, found.status)
    return Option(f"opt-t-{found.identifier}", found.title, f"/ticket/{found.identifier}", found.identifier, hint)


def rank_options(q: str, found: list[board.Found], actions: list[Action]) -> list[Option]:
    """Everything the palette offers for `q`, best first: named pages, actions on the card, tickets, the rest."""
    top, rest = rank_pages(q)
    pages = [Option(f"opt-p-{i}", f"Go to {p.label}", p.href) for i, p in enumerate(top + rest, 1)]
    options = pages[: len(top)]
    options += [Option(f"opt-a-{i}", a.label, action=a) for i, a in enumerate(actions, 1)]
    options += [ticket_option(f) for f in found]
    options += pages[len(top) :]
    if q:
        everywhere = "/search?" + urlencode({"q": q})
        options.append(
            Option("opt-search", f"Search everything for “{q}”", everywhere, hint="comments and transcripts too")
        )
    return options


@get("/palette", cache=False)
async def palette(request: Request[Any, Any, Any], q: FromQuery[str] = "", card: FromQuery[str] = "") -> Response[str]:
    """Results for the palette's input; the whole search page for a plain request."""
    mc = app_state(request)
    q = q.strip()[:200]
    found: list[board.Found] = []
    exact = _IDENTIFIER.match(q)
    if exact:
        ident = f"{(exact.group(1) or mc.settings.ticket_prefix).upper()}-{exact.group(2)}"
        hit = await tickets.get_ticket(mc.db, ident)
        if hit:
            found.append(board.Found(hit.identifier, hit.title, hit.status))
    found += [f for f in await board.search_tickets(mc.db, q) if f.identifier not in {h.identifier for h in found}]
    focused = await tickets.get_ticket(mc.db, card.upper()) if card else None
    actions = [a for a in card_actions(focused) if matches(q, a.label)] if focused else []
    ctx = PalettePage("Search", q, focused, rank_options(q, found[:8], actions))
    return render(request, "templates/page.html", "fragments/palette/results.html", ctx)


class KeysPage(msgspec.Struct, frozen=True):
    """Context of the keyboard help."""

    title: str


@get("/keys", cache=False)
async def keys(request: Request[Any, Any, Any]) -> Response[str]:
    """Every keyboard shortcut (the `?` overlay shows the same fragment)."""
    return render(request, "templates/page.html", "fragments/keys.html", KeysPage("Keyboard shortcuts"))


ROUTES = [palette, keys]

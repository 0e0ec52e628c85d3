"""Keyset paging invariants while tickets move underneath: no duplicates, no gaps, hand order kept."""

from __future__ import annotations

import asyncio
import random

import pytest

from app.store import tickets
from app.store.board import BoardFilter, first_page, next_page
from tests.conftest import Harness, soup

HTMX = {"HX-Request": "true"}


def page_ids(nodes) -> list[str]:  # type: ignore[no-untyped-def]
    """Identifiers of card nodes."""
    return [li["id"].removeprefix("card-") for li in nodes]


async def mutate(harness: Harness, rng: random.Random, made: list[str], csrf: str) -> None:
    """One random change of the kind people and workers make while a board is open."""
    db = harness.db
    ident = rng.choice(made)
    ticket = await tickets.get_ticket(db, ident)
    assert ticket is not None
    kind = rng.choice(["leave", "return", "bump", "place", "create"])
    if kind == "leave":
        await tickets.move_ticket(db, ticket.id, rng.choice(["review", "done"]))
    elif kind == "return":
        await tickets.move_ticket(db, ticket.id, "todo")
    elif kind == "bump":
        await tickets.add_comment(db, ticket.id, "luci", "progress")
    elif kind == "place":
        await tickets.move_ticket(db, ticket.id, "todo", after=rng.choice(made))
    else:
        made.append(await tickets.create_ticket(db, "MC", f"New {len(made)}", status="todo"))


def merge(seen: list[str], incoming: list[str], on_top: bool = False) -> list[str]:
    """What the page shows after a load-more, as app.js merges it: a newer copy of a card replaces the older."""
    kept = [ident for ident in seen if ident not in incoming]
    return incoming + kept if on_top else kept + incoming


@pytest.mark.parametrize("seed", range(8))
def test_paging_through_a_changing_column_shows_every_card_once(harness: Harness, seed: int) -> None:
    rng = random.Random(seed)
    csrf = harness.login()
    made = [harness.ticket(f"Card {n}", status="todo") for n in range(100)]
    html = harness.client.get("/board").text
    shown = page_ids(soup(html).select("#cards-todo li.card"))
    link = soup(html).select_one("#cards-todo li.more a")
    while link is not None:
        for _ in range(rng.randint(0, 6)):
            harness.call(mutate, harness, rng, made, csrf)
        fragment = soup(harness.client.get(link["href"], headers=HTMX).text)
        template = fragment.find("template", class_="moved-cards")
        if template is not None:
            shown = merge(shown, page_ids(template.find_all("li", class_="card")), on_top=True)
        shown = merge(shown, page_ids(fragment.find_all("li", class_="card", recursive=False)))
        link = fragment.select_one("li.more a")
    assert len(shown) == len(set(shown)), "the page shows a card twice"
    now_in_todo = {c.identifier for c in harness.call(first_page, harness.db, "todo", BoardFilter(), 10_000)}
    missing = now_in_todo - set(shown)
    assert not missing, f"gaps: {sorted(missing)}"


def test_every_page_on_its_own_holds_no_card_twice(harness: Harness) -> None:
    harness.login()
    for n in range(70):
        harness.ticket(f"Card {n}", status="todo")
    html = harness.client.get("/board").text
    link = soup(html).select_one("#cards-todo li.more a")
    while link is not None:
        fragment = soup(harness.client.get(link["href"], headers=HTMX).text)
        ids = page_ids(fragment.find_all("li", class_="card", recursive=False))
        assert len(ids) == len(set(ids))
        link = fragment.select_one("li.more a")


def test_concurrent_moves_keep_every_card_exactly_once_in_order(harness: Harness) -> None:
    made = [harness.ticket(f"Card {n}", status="todo") for n in range(40)]

    async def storm() -> None:
        rng = random.Random(7)
        ids = {ident: (await tickets.get_ticket(harness.db, ident)).id for ident in made}  # type: ignore[union-attr]

        async def one(ident: str) -> None:
            await tickets.move_ticket(harness.db, ids[ident], "todo", after=rng.choice(made))

        await asyncio.gather(*(one(rng.choice(made)) for _ in range(200)))

    harness.call(storm)

    async def walk() -> list[str]:
        seen: list[str] = []
        cards = await first_page(harness.db, "todo", BoardFilter(), 7)
        while cards:
            seen += [c.identifier for c in cards]
            last = cards[-1]
            cards = await next_page(harness.db, "todo", BoardFilter(), last.sort_key, last.id, 7)
        return seen

    seen = harness.call(walk)
    assert sorted(seen) == sorted(made) and len(seen) == len(set(seen))


def test_placing_a_card_again_and_again_in_the_same_gap_keeps_order(harness: Harness) -> None:
    top, bottom = harness.ticket("top", status="todo"), harness.ticket("bottom", status="todo")
    harness.call(tickets.move_ticket, harness.db, 1, "todo", after=bottom)  # order: bottom, top
    placed = []
    for n in range(80):  # 80 halvings of one gap: more than a double can split, so the column gets respaced
        ident = harness.ticket(f"wedge {n}", status="todo")
        ticket = harness.call(tickets.get_ticket, harness.db, ident)
        harness.call(tickets.move_ticket, harness.db, ticket.id, "todo", after=bottom)
        placed.append(ident)
    order = [c.identifier for c in harness.call(first_page, harness.db, "todo", BoardFilter(), 1000)]
    assert order == [bottom, *reversed(placed), top]

"""The board in a real browser: keys, moving cards by key and by drag, creating, the palette, phone and no-JS use.

The demo database is shared by every browser test, so a test that changes data creates its own tickets first
and looks only at those.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from .conftest import (
    ContextFactory,
    Server,
    real_errors,
    serious_violations,
    serve_demo,
    shown_whole,
    watch_console,
)

pytestmark = pytest.mark.browser

PHONE: dict[str, Any] = {"viewport": {"width": 375, "height": 812}, "is_mobile": True, "has_touch": True}
CSRF_FIELD = re.compile(r'name="_csrf" value="([^"]+)"')


@pytest.fixture(scope="module")
def server(chromium_executable: Path) -> Iterator[Server]:
    """This module's own demo server: its tests add and move tickets, and the other modules (the README's
    screenshots among them) should find the board as `mc demo` made it."""
    with serve_demo() as running:
        yield running


@pytest.fixture(scope="module")
def api_token(server: Server) -> str:
    """One admin token for the module's API calls."""
    return server.token("admin")


def make_ticket(page: Page, token: str, title: str, status: str = "backlog", **fields: Any) -> str:
    """Create a ticket (the JSON API, or the plain form when the API answers otherwise); return its identifier."""
    response = page.request.post(
        "/api/v1/tickets",
        data={"title": title, "status": status, **fields},
        headers={"Authorization": f"Bearer {token}"},
    )
    if response.status == 201:
        return str(response.json()["identifier"])
    form = page.request.get("/tickets/new")
    found = CSRF_FIELD.search(form.text())
    assert found, "no CSRF token on /tickets/new"
    posted = page.request.post(
        "/tickets",
        form={"_csrf": found[1], "title": title, "status": status, **{k: str(v) for k, v in fields.items()}},
        max_redirects=0,
    )
    assert posted.status == 303, f"POST /tickets answered {posted.status}: {posted.text()[:300]}"
    return posted.headers["location"].rsplit("/", 1)[-1]


def unexpected(errors: list[str]) -> list[str]:
    """The console errors that matter, less the line Chromium logs for a form the server refused (422) on purpose."""
    return [e for e in real_errors(errors) if "status of 422" not in e]


def unique(text: str) -> str:
    """`text` with a random suffix, so reruns and other tests never collide."""
    return f"{text} {secrets.token_hex(3)}"


def focused_card(page: Page) -> str | None:
    """The id (card-MC-…) of the card whose link has keyboard focus, or None."""
    return page.evaluate("() => document.activeElement?.closest('li.card')?.id ?? null")


def card_ids(page: Page, status: str) -> list[str]:
    """The ids of the cards shown in one column, top to bottom."""
    return page.locator(f"#cards-{status} > li.card").evaluate_all("cards => cards.map(c => c.id)")


def card_title(page: Page, card_id: str) -> str:
    """A card's title: its link text without the identifier."""
    link = page.locator(f"#{card_id} > a")
    return link.inner_text().strip().removeprefix(link.locator("small").inner_text().strip()).strip()


def expect_focus_on(page: Page, card_id: str) -> None:
    """Keyboard focus is on the link of card `card_id` (waiting for a swap to settle)."""
    page.wait_for_function(
        "id => document.activeElement?.closest('li.card')?.id === id && document.activeElement.matches('a')",
        arg=card_id,
        timeout=5_000,
    )


def open_board(page: Page, path: str = "/board") -> None:
    """Load the board and wait until its script is ready for keys."""
    page.goto(path)
    expect(page.get_by_role("heading", level=1)).to_have_text("Board")
    page.wait_for_function("() => window.htmx && document.querySelector('#cards-backlog')")


def test_keys_navigate_the_board_and_open_a_card(page: Page, server: Server, console_errors: list[str]) -> None:
    """j/k/h/l and the arrows move focus between cards; Enter and o open the focused card; typing is left alone."""
    open_board(page)
    backlog, todo = card_ids(page, "backlog"), card_ids(page, "todo")
    assert len(backlog) >= 2 and len(todo) >= 2

    for key, expected in (
        ("j", backlog[0]),
        ("j", backlog[1]),
        ("l", todo[1]),
        ("k", todo[0]),
        ("h", backlog[0]),
        ("ArrowDown", backlog[1]),
        ("ArrowRight", todo[1]),
        ("ArrowUp", todo[0]),
        ("ArrowLeft", backlog[0]),
        ("k", backlog[0]),  # the top card stays focused
    ):
        page.keyboard.press(key)
        assert focused_card(page) == expected, f"after {key}"
        assert page.evaluate("() => document.activeElement.tagName") == "A"

    identifier, second = (card.removeprefix("card-") for card in backlog[:2])
    titles = [card_title(page, card) for card in backlog[:2]]
    page.keyboard.press("Enter")
    page.wait_for_url(f"{server.base_url}/ticket/{identifier}")
    expect(page.get_by_role("heading", level=1)).to_have_text(titles[0])

    open_board(page)
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("o")
    page.wait_for_url(f"{server.base_url}/ticket/{second}")
    expect(page.get_by_role("heading", level=1)).to_have_text(titles[1])

    # Typing in the search field is typing: "j" goes into the field, and the live filter keeps focus there.
    open_board(page)
    page.keyboard.press("/")
    assert page.evaluate("() => document.activeElement.id") == "board-q"
    with page.expect_response(lambda r: "/board?" in r.url and "q=j" in r.url):
        page.keyboard.type("j")
    page.wait_for_timeout(100)  # let the swap settle
    assert page.evaluate("() => document.activeElement.id") == "board-q"
    expect(page.locator("#board-q")).to_have_value("j")
    assert focused_card(page) is None
    page.keyboard.press("k")
    expect(page.locator("#board-q")).to_have_value("jk")
    assert focused_card(page) is None
    assert real_errors(console_errors) == []


def test_move_a_card_with_the_keyboard(page: Page, api_token: str, console_errors: list[str]) -> None:
    """m then 4 moves the focused card to Review, ] and [ step it along, 1 makes it urgent; focus stays on it."""
    identifier = make_ticket(page, api_token, unique("Keyboard mover"), priority=3)
    card = f"card-{identifier}"
    open_board(page)
    assert card in card_ids(page, "backlog")
    page.locator(f"#{card} > a").focus()

    page.keyboard.press("m")
    expect(page.locator("#mc-hint")).to_contain_text(f"Move {identifier} to:")
    page.keyboard.press("4")
    expect(page.locator(f"#cards-review > #{card}")).to_be_visible()
    expect(page.locator(f"#cards-backlog > #{card}")).to_have_count(0)
    expect(page.locator("#mc-hint")).to_be_hidden()
    expect_focus_on(page, card)
    expect(page.locator("#board-status")).to_have_text(f"{identifier} moved to Review.")

    page.keyboard.press("]")
    expect(page.locator(f"#cards-blocked > #{card}")).to_be_visible()
    expect_focus_on(page, card)
    expect(page.locator("#board-status")).to_have_text(f"{identifier} moved to Blocked.")

    page.keyboard.press("[")
    expect(page.locator(f"#cards-review > #{card}")).to_be_visible()
    expect_focus_on(page, card)
    expect(page.locator("#board-status")).to_have_text(f"{identifier} moved to Review.")

    expect(page.locator(f"#{card}")).to_contain_text("Medium")
    page.keyboard.press("1")
    expect(page.locator(f"#{card}")).to_contain_text("Urgent")
    expect(page.locator(f"#{card}")).to_have_class(re.compile(r"\bp1\b"))
    expect_focus_on(page, card)
    expect(page.locator("#board-status")).to_have_text(f"{identifier} priority set to Urgent.")

    # m then Esc cancels: nothing moves.
    page.keyboard.press("m")
    page.keyboard.press("Escape")
    expect(page.locator("#mc-hint")).to_be_hidden()
    page.keyboard.press("2")  # a priority again, not a move
    expect(page.locator(f"#{card}")).to_contain_text("High")
    expect(page.locator(f"#cards-review > #{card}")).to_be_visible()
    expect_focus_on(page, card)

    # a asks whom to assign; Enter assigns, and focus comes back to the card.
    page.keyboard.press("a")
    expect(page.locator("#mc-dialog")).to_have_attribute("aria-label", f"Assign {identifier}")
    expect(page.locator("#assign-input")).to_be_focused()
    page.keyboard.type("alex")
    page.keyboard.press("Enter")
    expect(page.locator("#mc-dialog")).to_be_hidden()
    expect(page.locator(f"#{card} .who")).to_have_text("alex")
    expect(page.locator("#board-status")).to_have_text(f"{identifier} assigned to alex.")
    expect_focus_on(page, card)
    assert real_errors(console_errors) == []


def scroll_board_to_the_end(page: Page) -> None:
    """Scroll the board down and right as far as it goes (a person reading the bottom of the last columns)."""
    page.locator("#board-columns").evaluate("b => b.scrollTo(b.scrollWidth, b.scrollHeight)")


def test_a_moved_card_is_scrolled_into_view(page: Page, api_token: str, console_errors: list[str]) -> None:
    """After m+digit or ], the card is shown whole in its new column, focused, however the board was scrolled."""
    identifier = make_ticket(page, api_token, unique("Scrolled mover"))
    card = f"card-{identifier}"
    open_board(page)
    page.locator(f"#{card} > a").focus()
    scroll_board_to_the_end(page)
    assert not shown_whole(page, f"#{card}")

    page.keyboard.press("m")
    page.keyboard.press("5")
    expect(page.locator(f"#cards-blocked > #{card}")).to_be_visible()
    expect_focus_on(page, card)
    page.wait_for_function("id => document.getElementById(id)?.getBoundingClientRect().top >= 0", arg=card)
    assert shown_whole(page, f"#{card}"), page.locator(f"#{card}").bounding_box()

    page.locator("#board-columns").evaluate("b => b.scrollTo(0, b.scrollHeight)")
    assert not shown_whole(page, f"#{card}")
    page.keyboard.press("]")
    expect(page.locator(f"#cards-done > #{card}")).to_be_visible()
    expect_focus_on(page, card)
    page.wait_for_function("id => document.getElementById(id)?.getBoundingClientRect().top >= 0", arg=card)
    assert shown_whole(page, f"#{card}"), page.locator(f"#{card}").bounding_box()
    assert real_errors(console_errors) == []


def test_six_columns_fit_and_their_headers_stay_in_view(page: Page, console_errors: list[str]) -> None:
    """At 1280 px every column shows, Done's header whole; scrolled down a long board, the headers stay on top;
    card titles read at 14-15 px, not bold."""
    open_board(page)
    headers = page.locator(".column h2")
    expect(headers).to_have_count(6)
    for status in ("backlog", "todo", "in_progress", "review", "blocked", "done"):
        assert shown_whole(page, f"#col-{status}-title"), status
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 1280

    for key in ["j"] * 25:  # down the Backlog by keyboard, far past the first screen
        page.keyboard.press(key)
    assert page.locator("#board-columns").evaluate("b => b.scrollTop") > 500
    for status in ("backlog", "done"):
        assert shown_whole(page, f"#col-{status}-title"), f"{status} header after scrolling"
    focused = focused_card(page)
    assert focused and shown_whole(page, f"#{focused}"), "the focused card is not under the sticky header"

    size, weight = page.locator("li.card > a").first.evaluate(
        "a => [parseFloat(getComputedStyle(a).fontSize), Number(getComputedStyle(a).fontWeight)]"
    )
    assert 14 <= size <= 15 and 500 <= weight <= 600, (size, weight)
    assert real_errors(console_errors) == []


def test_move_a_card_by_dragging(page: Page, api_token: str, console_errors: list[str]) -> None:
    """Dragging a card with the mouse into another column moves it there, and it stays there after a reload."""
    identifier = make_ticket(page, api_token, unique("Dragged card"))
    card = f"card-{identifier}"
    open_board(page)
    target = page.locator("#cards-in_progress > li.card").nth(1)
    target.scroll_into_view_if_needed()
    with page.expect_response(lambda r: r.url.endswith(f"/ticket/{identifier}/move") and r.ok):
        page.locator(f"#{card}").drag_to(target)
    expect(page.locator(f"#cards-in_progress > #{card}")).to_be_visible()
    expect(page.locator(f"#cards-backlog > #{card}")).to_have_count(0)
    expect(page.locator("#board-status")).to_have_text(f"{identifier} moved to In progress.")
    dropped = card_ids(page, "in_progress")
    # It lands where it was dropped (next to the card it was dropped on), not on top of the column.
    assert dropped.index(card) in (1, 2), dropped[:4]
    expect_focus_on(page, card)

    page.reload()
    expect(page.locator(f"#cards-in_progress > #{card}")).to_be_visible()
    expect(page.locator(f"#cards-backlog > #{card}")).to_have_count(0)
    assert card_ids(page, "in_progress") == dropped

    # The swapped-in columns take drops too: onto the top card of Review.
    with page.expect_response(lambda r: r.url.endswith(f"/ticket/{identifier}/move") and r.ok):
        page.locator(f"#{card}").drag_to(page.locator("#cards-review > li.card").first)
    expect(page.locator(f"#cards-review > #{card}")).to_be_visible()
    with page.expect_response(lambda r: r.url.endswith(f"/ticket/{identifier}/move") and r.ok):
        page.locator(f"#{card}").drag_to(page.locator("#cards-blocked > li.card").first)
    expect(page.locator(f"#cards-blocked > #{card}")).to_be_visible()
    expect(page.locator(f"#cards-review > #{card}")).to_have_count(0)
    assert real_errors(console_errors) == []


def test_create_a_ticket_with_c(page: Page, console_errors: list[str]) -> None:
    """c opens the New ticket form in a dialog; Enter creates the card in Backlog, focused and auto-tagged."""
    title = unique("Fix flaky widget in test")
    open_board(page)
    page.keyboard.press("c")
    dialog = page.locator("#mc-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_have_attribute("aria-label", "New ticket")
    expect(dialog.get_by_role("heading", level=1)).to_have_text("New ticket")
    assert page.evaluate("() => document.activeElement.id") == "new-title"

    page.keyboard.type(title)
    page.keyboard.press("Enter")
    expect(dialog).to_be_hidden()
    card = page.locator("#cards-backlog > li.card", has_text=title)
    expect(card).to_have_count(1)
    card_id = card.get_attribute("id")
    assert card_id
    expect_focus_on(page, card_id)
    expect(card.locator(".tag")).to_have_text(["bug"])
    expect(page.locator("#board-status")).to_have_text(f"Created {card_id.removeprefix('card-')}.")

    # From a focused card, c makes the ticket in that card's column.
    page.locator("#cards-todo > li.card > a").first.focus()
    page.keyboard.press("c")
    expect(dialog).to_be_visible()
    expect(page.locator("#new-status")).to_have_value("todo")
    other = unique("Research the todo column")
    page.keyboard.type(other)
    page.keyboard.press("Enter")
    expect(dialog).to_be_hidden()
    expect(page.locator("#cards-todo > li.card", has_text=other)).to_have_count(1)

    # An empty title is refused inside the dialog, focus stays in the field, and nothing is created.
    open_board(page)
    before = column_count(page, "backlog")
    page.keyboard.press("c")
    expect(dialog).to_be_visible()
    assert page.evaluate("() => document.activeElement.id") == "new-title"
    with page.expect_response(lambda r: r.url.endswith("/tickets") and r.status == 422):
        page.keyboard.press("Enter")
    expect(dialog.locator("#new-title-error")).to_have_text("A ticket needs a title.")
    expect(dialog).to_be_visible()
    expect(dialog.locator("#new-title")).to_have_attribute("aria-invalid", "true")
    expect(dialog.locator("#new-title")).to_be_focused()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    open_board(page)
    assert column_count(page, "backlog") == before
    assert unexpected(console_errors) == []


def test_ctrl_enter_creates_from_the_description(page: Page, console_errors: list[str]) -> None:
    """In the create dialog, Ctrl+Enter in the description creates the ticket (Enter there is a new line)."""
    title = unique("Made with Ctrl Enter")
    open_board(page)
    page.keyboard.press("c")
    dialog = page.locator("#mc-dialog")
    expect(page.locator("#new-title")).to_be_focused()
    page.keyboard.type(title)
    page.locator("#new-description").focus()
    page.keyboard.type("First line")
    page.keyboard.press("Enter")
    page.keyboard.type("second line")
    expect(dialog).to_be_visible()  # a plain Enter in the description only began a new line
    page.keyboard.press("Control+Enter")
    expect(dialog).to_be_hidden()
    card = page.locator("#cards-backlog > li.card", has_text=title)
    expect(card).to_have_count(1)
    card_id = card.get_attribute("id")
    assert card_id
    expect_focus_on(page, card_id)
    page.locator(f"#{card_id} > a").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    expect(page.locator(".description")).to_contain_text("second line")
    assert unexpected(console_errors) == []


def settled(page: Page) -> None:
    """Wait until no htmx request, swap or settle is under way (the filtered board is in)."""
    page.wait_for_function("() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')")


def test_escape_in_the_filter_shows_the_whole_board_at_a_clean_url(
    page: Page, server: Server, console_errors: list[str]
) -> None:
    """Words typed in the filter go into the URL; Esc empties the field, shows every card and leaves /board."""
    open_board(page)
    before = card_ids(page, "backlog")
    page.keyboard.press("/")
    with page.expect_response(lambda r: "/board?" in r.url and "q=widget" in r.url):
        page.keyboard.type("widget")
    expect(page).to_have_url(f"{server.base_url}/board?q=widget")  # only what was typed: no empty filters
    settled(page)
    assert card_ids(page, "backlog") != before

    with page.expect_response(lambda r: r.url.split("?")[0].endswith("/board") and r.ok):
        page.keyboard.press("Escape")
    expect(page.locator("#board-q")).to_have_value("")
    expect(page).to_have_url(f"{server.base_url}/board")
    page.wait_for_function("n => document.querySelectorAll('#cards-backlog > li.card').length === n", arg=len(before))
    assert card_ids(page, "backlog") == before
    assert page.evaluate("() => document.activeElement.id") != "board-q"  # Esc also leaves the field

    # A filter chosen from a list keeps only itself in the URL.
    page.locator("#board-assignee").select_option("alex")
    expect(page).to_have_url(f"{server.base_url}/board?assignee=alex")
    assert real_errors(console_errors) == []


def column_count(page: Page, status: str) -> int:
    """The number of tickets a column's heading says it holds."""
    text = page.locator(f"#col-{status} h2 .count").inner_text()
    found = re.match(r"\s*(\d+)", text)
    assert found, text
    return int(found[1])


def palette_options(page: Page) -> list[str]:
    """The palette's options as a person reads them, in order."""
    return [" ".join(text.split()) for text in page.locator("#palette-list [role=option]").all_inner_texts()]


def test_command_palette(page: Page, server: Server, api_token: str, console_errors: list[str]) -> None:
    """Ctrl+K finds a ticket by identifier and opens it; with a card focused it runs a move; Esc and ? work."""
    title = unique("Palette target")
    identifier = make_ticket(page, api_token, title)
    card = f"card-{identifier}"
    open_board(page)
    dialog = page.locator("#mc-dialog")

    page.keyboard.press("Control+k")
    expect(dialog).to_be_visible()
    expect(dialog).to_have_attribute("aria-label", "Command palette")
    expect(page.locator("#search-q")).to_be_focused()
    with page.expect_response(lambda r: "/palette?" in r.url and identifier in r.url):
        page.keyboard.type(identifier)
    expect(page.locator("#palette-list [role=option]").first).to_contain_text(f"{identifier} {title}")
    expect(page.locator("#search-q")).to_be_focused()
    # The first option is highlighted as it comes; the arrows move the highlight and wrap around.
    expect(page.locator("#palette-list [role=option]").first).to_have_attribute("aria-selected", "true")
    expect(page.locator("#search-q")).to_have_attribute("aria-activedescendant", f"opt-t-{identifier}")
    page.keyboard.press("ArrowDown")
    expect(page.locator("#palette-list [role=option]").first).to_have_attribute("aria-selected", "false")
    page.keyboard.press("ArrowUp")
    expect(page.locator("#palette-list [role=option]").first).to_have_attribute("aria-selected", "true")
    expect(page.locator("#search-q")).to_have_attribute("aria-activedescendant", f"opt-t-{identifier}")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{server.base_url}/ticket/{identifier}")
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    expect(dialog).to_have_count(0)

    # With a card focused the palette offers actions on it; Enter runs the first match.
    open_board(page)
    page.locator(f"#{card} > a").focus()
    page.keyboard.press("Control+k")
    expect(page.locator("#search-q")).to_be_focused()
    with page.expect_response(lambda r: "/palette?" in r.url and "q=review" in r.url):
        page.keyboard.type("review")
    expect(page.locator("#palette-list [role=option]").first).to_have_text(f"Move {identifier} to Review")
    assert f"Set {identifier} priority to Urgent" not in palette_options(page)  # only what matches "review"
    page.keyboard.press("Enter")
    expect(page.locator(f"#cards-review > #{card}")).to_be_visible()
    expect(dialog).to_be_hidden()
    expect(page.locator("#board-status")).to_have_text(f"{identifier} moved to Review.")
    expect_focus_on(page, card)
    assert page.url == f"{server.base_url}/board"

    # Esc closes the palette (also with something typed) and puts focus back on the card.
    for typed in ("", "zz"):
        page.keyboard.press("Control+k")
        expect(page.locator("#search-q")).to_be_focused()
        page.keyboard.type(typed)
        page.keyboard.press("Escape")
        expect(dialog).to_be_hidden()
        expect_focus_on(page, card)

    # Ctrl+K pressed again inside the palette keeps the card it was opened from, and where Esc returns to.
    page.keyboard.press("Control+k")
    expect(page.locator("#search-q")).to_be_focused()
    with page.expect_response(lambda r: "/palette?" in r.url):
        page.keyboard.press("Control+k")
    expect(page.locator("#search-q")).to_be_focused()
    with page.expect_response(lambda r: "/palette?" in r.url and "q=blocked" in r.url):
        page.keyboard.type("blocked")
    expect(page.locator("#palette-list [role=option]").first).to_have_text(f"Move {identifier} to Blocked")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect_focus_on(page, card)

    # ? opens the keyboard help.
    page.keyboard.press("?")
    expect(dialog).to_be_visible()
    expect(dialog).to_have_attribute("aria-label", "Keyboard shortcuts")
    expect(dialog.get_by_role("heading", level=1)).to_have_text("Keyboard shortcuts")
    expect(dialog).to_contain_text("Command palette")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect_focus_on(page, card)
    assert real_errors(console_errors) == []


def test_g_sequences_go_to_pages(page: Page, server: Server, console_errors: list[str]) -> None:
    """g then a, o or b goes to Activity, Overview or the Board; a lone a does nothing."""
    open_board(page)
    for keys, path, heading in (("ga", "/activity", "Activity"), ("go", "/", "Overview"), ("gb", "/board", "Board")):
        page.keyboard.press(keys[0])
        page.keyboard.press(keys[1])
        page.wait_for_url(f"{server.base_url}{path}")
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        expect(page.locator(".mainnav a[aria-current='page']")).to_have_attribute("href", path)
    page.keyboard.press("a")  # no g before it: stays on the board
    page.wait_for_timeout(200)
    assert page.url == f"{server.base_url}/board"
    assert real_errors(console_errors) == []


def long_press_drag(page: Page, start: tuple[float, float], end: tuple[float, float]) -> None:
    """A finger holds at `start` past SortableJS's touch delay, then slides to `end` and lifts (CDP touch events:
    Playwright's touchscreen can only tap)."""
    cdp = page.context.new_cdp_session(page)

    def touch(kind: str, x: float, y: float) -> None:
        points = [] if kind == "touchEnd" else [{"x": x, "y": y}]
        cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})

    touch("touchStart", *start)
    page.wait_for_timeout(400)  # the app asks for a 180 ms press before a drag starts
    steps = 12
    for i in range(1, steps + 1):
        touch("touchMove", start[0] + (end[0] - start[0]) * i / steps, start[1] + (end[1] - start[1]) * i / steps)
        page.wait_for_timeout(30)
    page.wait_for_timeout(150)
    touch("touchEnd", *end)
    cdp.detach()


def test_phone_board_with_touch(
    new_context: ContextFactory, server: Server, api_token: str, console_errors: list[str]
) -> None:
    """On a phone: the column tabs scroll the board, nothing overflows, cards are tappable and draggable by a long
    press, and the create form works by tapping."""
    page = new_context(**PHONE).new_page()
    watch_console(page, console_errors)
    lower = make_ticket(page, api_token, unique("Touch lower"))
    upper = make_ticket(page, api_token, unique("Touch upper"))  # the newer card is on top
    open_board(page)
    assert card_ids(page, "backlog")[:2] == [f"card-{upper}", f"card-{lower}"]

    # A long press then a slide puts the top card below the other one; the order is kept.
    source = page.locator(f"#card-{upper}").bounding_box()
    target = page.locator(f"#card-{lower}").bounding_box()
    assert source and target
    x = source["x"] + source["width"] / 2
    with page.expect_response(lambda r: r.url.endswith(f"/ticket/{upper}/move") and r.ok):
        long_press_drag(page, (x, source["y"] + source["height"] / 2), (x, target["y"] + target["height"] * 0.9))
    expect(page.locator("#board-status")).to_have_text(f"{upper} placed below {lower} in Backlog.")
    assert card_ids(page, "backlog")[:2] == [f"card-{lower}", f"card-{upper}"]
    open_board(page)
    assert card_ids(page, "backlog")[:2] == [f"card-{lower}", f"card-{upper}"]

    tabs = page.locator("nav.column-tabs a")
    expect(tabs).to_have_count(6)
    review_tab = tabs.filter(has_text="Review")
    expect(review_tab).to_be_visible()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 376

    review_tab.tap()
    page.wait_for_function(
        "() => { const x = document.getElementById('col-review').getBoundingClientRect().x; return x >= 0 && x < 375; }"
    )
    expect(review_tab).to_have_attribute("aria-current", "true")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 376
    heights = page.locator("li.card > a").evaluate_all("links => links.map(a => a.getBoundingClientRect().height)")
    assert heights and min(heights) >= 44, min(heights)

    first = page.locator("#cards-review > li.card").first
    identifier = (first.get_attribute("id") or "").removeprefix("card-")
    title = card_title(page, f"card-{identifier}")
    first.locator("a").tap()
    page.wait_for_url(f"{server.base_url}/ticket/{identifier}")
    expect(page.get_by_role("heading", level=1)).to_have_text(title)

    open_board(page)
    new_ticket = page.locator("#new-ticket")
    box = new_ticket.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= 375 and box["height"] >= 44, box
    new_ticket.tap()
    page.wait_for_url(re.compile(r"/tickets/new"))
    expect(page.get_by_role("heading", level=1)).to_have_text("New ticket")
    title = unique("Phone made this")
    page.locator("#new-title").fill(title)
    page.get_by_role("button", name="Create ticket").tap()
    page.wait_for_url(re.compile(r"/ticket/MC-\d+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 376
    assert real_errors(console_errors) == []


def test_a_named_page_comes_first_in_the_palette(page: Page, server: Server, console_errors: list[str]) -> None:
    """Typing a page's name puts that page first and highlighted, above tickets that mention it; Enter goes there."""
    open_board(page)
    page.keyboard.press("Control+k")
    expect(page.locator("#search-q")).to_be_focused()
    with page.expect_response(lambda r: "/palette?" in r.url and "q=activity" in r.url):
        page.keyboard.type("activity")
    options = page.locator("#palette-list [role=option]")
    expect(options.first).to_have_text("Go to Activity")
    expect(options.first).to_have_attribute("aria-selected", "true")
    expect(page.locator("#search-q")).to_have_attribute("aria-activedescendant", "opt-p-1")
    assert any(text.startswith("MC-") for text in palette_options(page)[1:]), "tickets mentioning it come after"
    assert page.locator("#palette-list [aria-selected=true]").count() == 1
    page.keyboard.press("Enter")
    page.wait_for_url(f"{server.base_url}/activity")
    expect(page.get_by_role("heading", level=1)).to_have_text("Activity")
    assert real_errors(console_errors) == []


def test_phone_column_tabs_keep_their_place(
    new_context: ContextFactory, server: Server, console_errors: list[str]
) -> None:
    """On a phone, tapping a column tab shows that column from its top, without moving the page: the tabs stay."""
    page = new_context(**PHONE).new_page()
    watch_console(page, console_errors)
    open_board(page)
    tabs = page.locator("nav.column-tabs")
    assert shown_whole(page, "nav.column-tabs")
    page_y = page.evaluate("() => scrollY")
    page.locator("#board-columns").evaluate("b => b.scrollTo(0, 2000)")  # reading far down the Backlog

    for label, status in (("Review", "review"), ("Done", "done"), ("Backlog", "backlog")):
        tab = tabs.get_by_role("link", name=re.compile(rf"^{label}\b"))
        tab.tap()
        expect(tab).to_have_attribute("aria-current", "true")
        page.wait_for_function(
            "s => { const r = document.getElementById('col-' + s).getBoundingClientRect(); "
            "const b = document.getElementById('board-columns').getBoundingClientRect(); "
            "return Math.abs(r.left - b.left) < 2 && Math.abs(r.top - b.top) < 2; }",
            arg=status,
        )
        assert page.evaluate("() => scrollY") == page_y, f"the page moved after tapping {label}"
        assert shown_whole(page, "nav.column-tabs"), f"the tabs went out of sight after tapping {label}"
        assert shown_whole(page, f"#col-{status}-title")
        assert page.url == f"{server.base_url}/board"
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 375

    # Swiping the board sideways marks the tab of the column that comes into view.
    page.locator("#board-columns").evaluate("b => b.scrollTo({left: document.getElementById('slot-todo').offsetLeft})")
    expect(tabs.get_by_role("link", name=re.compile(r"^To do\b"))).to_have_attribute("aria-current", "true")
    assert real_errors(console_errors) == []


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_board_and_ticket_pages_have_no_serious_axe_violations(
    new_context: ContextFactory, scheme: str, console_errors: list[str]
) -> None:
    """The board, its create dialog and palette, the keys page and a ticket: no serious or critical violations."""
    # bypass_csp: axe is injected as an inline script, which the app's CSP (rightly) refuses.
    page = new_context(color_scheme=scheme, bypass_csp=True, viewport={"width": 1280, "height": 800}).new_page()
    watch_console(page, console_errors)
    found: list[str] = []
    open_board(page)
    found += serious_violations(page, "/board")

    page.keyboard.press("c")
    expect(page.locator("#new-title")).to_be_focused()
    found += serious_violations(page, "/board with the create dialog")
    page.keyboard.press("Enter")  # the empty title's error message is part of the dialog too
    expect(page.locator("#new-title-error")).to_be_visible()
    found += serious_violations(page, "/board with the create dialog's error")
    page.keyboard.press("Escape")

    page.keyboard.press("j")
    page.keyboard.press("Control+k")
    expect(page.locator("#search-q")).to_be_focused()
    page.keyboard.press("ArrowDown")
    found += serious_violations(page, "/board with the palette")
    page.keyboard.press("Escape")

    page.keyboard.press("?")
    expect(page.locator("#mc-dialog")).to_contain_text("Command palette")
    found += serious_violations(page, "/board with the keys help")
    page.keyboard.press("Escape")

    for path in ("/keys", "/tickets/new", "/search?q=review", page.locator("li.card > a").first.get_attribute("href")):
        assert path
        response = page.goto(path)
        assert response is not None and response.ok, path
        found += serious_violations(page, path)
    assert not found, f"{scheme} scheme:\n" + "\n".join(found)
    assert unexpected(console_errors) == []


def test_board_works_without_javascript(new_context: ContextFactory, server: Server, console_errors: list[str]) -> None:
    """Without JavaScript the board shows cards, filters by a plain GET, loads more, and creates tickets."""
    page = new_context(java_script_enabled=False).new_page()
    watch_console(page, console_errors)
    page.goto("/board")
    expect(page.get_by_role("heading", level=1)).to_have_text("Board")
    assert page.locator("#cards-backlog > li.card").count() >= 10

    page.locator("#board-assignee").select_option("alex")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url(re.compile(r"/board\?.*assignee=alex"))
    expect(page.locator("#board-assignee")).to_have_value("alex")
    who = page.locator("li.card .who").all_inner_texts()
    assert who and set(who) == {"alex"}, set(who)
    assert page.locator("li.card").count() == len(who)
    expect(page.get_by_role("link", name="Clear filters")).to_be_visible()

    page.goto("/board")
    shown = card_ids(page, "done")
    more = page.locator("#cards-done .more a")
    expect(more).to_have_text("Load more")
    more.click()
    page.wait_for_url(re.compile(r"/board/columns/done\?"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Done: more cards")
    next_cards = card_ids(page, "done")
    assert len(next_cards) >= 10 and not set(next_cards) & set(shown)

    page.goto("/board")
    page.get_by_role("link", name="New ticket").click()
    page.wait_for_url(f"{server.base_url}/tickets/new?status=backlog")
    title = unique("Added without scripts")
    page.get_by_label("Title").fill(title)
    page.locator("#new-priority").select_option("2")
    page.get_by_role("button", name="Create ticket").click()
    page.wait_for_url(re.compile(r"/ticket/MC-\d+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    identifier = page.url.rsplit("/", 1)[-1]
    page.goto("/board")
    expect(page.locator(f"#cards-backlog > #card-{identifier}")).to_contain_text("High")

    # An empty title comes back as the form page with the message.
    page.goto("/tickets/new")
    page.get_by_role("button", name="Create ticket").click()
    expect(page.locator("#new-title-error")).to_have_text("A ticket needs a title.")
    assert unexpected(console_errors) == []

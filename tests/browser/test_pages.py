"""What a person sees and does in a real browser: logging in, keyboard and phone use, accessibility, comments."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from app.frame import NAV

from .conftest import ContextFactory, Server, real_errors, serious_violations

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
COLUMNS = ("Backlog", "To do", "In progress", "Review", "Blocked", "Done")
NAV_PAGES = tuple(href for href, _ in NAV)  # /, /board, /activity … /f1, /apps
MISSING_TICKET = "/ticket/MC-999999"
PHONE: dict[str, Any] = {"viewport": {"width": 375, "height": 812}, "is_mobile": True, "has_touch": True}


def active_text(page: Page) -> str:
    """The visible text of the element that has keyboard focus."""
    return str(page.evaluate("() => (document.activeElement?.innerText ?? '').trim()"))


def tab_to(page: Page, label: str, key: str = "Tab", limit: int = 60) -> None:
    """Press `key` (Tab or Shift+Tab) until the focused element's text is `label`."""
    seen = []
    for _ in range(limit):
        page.keyboard.press(key)
        text = active_text(page)
        if text == label:
            return
        seen.append(text)
    pytest.fail(f"{key} never reached {label!r}; focus went through {seen}")


def first_card_href(page: Page) -> str:
    """The ticket address of the first card on the board."""
    page.goto("/board")
    href = page.locator("li.card > a").first.get_attribute("href")
    assert href and href.startswith("/ticket/"), href
    return href


def test_login_link_logs_in_and_shows_the_board(new_context: ContextFactory, server: Server) -> None:
    """A logged-out visit to the board asks for a token; typing one and pressing Enter shows the board."""
    page = new_context(logged_in=False).new_page()
    page.goto("/board")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fboard$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"^Log in"))

    page.get_by_label("Token").focus()
    page.keyboard.type(server.token("admin"))
    page.keyboard.press("Enter")

    page.wait_for_url(f"{server.base_url}/board")
    expect(page.get_by_role("heading", level=1)).to_have_text("Board")
    headings = [h.inner_text().strip() for h in page.locator(".column h2 > span:first-child").all()]
    assert headings == list(COLUMNS)
    assert page.locator("#col-done .card").count() >= 30
    for status in ("backlog", "todo", "in_progress"):
        assert page.locator(f"#col-{status} .card").count() > 0, f"no cards in {status}"


def test_keyboard_alone_moves_through_navigation(page: Page, server: Server, console_errors: list[str]) -> None:
    """Tab reaches the skip link first, then the navigation; Enter on a nav link opens that page."""
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Overview")
    page.keyboard.press("Tab")
    assert active_text(page) == "Skip to content"
    page.keyboard.press("Tab")
    assert active_text(page) == "Mission Control"
    page.keyboard.press("Tab")
    assert active_text(page) == "Overview"
    assert page.evaluate("() => document.activeElement.closest('nav')?.getAttribute('aria-label')") == "Main"

    key = "Tab"
    for href, label, heading in (
        ("/board", "Board", "Board"),
        ("/activity", "Activity", "Activity"),
        ("/tasks", "Tasks", "Tasks"),
        ("/team", "Team", "Team"),
        ("/logs", "Logs", "Logs"),
        ("/f1", "F1", "F1"),
        ("/", "Overview", "Overview"),
    ):
        tab_to(page, label, key)
        page.keyboard.press("Enter")
        page.wait_for_url(f"{server.base_url}{href}")
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        expect(page).to_have_title(re.compile(rf"^{heading} · Mission Control$"))
        current = page.locator(".mainnav a[aria-current='page']")
        expect(current).to_have_count(1)
        expect(current).to_have_text(label)
        expect(current).to_have_attribute("href", href)
        # A boosted navigation moves focus to the page's main region; the nav is then behind it.
        assert page.evaluate("() => document.activeElement.id") == "main"
        key = "Shift+Tab"
    assert real_errors(console_errors) == []


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_every_page_has_no_serious_axe_violations(new_context: ContextFactory, scheme: str) -> None:
    """Every page, a ticket, the login form and a 404 have no serious or critical axe violations."""
    # bypass_csp: axe is injected as an inline script, which the app's CSP (rightly) refuses.
    page = new_context(color_scheme=scheme, bypass_csp=True).new_page()
    paths = [*NAV_PAGES, first_card_href(page), MISSING_TICKET]
    found: list[str] = []
    for path in paths:
        response = page.goto(path)
        assert response is not None
        assert response.status == (404 if path == MISSING_TICKET else 200), f"{path}: {response.status}"
        found += serious_violations(page)
    login = new_context(logged_in=False, color_scheme=scheme, bypass_csp=True).new_page()
    login.goto("/login")
    found += serious_violations(login)
    assert not found, f"{scheme} scheme:\n" + "\n".join(found)


def test_phone_viewport_shows_the_board_and_nav(new_context: ContextFactory, server: Server) -> None:
    """On a phone the page does not scroll sideways, cards are big enough to tap, and a tap opens one."""
    page = new_context(**PHONE).new_page()
    page.goto("/board")
    expect(page.get_by_role("heading", level=1)).to_have_text("Board")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 375 + 1
    # The columns scroll sideways inside the board; the nav is a menu (tests/browser/test_nav.py).
    assert page.evaluate("() => document.querySelector('.board').scrollWidth") > 375
    menu = page.locator("#navmenu > summary")
    expect(menu).to_be_visible()
    menu_box = menu.bounding_box()
    assert menu_box is not None and menu_box["x"] >= 0 and menu_box["x"] + menu_box["width"] <= 375 + 1

    card = page.locator("li.card > a").first
    box = card.bounding_box()
    assert box is not None and box["height"] >= 44, box
    identifier = card.locator("small").inner_text().strip()
    title = card.inner_text().strip().removeprefix(identifier).strip()
    card.tap()
    page.wait_for_url(f"{server.base_url}/ticket/{identifier}")
    expect(page.locator(".ticket-id")).to_have_text(re.compile(rf"^{identifier}\b"))
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 375 + 1


def test_screenshot_of_board_for_readme(new_context: ContextFactory) -> None:
    """Save the README's screenshots of the demo board: docs/board.png and docs/board-phone.png."""
    DOCS.mkdir(exist_ok=True)
    for name, options in (
        ("board.png", {"viewport": {"width": 1400, "height": 900}}),
        ("board-phone.png", PHONE),
    ):
        page = new_context(**options).new_page()
        page.goto("/board")
        expect(page.locator("#col-done .card").first).to_be_visible()
        page.screenshot(path=str(DOCS / name))
        assert (DOCS / name).stat().st_size > 10_000


def test_comment_composer_appends_without_reload(page: Page, console_errors: list[str]) -> None:
    """A markdown comment appears under the others at once: bold rendered, script inert, box emptied."""
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(first_card_href(page))
    comments = page.locator("#timeline > li.comment")
    before = comments.count()
    scripts_before = page.locator("#timeline script").count()
    page.evaluate("() => { window.__noReload = 'still here'; }")

    box = page.get_by_label("Add a comment (markdown)")
    box.click()
    page.keyboard.type("Checked the logs: **bold claim** <script>alert(1)</script> done.")
    page.get_by_role("button", name="Comment").click()

    expect(comments).to_have_count(before + 1)
    new = comments.last
    expect(new.locator(".prose strong")).to_have_text("bold claim")
    expect(new).to_contain_text("<script>alert(1)</script>")
    assert page.evaluate("() => window.__noReload") == "still here"
    assert page.locator("#timeline script").count() == scripts_before == 0
    expect(box).to_have_value("")
    expect(page.locator("#no-comments")).to_have_count(0)
    page.wait_for_timeout(200)  # an injected script would have run by now
    assert dialogs == []
    assert real_errors(console_errors) == []


def test_the_ticket_page_saves_fields_as_they_change_and_answers_its_keys(
    page: Page, console_errors: list[str]
) -> None:
    """Properties save on change and say so; 1-4, [ ], m+digit, a, e, r and Esc work on the ticket page."""
    href = first_card_href(page)
    page.goto(href)
    assert page.evaluate("() => typeof Sortable") == "undefined", "the drag library is for the board only"
    expect(page.locator(".props-save")).to_be_hidden()  # each field saves itself: no Save needed
    page.select_option("#edit-priority", "2")
    expect(page.locator("#saved-priority")).to_have_text("Saved")
    page.reload()
    expect(page.locator("#edit-priority")).to_have_value("2")

    page.locator("body").click(position={"x": 5, "y": 300})  # nothing focused: keys go to the page
    page.keyboard.press("1")
    expect(page.locator("#saved-priority")).to_be_visible()
    expect(page.locator("#edit-priority")).to_have_value("1")
    page.keyboard.press("m")
    expect(page.locator("#ticket-note")).to_contain_text("Move to which column?")
    page.keyboard.press("4")
    expect(page.locator("#edit-status")).to_have_value("review")
    expect(page.locator("#saved-status")).to_be_visible()
    expect(page.locator(".ticket-id .status")).to_have_text("Review")
    page.keyboard.press("]")
    expect(page.locator("#edit-status")).to_have_value("blocked")
    expect(page.locator(".ticket-id .status")).to_have_text("Blocked")
    page.keyboard.press("[")
    page.keyboard.press("e")  # at once: the answer to "[" lands after the box opened, and must leave it be
    expect(page.locator("#edit-status")).to_have_value("review")
    expect(page.locator(".ticket-id .status")).to_have_text("Review")
    expect(page.locator("#edit-box")).to_have_attribute("open", "")
    expect(page.locator("#edit-title")).to_be_focused()
    page.keyboard.press("Escape")
    expect(page.locator("#edit-box")).not_to_have_attribute("open", "")

    page.keyboard.press("a")
    expect(page.locator("#edit-assignee")).to_be_focused()
    page.keyboard.press("Escape")
    page.keyboard.press("r")
    expect(page.locator("#comment-body")).to_be_focused()
    assert real_errors(console_errors) == []


def test_the_ticket_page_on_a_phone_puts_the_header_and_properties_first(new_context: ContextFactory) -> None:
    """At 375 px nothing scrolls sideways, the properties come right after the header, before the conversation."""
    page = new_context(**PHONE, bypass_csp=True).new_page()  # axe is injected as an inline script
    href = first_card_href(page)
    page.goto(href)
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 375, f"the page is {width} px wide"
    props = page.locator("#ticket-properties").bounding_box()
    runs = page.locator("#conversation").bounding_box()
    assert props and runs and props["y"] < runs["y"]
    assert props["y"] < 812 * 1.5, "the properties are near the top"
    assert serious_violations(page, href) == []

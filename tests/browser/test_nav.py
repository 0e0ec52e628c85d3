"""The main navigation in a real browser: a bar on a wide screen, a menu on a phone (also without JavaScript),
and no page wider than a phone."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from app.frame import NAV

from .conftest import ContextFactory, Server, real_errors, serious_violations, shown_whole, watch_console

pytestmark = pytest.mark.browser

PHONE: dict[str, Any] = {"viewport": {"width": 375, "height": 812}, "is_mobile": True, "has_touch": True}
NAV_PAGES = tuple(href for href, _ in NAV)
MORE_PAGES = ("/search", "/search?q=review", "/keys", "/tickets/new")


def menu_button(page: Page) -> Any:
    """The menu's summary: what a person taps to open the nav on a phone."""
    return page.locator("#navmenu > summary")


def test_wide_screen_shows_the_nav_as_one_bar(page: Page, console_errors: list[str]) -> None:
    """At 1280 px every page's link is in the bar, in one row, all inside the window; there is no menu button."""
    page.goto("/activity")
    expect(menu_button(page)).to_be_hidden()
    links = page.locator("nav[aria-label=Main] a")
    expect(links).to_have_count(len(NAV))
    tops = set()
    for href, label in NAV:
        link = page.locator(f'nav[aria-label=Main] a[href="{href}"]')
        expect(link).to_have_text(label)
        assert shown_whole(page, f'nav[aria-label=Main] a[href="{href}"]'), label
        box = link.bounding_box()
        assert box is not None
        tops.add(round(box["y"]))
    assert len(tops) == 1, f"the bar wraps at 1280 px: rows at {sorted(tops)}"
    expect(page.locator("nav[aria-label=Main] a[aria-current=page]")).to_have_text("Activity")
    assert real_errors(console_errors) == []


@pytest.mark.parametrize("width", [900, 1024, 1199])
def test_between_a_phone_and_a_wide_screen_the_nav_is_the_menu_not_two_rows(
    new_context: ContextFactory, width: int
) -> None:
    """Thirteen pages fit in one row from about 1180 px; narrower, they wrapped to a second row of the bar, so up to
    1199 px the nav is the menu, closed, naming the page, and the bar is one row high."""
    page = new_context(viewport={"width": width, "height": 800}).new_page()
    page.goto("/activity")
    expect(menu_button(page)).to_be_visible()
    expect(menu_button(page)).to_contain_text("Activity")
    expect(page.locator("nav[aria-label=Main] a").first).to_be_hidden()
    bar = page.locator(".topbar").bounding_box()
    assert bar is not None and bar["height"] < 70, f"the bar is {bar} at {width} px"
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")


def test_phone_menu_opens_names_the_page_and_its_links_work(
    new_context: ContextFactory, server: Server, console_errors: list[str]
) -> None:
    """At 375 px the nav is one button naming the page; tapped, it lists every page; a link opens its page, whose
    name the button then shows; Esc closes the menu and returns to its button."""
    page = new_context(**PHONE).new_page()
    watch_console(page, console_errors)
    page.goto("/board")
    button = menu_button(page)
    expect(button).to_have_text("Menu: Board")  # "Menu:" is for screen readers; the eye sees ☰ Board
    assert shown_whole(page, "#navmenu > summary")
    expect(page.locator("nav[aria-label=Main]")).to_be_hidden()

    button.tap()
    for href, label in NAV:
        assert shown_whole(page, f'nav[aria-label=Main] a[href="{href}"]'), label
    expect(page.locator("nav[aria-label=Main] a[aria-current=page]")).to_have_text("Board")
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 375

    page.locator("nav[aria-label=Main]").get_by_role("link", name="Team").tap()
    page.wait_for_url(f"{server.base_url}/team")
    expect(page.get_by_role("heading", level=1)).to_have_text("Team")
    expect(menu_button(page)).to_have_text("Menu: Team")
    expect(page.locator("nav[aria-label=Main]")).to_be_hidden()  # the new page starts with the menu closed

    # The keyboard: Enter opens it, Tab reaches the links, Esc closes it and focus is back on the button.
    menu_button(page).focus()
    page.keyboard.press("Enter")
    expect(page.locator("#navmenu")).to_have_attribute("open", "")
    page.keyboard.press("Tab")
    expect(page.locator("nav[aria-label=Main] a").first).to_be_focused()
    page.keyboard.press("Escape")
    expect(page.locator("nav[aria-label=Main]")).to_be_hidden()
    expect(menu_button(page)).to_be_focused()

    # A tap outside the open menu closes it.
    menu_button(page).tap()
    expect(page.locator("nav[aria-label=Main]")).to_be_visible()
    page.touchscreen.tap(187, 790)  # near the bottom of the window, below the menu
    expect(page.locator("nav[aria-label=Main]")).to_be_hidden()
    assert real_errors(console_errors) == []


def test_phone_menu_works_without_javascript(new_context: ContextFactory, server: Server) -> None:
    """Without JavaScript the menu opens and its links go to their pages all the same."""
    page = new_context(java_script_enabled=False, **PHONE).new_page()
    page.goto("/")
    menu_button(page).tap()
    link = page.locator("nav[aria-label=Main]").get_by_role("link", name="Logs")
    expect(link).to_be_visible()
    link.tap()
    page.wait_for_url(f"{server.base_url}/logs")
    expect(page.get_by_role("heading", level=1)).to_have_text("Logs")
    expect(menu_button(page)).to_have_text("Menu: Logs")


def test_no_page_is_wider_than_a_phone(new_context: ContextFactory) -> None:
    """At 375 px no page of the nav (nor search, keys, a new ticket, a ticket) scrolls sideways."""
    page = new_context(**PHONE).new_page()
    page.goto("/board")
    ticket = page.locator("li.card > a").first.get_attribute("href")
    assert ticket
    too_wide = {}
    for path in (*NAV_PAGES, *MORE_PAGES, ticket):
        response = page.goto(path)
        assert response is not None and response.ok, path
        width = page.evaluate("() => document.documentElement.scrollWidth")
        if width > 375:
            too_wide[path] = width
    assert not too_wide, f"pages wider than 375 px: {too_wide}"


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_nav_has_no_serious_axe_violations(new_context: ContextFactory, scheme: str) -> None:
    """The phone menu, closed and open, and the wide bar: no serious or critical axe violations."""
    # bypass_csp: axe is injected as an inline script, which the app's CSP (rightly) refuses.
    phone = new_context(**PHONE, color_scheme=scheme, bypass_csp=True).new_page()
    phone.goto("/board")
    found = serious_violations(phone, "/board at 375 px, menu closed")
    menu_button(phone).tap()
    expect(phone.locator("nav[aria-label=Main]")).to_be_visible()
    found += serious_violations(phone, "/board at 375 px, menu open")
    wide = new_context(color_scheme=scheme, bypass_csp=True, viewport={"width": 1280, "height": 800}).new_page()
    wide.goto("/activity")
    found += serious_violations(wide, "/activity at 1280 px")
    assert not found, f"{scheme} scheme:\n" + "\n".join(found)


def test_the_menu_button_names_no_page_where_none_is_current(new_context: ContextFactory) -> None:
    """On a page outside the nav (the search) the button says Menu."""
    page = new_context(**PHONE).new_page()
    page.goto("/search")
    expect(menu_button(page)).to_have_text(re.compile(r"^\s*Menu\s*$"))

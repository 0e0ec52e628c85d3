"""Sessions in a real Chromium: from a ticket to the session that served it, its transcript in the run view,
one line whole, and back; the list filtered by its form; axe-core clean, and nothing sideways on a phone."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import serious_violations
from tests.server import Server, start_server
from tests.test_sessions import BOARD, FIXTURES, NOTES
from tests.test_streams import admin_token

pytestmark = pytest.mark.browser


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[tuple[Server, str]]:
    """A server with tickets MC-1 and MC-2 and the fixture's transcripts imported beside it."""
    db = tmp_path / "mc.db"
    token = admin_token(db)
    server = start_server(db)
    for title in ("Flaky board test", "Radio skips"):
        httpx.post(f"{server.base_url}/api/v1/tickets", json={"title": title},
                   headers={"Authorization": f"Bearer {token}"}).raise_for_status()  # fmt: skip
    subprocess.run([sys.executable, "-m", "app.cli", "sessions", "import", str(FIXTURES), "--db", str(db)],
                   check=True, capture_output=True, timeout=60,
                   env={**os.environ, "MC_CWD_TICKETS": "/srv/radio=MC-2"})  # fmt: skip
    yield server, token
    server.stop()


def open_page(browser: Browser, server: Server, token: str, path: str, width: int = 1280) -> Page:
    context = browser.new_context(base_url=server.base_url, bypass_csp=True, viewport={"width": width, "height": 800})
    context.set_default_timeout(10_000)
    context.request.post("/login", form={"token": token})
    page = context.new_page()
    page.goto(path)
    return page


def test_from_a_ticket_to_its_session_a_line_and_back(browser: Browser, hub: tuple[Server, str]) -> None:
    server, token = hub
    page = open_page(browser, server, token, "/ticket/MC-1")
    link = page.locator("#ticket-sessions").get_by_role("link", name="Fix the flaky board test (MC-1)")
    link.focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{server.base_url}/sessions/{BOARD}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Fix the flaky board test (MC-1)")
    failed = page.locator(".tool.tool-error")
    expect(failed).to_contain_text("NameError: name 'columns' is not defined")  # a failure is shown open
    expect(page.locator(".run-item.thought details")).not_to_have_attribute("open", "")  # thinking folded
    assert not serious_violations(page)
    page.goto(f"/sessions/{BOARD}/lines/5")
    expect(page.locator("h1")).to_contain_text("Line #5")
    page.get_by_role("link", name="Transcript").click()
    expect(page).to_have_url(f"{server.base_url}/sessions/{BOARD}?after=4#ev-5")
    page.locator(".crumbs").get_by_role("link", name="MC-1").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Flaky board test")
    page.context.close()


def test_a_session_standing_alone_is_linked_by_keyboard_then_unlinked(
    browser: Browser, hub: tuple[Server, str]
) -> None:
    """On a phone: type the ticket, Enter; focus lands on the ticket just linked; the ticket lists the session;
    "Change the ticket" opens the form again, whose Unlink leaves the session standing alone."""
    server, token = hub
    page = open_page(browser, server, token, f"/sessions/{NOTES}", width=375)
    field = page.get_by_label("Link to the ticket this session served")
    field.focus()
    page.keyboard.type("mc-2")
    page.keyboard.press("Enter")
    linked = page.locator(".session-facts").get_by_role("link", name="MC-2")
    expect(linked).to_be_focused()
    expect(page.locator(".crumbs")).to_contain_text("MC-2")
    expect(page.locator("#session-note")).to_have_text("Linked to MC-2: the session is listed on that ticket.")
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    assert not serious_violations(page)
    page.keyboard.press("Enter")  # (the focused link)
    expect(page).to_have_url(f"{server.base_url}/ticket/MC-2")
    expect(page.locator("#ticket-sessions")).to_contain_text("Summarise this week's race results")
    page.go_back()
    page.get_by_text("Change the ticket").click()
    page.get_by_role("button", name="Unlink").click()
    expect(page.locator(".session-facts")).to_contain_text("none")
    expect(page.get_by_label("Link to the ticket this session served")).to_be_focused()
    assert not serious_violations(page)
    page.context.close()


def test_the_list_filters_by_its_form_and_fits_a_phone(browser: Browser, hub: tuple[Server, str]) -> None:
    server, token = hub
    page = open_page(browser, server, token, "/sessions", width=375)
    expect(page.locator(".session-title")).to_have_count(3)
    page.get_by_label("Ticket").fill("MC-2")
    page.get_by_role("button", name="Filter").click()  # (on a phone too: the form is plain, no auto-submit)
    expect(page.locator(".session-title")).to_have_count(1)
    expect(page.locator(".session-title")).to_have_text(
        "Why does the radio skip tracks when the mood changes to focus?"
    )
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    assert not serious_violations(page)
    page.context.close()


def test_slash_opens_search_a_hit_leads_to_the_message_and_back(browser: Browser, hub: tuple[Server, str]) -> None:
    """Ticket → its session → `/` → type → the hit → the very line → back to the results, all by keyboard."""
    server, token = hub
    page = open_page(browser, server, token, "/ticket/MC-1")
    page.locator("#ticket-sessions").get_by_role("link", name="Fix the flaky board test (MC-1)").click()
    expect(page).to_have_url(f"{server.base_url}/sessions/{BOARD}")
    page.keyboard.press("/")
    expect(page).to_have_url(f"{server.base_url}/search")
    field = page.get_by_role("searchbox", name="Search tickets, comments and transcripts")
    expect(field).to_be_focused()
    assert not serious_violations(page)
    page.keyboard.type("columns nameerror")
    hits = page.locator(".hit-title")
    expect(hits.first).to_be_visible()
    expect(page).to_have_url(f"{server.base_url}/search?q=columns+nameerror")  # searched as typed, in the URL
    expect(field).to_be_focused()  # the results swapped, not the field
    expect(page.locator(".hit-snippet mark").first).to_have_text("NameError")
    expect(page.locator(".search-kinds [aria-current=page]")).to_contain_text("All")
    assert not serious_violations(page)
    hits.first.focus()
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_contain_text("Line #")
    expect(page.locator("main")).to_contain_text("NameError: name 'columns' is not defined")
    page.go_back()
    expect(page).to_have_url(f"{server.base_url}/search?q=columns+nameerror")
    expect(page.locator(".hit-title").first).to_be_visible()
    page.context.close()


def test_search_fits_a_phone_and_filters_by_kind(browser: Browser, hub: tuple[Server, str]) -> None:
    server, token = hub
    page = open_page(browser, server, token, "/search?q=radio", width=375)
    expect(page.locator(".hit").first).to_be_visible()
    page.get_by_role("link", name="Transcripts").click()
    expect(page).to_have_url(f"{server.base_url}/search?q=radio&kind=message")
    kinds = page.locator(".hit-kind").all_inner_texts()
    assert kinds and all(k.upper() not in ("TICKET", "COMMENT") for k in kinds)
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    assert not serious_violations(page)
    page.context.close()

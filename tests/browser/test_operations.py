"""The operations pages in a real Chromium against `mc serve`: the Overview's counters and "Needs you" change
while it is open when a ticket moves elsewhere; Activity scrolls to older items, filters in the URL, and takes new
items on top without a reload; both axe-core clean and whole at 375 px."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, expect

from tests.browser.conftest import serious_violations
from tests.server import Server, start_server
from tests.test_streams import admin_token

pytestmark = pytest.mark.browser


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[tuple[Server, str]]:
    db = tmp_path / "mc.db"
    token = admin_token(db)
    server = start_server(db)
    yield server, token
    server.stop()


def logged_in(browser: Browser, server: Server, token: str, width: int = 1280) -> BrowserContext:
    context = browser.new_context(base_url=server.base_url, bypass_csp=True, viewport={"width": width, "height": 900})
    context.set_default_timeout(10_000)
    context.request.post("/login", form={"token": token})
    return context


def api(context: BrowserContext, token: str, method: str, path: str, body: dict[str, object]) -> dict[str, object]:
    answer = context.request.fetch(path, method=method, data=body, headers={"Authorization": f"Bearer {token}"})
    assert answer.ok, answer.text()
    result: dict[str, object] = answer.json()
    return result


@pytest.mark.parametrize("width", [1280, 375])
def test_the_overview_changes_while_it_is_open_when_a_ticket_moves(
    browser: Browser, hub: tuple[Server, str], width: int
) -> None:
    server, token = hub
    context = logged_in(browser, server, token, width)
    overview = context.new_page()
    overview.goto("/")
    expect(overview.locator("#needs-you")).to_contain_text("Nothing needs you")
    review = overview.locator('#ticket-stats a[href="/board#col-review"] .stat-n')
    expect(review).to_have_text("0")
    assert overview.evaluate("document.documentElement.scrollWidth") <= width
    assert serious_violations(overview, f"/ at {width} px") == []

    other = context.new_page()  # another tab: the board, where the person moves the ticket
    ticket = api(context, token, "POST", "/api/v1/tickets", {"title": "Check the migration plan"})
    other.goto("/board")
    api(context, token, "PATCH", f"/api/v1/tickets/{ticket['identifier']}", {"status": "review"})

    expect(overview.locator("#needs-you")).to_contain_text("Check the migration plan")  # no reload
    expect(overview.locator("#needs-you h2 .count")).to_have_text("1")
    expect(review).to_have_text("1")
    context.close()


def test_activity_scrolls_filters_and_takes_new_items_on_top(browser: Browser, hub: tuple[Server, str]) -> None:
    server, token = hub
    context = logged_in(browser, server, token)
    for n in range(60):
        api(context, token, "POST", "/api/v1/tickets", {"title": f"Ticket number {n}"})
    page = context.new_page()
    page.goto("/activity")
    items = page.locator("#activity-feed > li.feed-item")
    expect(items).to_have_count(50)
    page.locator("li.feed-more").scroll_into_view_if_needed()
    expect(items).to_have_count(60)  # the next page came as the last item was revealed
    assert serious_violations(page, "/activity") == []

    page.evaluate("window.scrollTo(0, 0)")
    api(context, token, "POST", "/api/v1/tickets/MC-3/comments", {"body": "Found the cause"})
    expect(items.first).to_contain_text("commented on")  # on top, without a reload
    expect(items.first).to_contain_text("Found the cause")
    expect(items).to_have_count(61)

    page.select_option("#activity-kind", "comment")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**/activity?kind=comment**")
    expect(items).to_have_count(1)

    phone = logged_in(browser, server, token, 375).new_page()
    phone.goto("/activity")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375
    assert serious_violations(phone, "/activity at 375 px") == []
    context.close()

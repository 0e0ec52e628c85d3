"""Life Manager and F1 in a real Chromium against `mc serve` on the demo: both pages on a wide screen and a phone
(nothing sideways at 375 px, axe-core clean in light and dark), Dismiss taking an item out of the list in place,
Done working without JavaScript; and both empty states on a phone."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.conftest import ContextFactory, Server, serious_violations
from tests.server import Server as HubServer
from tests.server import start_server
from tests.test_streams import admin_token

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", [1280, 375])
def test_both_pages_fit_the_screen_and_pass_axe(new_context: ContextFactory, width: int, scheme: str) -> None:
    # bypass_csp: axe is injected as an inline script, which the app's CSP (rightly) refuses.
    page = new_context(viewport={"width": width, "height": 900}, color_scheme=scheme, bypass_csp=True).new_page()
    found: list[str] = []
    page.goto("/life-manager")
    expect(page.get_by_role("heading", level=1)).to_have_text("Life Manager")
    expect(page.locator("section.life-group").first).to_be_visible()
    page.locator(".life-snooze > summary").first.click()  # the date picker opened is the widest the list gets
    expect(page.locator(".life-snooze input[type=date]").first).to_be_visible()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width
    found += serious_violations(page)
    page.goto("/f1")
    expect(page.get_by_role("heading", level=1)).to_have_text("F1")
    expect(page.locator("#f1-accuracy svg rect").first).to_be_visible()  # the chart is drawn without JavaScript
    expect(page.locator(".f1-race-next")).to_have_count(1)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width
    found += serious_violations(page)
    assert not found, "\n".join(found)


@pytest.mark.parametrize("width", [1280, 375])
def test_dismiss_takes_the_item_out_of_the_list_in_place(
    new_context: ContextFactory, server: Server, width: int
) -> None:
    page = new_context(viewport={"width": width, "height": 900}).new_page()
    page.goto("/life-manager")
    item = page.locator("li.life-item").first
    item_id = item.get_attribute("id")
    dismissed = page.locator(".life-tabs a", has_text="Dismissed").inner_text()
    item.get_by_role("button", name=re.compile(r"^Dismiss")).click()
    expect(page.locator(f"#{item_id}")).to_have_count(0)
    expect(page.locator("#life-note")).to_have_text("Dismissed.")
    expect(page.locator(".life-tabs a", has_text="Dismissed")).not_to_have_text(dismissed)  # its count, swapped too
    assert page.url == f"{server.base_url}/life-manager", "swapped in place, not a new page"
    page.goto("/life-manager?show=dismissed")
    expect(page.locator(f"#{item_id}")).to_be_visible()


def test_done_works_without_javascript(new_context: ContextFactory, server: Server) -> None:
    page = new_context(java_script_enabled=False).new_page()
    page.goto("/life-manager")
    item = page.locator("li.life-item").first
    item_id = item.get_attribute("id")
    item.get_by_role("button", name=re.compile(r"^Done")).click()
    page.wait_for_url(re.compile(r"/life-manager#life-item-\d+$"))
    expect(page.locator(f"#{item_id}")).to_have_count(0)
    page.goto("/life-manager?show=done")
    expect(page.locator(f"#{item_id} .badge-done")).to_have_text("done")


@pytest.fixture
def empty_hub(tmp_path: Path) -> Iterator[tuple[HubServer, str]]:
    """A real `mc serve` on a database nothing has posted to, and an admin token for it."""
    db = tmp_path / "mc.db"
    token = admin_token(db)
    server = start_server(db)
    yield server, token
    server.stop()


def test_the_empty_states_fit_a_phone_and_pass_axe(browser: Browser, empty_hub: tuple[HubServer, str]) -> None:
    server, token = empty_hub
    context = browser.new_context(base_url=server.base_url, bypass_csp=True, viewport={"width": 375, "height": 800})
    context.set_default_timeout(10_000)
    context.request.post("/login", form={"token": token})
    page = context.new_page()
    found: list[str] = []
    for path, example in (("/life-manager", "/api/v1/life-manager/scans"), ("/f1", "/api/v1/f1/predictions")):
        page.goto(path)
        expect(page.locator("main pre")).to_contain_text(example)
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 375
        found += serious_violations(page)
    context.close()
    assert not found, "\n".join(found)

"""Reports and Skills in a real browser: both fit a phone and pass axe; a report's scripts, pictures and styles
work in its frame while the report can reach neither the login nor the app; searching keeps the field's focus.

The server is `mc demo`'s (tests/browser/conftest.py), so its reports and skills folders hold the demo's files.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from .conftest import ContextFactory, Server, real_errors, serious_violations, watch_console

pytestmark = pytest.mark.browser

PHONE: dict[str, Any] = {"viewport": {"width": 375, "height": 812}, "is_mobile": True, "has_touch": True}
DESKTOP: dict[str, Any] = {"viewport": {"width": 1280, "height": 800}}
PAGES = (
    "/reports",
    "/reports?q=week",
    "/reports/costs/week-48.html",
    "/skills",
    "/skills/release-notes",
    "/skills/weekly-review",
    "/skills/release-notes/files/scripts/collect.py",
)
# What a hostile report tries: the cookies (its own, its parent's), the parent's page, storage, and the app's API.
PROBE = """<!doctype html><html><head><title>Quarterly numbers</title></head><body><pre id="out"></pre><script>
const seen = [];
function note(label, run) {
  try { seen.push(label + "=" + JSON.stringify(run())); } catch (e) { seen.push(label + " threw " + e.name); }
}
note("origin", () => self.origin);
note("cookie", () => document.cookie);
note("parent-cookie", () => parent.document.cookie);
note("parent-title", () => parent.document.title);
note("storage", () => localStorage.length);
fetch("/api/v1/tickets", {credentials: "include"})
  .then((r) => r.text().then((t) => seen.push("fetch " + r.status + " " + t.slice(0, 80))))
  .catch((e) => seen.push("fetch threw " + e.name))
  .finally(() => { document.getElementById("out").textContent = seen.join("\\n"); document.body.dataset.done = "1"; });
</script></body></html>"""


@pytest.fixture
def probe(server: Server) -> Iterator[str]:
    """The hostile report, written into the server's reports folder (removed after)."""
    path = server.db_path.parent / "reports" / "probe.html"
    path.write_text(PROBE)
    yield "/reports/probe.html"
    path.unlink()


def axe_without_frames(page: Page) -> list[str]:
    """axe on the page; a report's frame is its own document (opaque origin, not ours), so axe skips frames."""
    page.evaluate("() => { if (window.axe) axe.configure({allowedOrigins: ['<same_origin>']}); }")
    return serious_violations(page)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_reports_and_skills_fit_a_phone_and_have_no_serious_axe_violations(
    new_context: ContextFactory, scheme: str, console_errors: list[str]
) -> None:
    """At 1280 and at 375 px, light and dark: nothing wider than the phone, no serious axe finding."""
    found: list[str] = []
    for size in (DESKTOP, PHONE):
        page = new_context(color_scheme=scheme, bypass_csp=True, **size).new_page()
        watch_console(page, console_errors)
        for path in PAGES:
            response = page.goto(path)
            assert response is not None and response.status == 200, f"{path}: {response and response.status}"
            expect(page.locator("main h1").first).to_be_visible()
            if size is PHONE:
                width = page.evaluate("() => document.documentElement.scrollWidth")
                assert width <= 375, f"{path} is {width} px wide on a 375 px phone"
            found += axe_without_frames(page)
    assert found == []
    assert real_errors(console_errors) == []


def test_a_reports_script_cannot_read_the_parents_cookie_or_call_the_app(
    new_context: ContextFactory, server: Server, probe: str
) -> None:
    """The framed report runs (its script writes what it saw) in an opaque origin: no cookie, no parent page,
    no storage, and the app's API answers it nothing it may read."""
    context = new_context(**DESKTOP)
    context.add_cookies([{"name": "canary", "value": "visible-to-page-scripts", "url": server.base_url}])
    page = context.new_page()
    page.goto(probe)
    expect(page.get_by_role("heading", level=1)).to_have_text("Quarterly numbers")
    frame = page.frame_locator("iframe.report-frame")
    expect(frame.locator("body[data-done]")).to_have_count(1)
    seen = frame.locator("#out").inner_text()
    assert 'origin="null"' in seen, seen
    assert "canary" not in seen and "visible-to-page-scripts" not in seen and "mc_session" not in seen, seen
    assert re.search(r'^cookie( threw SecurityError|="")$', seen, re.M), seen
    assert "parent-cookie threw SecurityError" in seen and "parent-title threw SecurityError" in seen, seen
    assert "storage threw SecurityError" in seen, seen
    assert re.search(r"^fetch (threw TypeError|401 )", seen, re.M), seen  # refused by CORS, or refused unread
    assert "Mission Control" not in seen and '"id"' not in seen, seen
    # Opened alone (top level), it is just as sandboxed: the file's own CSP says so.
    alone = page.get_by_role("link", name="Open it alone").get_attribute("href")
    page.goto(str(alone))
    expect(page.locator("body[data-done]")).to_have_count(1)
    seen = page.locator("#out").inner_text()
    assert 'origin="null"' in seen and "visible-to-page-scripts" not in seen, seen


def test_a_reports_own_pictures_styles_and_scripts_work_in_its_frame(page: Page, console_errors: list[str]) -> None:
    """The demo's week-48 report: its stylesheet and chart beside it load (by the frame's key, without the
    cookie) and its inline script fills in the totals."""
    page.goto("/reports/costs/week-48.html")
    frame = page.frame_locator("iframe.report-frame")
    expect(frame.locator("#runs")).to_have_text("141")
    expect(frame.locator("#cost")).to_have_text("38.66")
    assert frame.locator("img").evaluate("img => img.complete && img.naturalWidth > 0")
    assert "Georgia" in frame.locator("body").evaluate("b => getComputedStyle(b).fontFamily")
    assert real_errors(console_errors) == []


def test_searching_reports_swaps_the_list_and_keeps_the_fields_focus(page: Page, server: Server) -> None:
    """Typing filters the list as you go (htmx swaps #reports-results only); the URL keeps the search."""
    page.goto("/reports")
    expect(page.locator("#reports-results .file-row")).to_have_count(4)
    field = page.get_by_role("searchbox", name="Search reports by title or path")
    field.click()
    page.keyboard.type("sqlite")
    expect(page.locator("#reports-results .file-row")).to_have_count(1)
    expect(page).to_have_url(f"{server.base_url}/reports?q=sqlite")
    assert page.evaluate("() => document.activeElement.id") == "reports-q"
    page.get_by_role("link", name="SQLite WAL growth under constant readers").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("SQLite WAL growth under constant readers")


def test_skills_show_their_warnings_and_open_their_files(page: Page) -> None:
    """A skill with a broken front matter is a card with a warning, not an error; a file opens as text."""
    page.goto("/skills")
    card = page.locator(".skill-card", has=page.get_by_role("link", name="weekly-review"))
    expect(card.locator(".skill-warnings")).to_contain_text("no description")
    page.get_by_role("link", name="release-notes").click()
    expect(page.locator("main h1").first).to_have_text("release-notes")
    page.locator(".skill-body").get_by_role("link", name="the template").click()
    expect(page.locator(".file-text")).to_contain_text("### Added")

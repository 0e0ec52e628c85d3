"""Logs in a real Chromium against `mc serve` on demo data with a log file listed: each source usable at 375 and
1280 px with nothing sideways and no serious axe-core violation, the level filter, and a followed file growing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, expect

from tests.browser.conftest import run_mc, serious_violations
from tests.server import Server, start_server
from tests.test_streams import admin_token

pytestmark = pytest.mark.browser

LINES = [
    "2026-12-02 09:00:00,001 INFO mc.app: started on http://127.0.0.1:8000",
    "2026-12-02 09:00:05,120 WARNING mc.reaper: message 48 lease expired; requeued (attempt 2 of 5)",
    "2026-12-02 09:00:07,400 ERROR mc.scheduler: task backup failed",
    "Traceback (most recent call last):",
    '  File "/srv/mc/app/scheduler.py", line 212, in run_task',
    "TimeoutError: the task ran past its 600 s timeout",
    'INFO:     127.0.0.1:51234 - "GET /board HTTP/1.1" 200 OK',
    "2026-12-02 09:00:09,000 DEBUG mc.db: checkpoint moved 12 pages",
]


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory, chromium_executable: Path) -> Iterator[tuple[Server, str, Path]]:
    """`mc serve` on demo data, listing one log file; the server, an admin token and the file."""
    folder = tmp_path_factory.mktemp("logs")
    db, log = folder / "mc.db", folder / "serve.log"
    run_mc("demo", "--db", str(db), timeout=120)
    log.write_text("\n".join(LINES) + "\n")
    token = admin_token(db)
    server = start_server(db, env={"MC_LOG_FILES": str(log)})
    yield server, token, log
    server.stop()


def logged_in(browser: Browser, hub: tuple[Server, str, Path], width: int) -> BrowserContext:
    server, token, _ = hub
    context = browser.new_context(base_url=server.base_url, bypass_csp=True, viewport={"width": width, "height": 900})
    context.set_default_timeout(10_000)
    context.request.post("/login", form={"token": token})
    return context


@pytest.mark.parametrize("width", [1280, 375])
def test_every_source_fits_and_the_level_filter_keeps_errors(
    browser: Browser, hub: tuple[Server, str, Path], width: int
) -> None:
    context = logged_in(browser, hub, width)
    page = context.new_page()
    for path in ("/logs", "/logs/heartbeats", "/logs/files/serve-log"):
        page.goto(path)
        expect(page.get_by_role("heading", level=1)).to_have_text("Logs")
        expect(page.locator("#log-entries > li").first).to_be_visible()
        assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth"), path
        assert not serious_violations(page, path)
    page.get_by_label("Level").select_option("error")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(f"{hub[0].base_url}/logs/files/serve-log?level=error")
    records = page.locator("#log-entries > li.log-record")
    expect(records).to_have_count(1)
    expect(records.first.locator(".log-level")).to_have_text("ERROR")
    expect(records.first).to_contain_text("TimeoutError: the task ran past its 600 s timeout")
    context.close()


def test_a_followed_file_shows_new_lines_at_the_top_as_they_are_written(
    browser: Browser, hub: tuple[Server, str, Path]
) -> None:
    _, _, log = hub
    context = logged_in(browser, hub, 1280)
    page = context.new_page()
    page.goto("/logs/files/serve-log")
    page.get_by_role("link", name="Follow").click()
    expect(page.locator(".log-live")).to_contain_text("Following")
    page.wait_for_timeout(500)  # the stream connects
    with log.open("a") as out:
        out.write("2026-12-02 09:01:00,000 ERROR mc.app: written while someone watched\n")
    first = page.locator("#log-entries > li").first
    expect(first).to_contain_text("written while someone watched", timeout=5000)
    expect(first.locator(".log-level")).to_have_text("ERROR")
    context.close()

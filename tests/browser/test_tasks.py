"""Scheduled tasks in a real Chromium against `mc serve` running its scheduler: Run now by keyboard, the run's
output shown, a failing task marked; axe-core clean, and nothing sideways on a phone."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.conftest import serious_violations
from tests.server import Server, start_server
from tests.test_streams import admin_token

pytestmark = pytest.mark.browser

TASKS = """
[[tasks]]
name = "greet"
cron = "0 0 1 1 *"
command = "echo hello from the scheduler"

[[tasks]]
name = "failing check"
cron = "0 0 1 1 *"
command = "echo disk almost full >&2; exit 1"
"""


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[tuple[Server, str]]:
    db = tmp_path / "mc.db"
    token = admin_token(db)
    (tmp_path / "tasks.toml").write_text(TASKS)
    server = start_server(db, env={"MC_TASKS_FILE": str(tmp_path / "tasks.toml"), "MC_SCHEDULER_TICK_S": "0.2"})
    yield server, token
    server.stop()


@pytest.mark.parametrize("width", [1280, 375])
def test_run_now_by_keyboard_shows_the_run_and_a_failure_stands_out(
    browser: Browser, hub: tuple[Server, str], width: int
) -> None:
    server, token = hub
    context = browser.new_context(base_url=server.base_url, bypass_csp=True, viewport={"width": width, "height": 900})
    context.set_default_timeout(10_000)
    context.request.post("/login", form={"token": token})
    page = context.new_page()
    page.goto("/tasks")
    expect(page.locator("#task-greet")).to_contain_text("Never run yet")
    # By keyboard first, on a page no swap is about to replace (a button focused just before a swap lands is
    # replaced by it, and Enter then presses nothing); then by mouse, which finds its button again if the answer to
    # Enter replaced it meanwhile.
    page.get_by_role("button", name="Run now greet").focus()
    page.keyboard.press("Enter")
    page.get_by_role("button", name="Run now failing check").click()
    for _ in range(50):  # the scheduler ticks every 0.2 s; the page shows what is stored when loaded
        if page.locator(".task-run-ok").count() and page.locator(".task-run-error").count():
            break
        page.wait_for_timeout(200)
        page.reload()
    expect(page.locator(".task-run-ok pre")).to_have_text("hello from the scheduler")
    expect(page.locator(".task-run-error pre")).to_have_text("disk almost full")  # a failure's output is open
    expect(page.locator("#task-failing-check")).to_have_class("task-row task-failing")
    expect(page.locator("#task-failing-check svg.sparkline circle.spark-fail")).to_have_count(1)
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    assert not serious_violations(page)
    context.close()

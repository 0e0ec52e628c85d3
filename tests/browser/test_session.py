"""The interactive session in a real Chromium, with the fake agent (tests/fakes/agent.py) as MC_AGENT_COMMAND:
type, see the answer stream in, reload and see the same run once, watch from a second tab, stop."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import serious_violations
from tests.server import Server, start_server
from tests.test_session import AGENT
from tests.test_streams import admin_token

pytestmark = pytest.mark.browser


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[tuple[Server, str]]:
    """A server running the fake agent for sessions, a token, and ticket MC-1."""
    db = tmp_path / "mc.db"
    token = admin_token(db)
    env = {"MC_AGENT_COMMAND": AGENT, "MC_DATA_DIR": str(tmp_path / "data"), "MC_SESSION_STOP_GRACE_S": "1"}
    server = start_server(db, env=env)
    httpx.post(f"{server.base_url}/api/v1/tickets", json={"title": "Talk to the agent"},
               headers={"Authorization": f"Bearer {token}"}).raise_for_status()  # fmt: skip
    yield server, token
    server.stop()


def open_ticket(browser: Browser, server: Server, token: str, **options: object) -> Page:
    """A logged-in page on MC-1 whose session socket is open."""
    context = browser.new_context(base_url=server.base_url, bypass_csp=True, **options)  # type: ignore[arg-type]
    context.set_default_timeout(10_000)
    context.request.post("/login", form={"token": token})
    page = context.new_page()
    page.goto("/ticket/MC-1")
    expect(page.locator("#conversation")).to_have_attribute("data-session-live", "true")
    return page


def send(page: Page, text: str) -> None:
    """Type into the composer and press Send to agent."""
    page.locator("#comment-body").fill(text)
    page.get_by_role("button", name="Send to agent").click()


def test_type_see_the_answer_reload_and_stop(browser: Browser, hub: tuple[Server, str]) -> None:
    server, token = hub
    page = open_ticket(browser, server, token)
    bar = page.locator("#agent-session")
    expect(bar).to_contain_text("Agent session")
    expect(bar.get_by_role("button", name="Start session")).to_be_visible()

    send(page, "hello, think")
    answer = page.locator("#timeline .run-item.said", has_text="You said: hello, think")
    expect(answer).to_be_visible()
    expect(page.locator("#timeline .run-item.prompt")).to_contain_text("hello, think")
    expect(page.locator("#timeline .run-item.thought")).to_have_count(1)
    expect(page.locator("#timeline .run-header .run-state").last).to_have_text("Finished")
    expect(bar).to_contain_text("Session running")
    expect(bar).to_contain_text("waiting for you")
    expect(page.locator("#comment-body")).to_have_value("")  # sent: the composer is empty, and ready for more
    expect(page.locator("#comment-body")).to_be_focused()
    assert page.locator("#timeline .comment").count() == 0, "it went to the agent, not into a comment"

    # A second tab follows what the first one says.
    other = open_ticket(browser, server, token)
    expect(other.locator("#agent-session")).to_contain_text("Session running")
    send(page, "use a tool")
    expect(page.locator("#timeline .tool", has_text="README.md")).to_be_visible()
    expect(other.locator("#timeline .tool", has_text="README.md")).to_be_visible()
    expect(other.locator("#timeline .run-item.said", has_text="You said: use a tool")).to_have_count(1)

    # A reload shows the same conversation, each step once, and the session still running.
    page.reload()
    expect(page.locator("#conversation")).to_have_attribute("data-session-live", "true")
    expect(page.locator("#agent-session")).to_contain_text("Session running")
    page.locator("#timeline details.run-fold:not([open]) > summary").evaluate_all("els => els.forEach(e => e.click())")
    expect(page.locator("#timeline .run-item.said", has_text="You said: hello, think")).to_have_count(1)
    expect(page.locator("#timeline .run-item.said", has_text="You said: use a tool")).to_have_count(1)
    assert not serious_violations(page)

    page.locator("#agent-session").get_by_role("button", name="Stop").click()
    expect(page.locator("#agent-session")).to_contain_text("ended")
    expect(page.locator("#agent-session")).to_contain_text("stopped")
    expect(page.locator("#timeline .session-end")).to_contain_text("Stopped by you")
    expect(other.locator("#agent-session")).to_contain_text("stopped")  # the other tab hears of it too
    other.context.close()
    page.context.close()


def test_a_crash_shows_its_exit_status_and_stderr_in_red(browser: Browser, hub: tuple[Server, str]) -> None:
    server, token = hub
    page = open_ticket(browser, server, token, viewport={"width": 375, "height": 800})
    send(page, "crash")
    end = page.locator("#timeline .session-end")
    expect(end).to_contain_text("The agent crashed")
    expect(end).to_contain_text("exit status 3")
    expect(end.locator("pre")).to_contain_text("fatal: the fake agent crashed")
    expect(end).to_have_class("run-item run-end session-end is-error")
    expect(page.locator("#agent-session")).to_contain_text("the agent crashed")
    expect(page.locator("#agent-session").get_by_role("button", name="Start session")).to_be_visible()
    # Nothing on the phone scrolls sideways.
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    page.context.close()

"""The run view live in a real Chromium: events posted by a worker appear on the ticket page, in order, once,
whichever server process took the POST; the board follows changes made elsewhere."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.server import Server, start_server
from tests.test_streams import admin_token

pytestmark = pytest.mark.browser


@pytest.fixture(params=[1, 2], ids=["one-process", "two-processes"])
def running(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Server, str]]:
    """A server with one or two worker processes, a token, and ticket MC-1."""
    db = tmp_path / "mc.db"
    token = admin_token(db)
    server = start_server(db, "--workers", str(request.param))
    httpx.post(f"{server.base_url}/api/v1/tickets", json={"title": "Watch me"},
               headers={"Authorization": f"Bearer {token}"}).raise_for_status()  # fmt: skip
    yield server, token
    server.stop()


def open_page(browser: Browser, server: Server, token: str, path: str) -> Page:
    """A logged-in page at `path`."""
    context = browser.new_context(base_url=server.base_url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    context.request.post("/login", form={"token": token})  # a lasting token goes in the form, never a link
    page.goto(path)
    return page


def test_posted_events_appear_in_the_run_in_order_once(browser: Browser, running: tuple[Server, str]) -> None:
    server, token = running
    auth = {"Authorization": f"Bearer {token}"}
    httpx.post(f"{server.base_url}/api/v1/tickets/MC-1/events", json={"type": "system"}, headers=auth)
    page = open_page(browser, server, token, "/ticket/MC-1")
    expect(page.locator("#run-1-items #ev-1")).to_be_visible()  # replayed with the page
    expect(page.locator("#no-comments")).to_be_hidden()
    for n in range(2, 22):  # a new connection per POST, so with two processes either may take it
        text = f"step {n}: <b>not bold</b>\n\ndata: still one event"
        event = {"type": "assistant", "message": {"content": [{"type": "text", "text": text}]}}
        seq = httpx.post(f"{server.base_url}/api/v1/tickets/MC-1/events", json=event, headers=auth).json()["seq"]
        row = page.locator(f"#run-1-items #ev-{seq}")
        expect(row).to_be_visible(timeout=5_000)
        expect(row).to_contain_text(f"step {n}: <b>not bold</b>")  # shown as text, not markup
    ids = page.locator("#run-1-items > li").evaluate_all("rows => rows.map(r => r.id)")
    assert ids == [f"ev-{n}" for n in range(1, 22)]
    assert page.locator("#timeline b").count() == 0
    page.context.close()


def test_a_tool_result_fills_its_call_in_place(browser: Browser, running: tuple[Server, str]) -> None:
    server, token = running
    auth = {"Authorization": f"Bearer {token}"}
    url = f"{server.base_url}/api/v1/tickets/MC-1/events"
    init = {"type": "system", "subtype": "init", "model": "claude-test", "session_id": "s1"}
    httpx.post(url, json=init, headers=auth).raise_for_status()
    page = open_page(browser, server, token, "/ticket/MC-1")
    expect(page.locator("#run-1-header .run-state")).to_have_text("Running")
    call = {"type": "tool_use", "id": "toolu_1", "name": "Bash", "input": {"command": "pytest -q"}}
    httpx.post(url, json={"type": "assistant", "message": {"id": "m1", "content": [call]}}, headers=auth)
    tool = page.locator("#run-1-items #tool-toolu_1")
    expect(tool).to_have_class(re.compile(r"\btool-running\b"), timeout=5_000)
    expect(tool.locator(".tool-state")).to_have_text("running…")
    failed = {"type": "tool_result", "tool_use_id": "toolu_1", "is_error": True, "content": "Exit code 1\nNameError: x"}
    httpx.post(url, json={"type": "user", "message": {"content": [failed]}}, headers=auth)
    expect(tool).to_have_class(re.compile(r"\btool-error\b"), timeout=5_000)
    expect(tool.locator("details")).to_have_attribute("open", "")  # a failure is shown open
    expect(tool.locator(".tool-output")).to_contain_text("NameError: x")
    assert page.locator("#timeline .tool").count() == 1, "the result went into its call, not beside it"
    result = {"type": "result", "subtype": "success", "num_turns": 2, "total_cost_usd": 0.05, "duration_ms": 4200}
    httpx.post(url, json=result, headers=auth)
    expect(page.locator("#run-1-header .run-state")).to_have_text("Finished", timeout=5_000)
    expect(page.locator("#run-1-header")).to_contain_text("$0.05")
    page.context.close()


def test_the_board_follows_a_change_made_through_the_api(browser: Browser, running: tuple[Server, str]) -> None:
    server, token = running
    page = open_page(browser, server, token, "/board")
    expect(page.locator("#cards-backlog #card-MC-1")).to_be_visible()
    page.wait_for_timeout(300)  # let the stream connect
    httpx.patch(f"{server.base_url}/api/v1/tickets/MC-1", json={"status": "review"},
                headers={"Authorization": f"Bearer {token}"}).raise_for_status()  # fmt: skip
    expect(page.locator("#cards-review #card-MC-1")).to_be_visible(timeout=5_000)
    expect(page.locator("#cards-backlog #card-MC-1")).to_have_count(0)
    page.context.close()

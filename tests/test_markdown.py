"""Markdown off the event loop: bounded output, a render budget per page, a worker that can die, and pages
that never wait on markdown-it in the server's own process."""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

import pytest

from app import markdown
from app.markdown import MAX_CHARS, renderer, to_html
from tests.conftest import Harness, bearer, soup

# Inputs markdown-it-py is slow on (super-linear) or that blow up in size, 100 KB at most like a comment.
PATHOLOGICAL = {
    "brackets": "[" * 99_999,
    "image brackets": "![" * 50_000,
    "emphasis runs": "*a" * 50_000,
    "mixed emphasis": "**_" * 33_000,
    "unclosed links": "[a](" * 25_000,
    "angle brackets": "<" * 99_999,
    "entities": "&#" * 50_000,
    "backticks": "`" * 99_999,
    "nested quotes": ">" * 99_999,
    "nested lists": "".join("  " * i + "- x\n" for i in range(300)),
    "long link": "[x](http://e.example/" + "a" * 99_000 + ")",
}


def test_rendered_output_stays_within_a_few_times_its_input() -> None:
    for name, text in PATHOLOGICAL.items():
        html = to_html(text[:20_000])  # the size bound does not need the slow full length
        assert len(html) <= 5 * len(text[:20_000]) + 64, name


def test_pages_render_markdown_in_the_worker_not_in_the_server_process(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    def not_here(*args: Any) -> str:
        raise AssertionError("markdown-it ran in the server's process")

    monkeypatch.setattr(markdown._md, "render", not_here)
    ident = harness.ticket("Formatted", description="The **description**")
    admin = bearer(harness.token("admin"))
    harness.client.post(f"/api/v1/tickets/{ident}/comments", json={"body": "A *fresh* comment"}, headers=admin)
    page = soup(harness.client.get(f"/ticket/{ident}", headers=admin).text)
    assert page.select_one(".description strong").get_text() == "description"
    assert page.select_one(".comment .prose em").get_text() == "fresh"


def test_slow_renders_show_as_plain_text_within_the_budget_and_formatted_later(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(renderer, "budget_s", 0.05)
    ident = harness.ticket("Hostile comments")
    admin = bearer(harness.token("admin"))
    slow = "**bold** " + "![" * 20_000 + f" {time.time()}"  # unique: never in the cache yet
    for _ in range(4):
        assert harness.client.post(f"/api/v1/tickets/{ident}/comments", json={"body": slow}, headers=admin).is_success
    first = soup(harness.client.get(f"/ticket/{ident}", headers=admin).text)
    plain = first.select(".comment .md-plain")
    assert len(plain) == 4 and plain[0].get_text().startswith("**bold**")  # as typed, escaped
    deadline = time.monotonic() + 30
    while renderer.cache.get(slow) is None and time.monotonic() < deadline:
        time.sleep(0.1)  # the worker goes on with it after the page has gone out
    later = soup(harness.client.get(f"/ticket/{ident}", headers=admin).text)
    assert [s.get_text() for s in later.select(".comment .prose strong")] == ["bold"] * 4


def test_a_text_over_the_limit_is_shown_plain_and_never_sent_to_the_worker() -> None:
    text = "x" * (MAX_CHARS + 1)
    asyncio.run(renderer.prepare([text]))
    assert renderer.cache.get(text) is None and "md-plain" in renderer.html(text)


def test_a_worker_that_dies_is_replaced() -> None:
    asyncio.run(renderer.prepare(["*before*"]))
    pool = renderer._pool
    assert pool is not None
    for process in list(pool._processes.values()):  # type: ignore[attr-defined]
        os.kill(process.pid, 9)
    text = f"*after {time.time()}*"
    deadline = time.monotonic() + 20
    while renderer.cache.get(text) is None and time.monotonic() < deadline:
        asyncio.run(renderer.prepare([text]))
    assert "<em>" in renderer.html(text)

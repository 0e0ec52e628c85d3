"""One search over tickets, comments and transcripts: the query language (safe in MATCH whatever is typed),
ranking and snippets, filters, windows of the newest hits, the page and the JSON API."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from app.db import Database
from app.event_input import parse_events
from app.ingest import EventWriter
from app.params import DATE_OR_EMPTY
from app.search import highlighted, marked, normal_snippet, search_match
from app.store import event_index, tickets
from app.store import search as store
from tests.conftest import Harness, bearer, soup
from tests.test_sessions import BOARD, RADIO, import_fixture

HTMX = {"HX-Request": "true"}


def fill(harness: Harness) -> None:
    """Tickets MC-1 and MC-2 (made by the import), the fixture's transcripts, a third ticket and comments."""
    import_fixture(harness)
    harness.ticket("Radio volume jumps after a skip", description="The player resets volume on every **skip**.")

    async def comment() -> None:
        one = await tickets.get_ticket(harness.db, "MC-1")
        assert one is not None
        await tickets.add_comment(
            harness.db, one.id, "luci", "The NameError only shows when pytest runs in random order."
        )
        await tickets.add_comment(harness.db, one.id, "lucienne", "<b>bold</b> \x01fake\x02 marks stay text")

    harness.call(comment)


@pytest.mark.parametrize(
    ("typed", "match"),
    [
        ("fix test", '"fix" "test"'),
        ('"run the tests"', '"run the tests"'),
        ("migrat*", '"migrat"*'),
        ("-flaky board", '("board") NOT ("flaky")'),
        ('"unclosed phrase', '"unclosed phrase"'),
        ("AND (", '"AND"'),
        ("col:x", '"col:x"'),
        ("a\x00b", '"a" "b"'),
        ('"', None),
        ("*", None),
        ("-alone", None),
        ("", None),
    ],
)
def test_what_a_person_types_becomes_quoted_fts5_terms(typed: str, match: str | None) -> None:
    assert search_match(typed) == match


def test_the_date_pattern_takes_exactly_the_calendars_dates() -> None:
    pattern = re.compile(DATE_OR_EMPTY)
    assert pattern.match("")
    years = [*range(0, 12), *range(1896, 2105), 2400, 2500, 9999]
    for text in (f"{y:04d}-{m:02d}-{d:02d}" for y in years for m in range(0, 14) for d in range(0, 33)):
        try:
            dt.date.fromisoformat(text)
            real = True
        except ValueError:
            real = False
        assert bool(pattern.match(text)) == real, text


def test_a_snippet_is_escaped_and_only_real_markers_highlight() -> None:
    assert str(marked("a <b> \x01hit\x02 \x02stray")) == "a &lt;b&gt; <mark>hit</mark> stray"
    assert highlighted("one \x01two\x02 three \x01four\x02") == ("one two three four", [(4, 7), (14, 18)])
    markers = ("<<", ">>")
    assert normal_snippet("\x01para\x02 one\n\n  \n<<two>>\nthree\n", markers) == "para one\n\x01two\x02\nthree"


@pytest.mark.parametrize("q", ['"', "AND (", "NEAR(", "*", "col:x", "a\x00b", "x" * 500, "OR", "-", '"" ""', "^x"])
def test_hostile_queries_answer_200_on_the_page_and_the_api(harness: Harness, q: str) -> None:
    harness.login()
    fill(harness)
    assert harness.client.get("/search", params={"q": q}).status_code == 200
    worker = bearer(harness.token("worker"))
    response = harness.client.get("/api/v1/search", params={"q": q}, headers=worker)
    assert response.status_code == 200, response.text


def test_one_search_finds_tickets_comments_and_transcript_messages(harness: Harness) -> None:
    harness.login()
    fill(harness)
    worker = bearer(harness.token("worker"))
    found = harness.client.get("/api/v1/search", params={"q": "nameerror"}, headers=worker).json()
    kinds = {hit["kind"] for hit in found["hits"]}
    assert kinds == {"comment", "message"}
    assert found["counts"]["comment"] == 1 and found["counts"]["message"] >= 2 and found["counts"]["ticket"] == 0
    message = next(h for h in found["hits"] if h["kind"] == "message")
    assert message["session_id"] == BOARD and message["ticket"] == "MC-1" and message["agent"] == "claude"
    assert message["url"] == f"/sessions/{BOARD}/lines/{message['seq']}"
    start, end = message["highlights"][0]
    assert message["snippet"][start:end].lower() == "nameerror"
    comment = next(h for h in found["hits"] if h["kind"] == "comment")
    assert comment["url"] == f"/ticket/MC-1#comment-{comment['comment_id']}" and comment["title"] == "Flaky board test"
    ranks = [hit["rank"] for hit in found["hits"]]
    assert ranks == sorted(ranks), "best (lowest bm25) first"
    # Each hit's link leads to the very message.
    line = harness.client.get(message["url"])
    assert line.status_code == 200 and "NameError" in line.text


def test_prefix_phrase_and_left_out_terms(harness: Harness) -> None:
    harness.login()
    fill(harness)
    worker = bearer(harness.token("worker"))

    def kinds_and_titles(q: str) -> set[tuple[str, str]]:
        hits = harness.client.get("/api/v1/search", params={"q": q}, headers=worker).json()["hits"]
        return {(h["kind"], h["title"]) for h in hits}

    assert ("ticket", "Radio volume jumps after a skip") in kinds_and_titles("vol*")
    assert ("ticket", "Radio volume jumps after a skip") not in kinds_and_titles("vol")  # a word is whole
    assert ("ticket", "Radio volume jumps after a skip") in kinds_and_titles("volumes")  # in any form
    assert kinds_and_titles('"flaky board"') and not kinds_and_titles('"board flaky"')
    assert ("ticket", "Radio skips") in kinds_and_titles("radio skip")
    assert ("ticket", "Radio skips") not in kinds_and_titles("radio skip -skips")


def test_filters_narrow_by_kind_agent_ticket_and_date(harness: Harness) -> None:
    harness.login()
    fill(harness)
    worker = bearer(harness.token("worker"))

    def hits(**params: Any) -> list[dict[str, Any]]:
        response = harness.client.get("/api/v1/search", params=params, headers=worker)
        assert response.status_code == 200, response.text
        return response.json()["hits"]

    assert {h["kind"] for h in hits(q="radio")} >= {"ticket", "message"}
    assert {h["kind"] for h in hits(q="radio", kind="message")} == {"message"}
    assert {h["session_id"] for h in hits(q="radio", kind="message")} == {RADIO}
    assert {h["ticket"] for h in hits(q="radio", ticket="mc-2")} == {"MC-2"}
    assert hits(q="nameerror", agent="luci") == [h for h in hits(q="nameerror") if h["kind"] == "comment"]
    assert hits(q="nameerror", kind="message", since="2026-11-30", until="2026-11-30")
    assert not hits(q="nameerror", kind="message", since="2026-12-01")
    assert not hits(q="nameerror", kind="message", until="2026-11-29")
    assert hits(q="nameerror", kind="message", until="9999-12-31"), "the last day there is: no end"
    for bad in ({"since": "2026-13-01"}, {"since": "2026-02-30"}, {"until": "yesterday"}, {"kind": "everything"},
                {"offset": -1}):  # fmt: skip
        response = harness.client.get("/api/v1/search", params={"q": "x", **bad}, headers=worker)
        assert response.status_code == 400, bad


def test_only_the_newest_window_of_hits_is_ranked_and_older_windows_follow(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A broad word ranks within its newest WINDOW hits; "Older matches" moves the window, nothing is skipped
    or shown twice across pages and windows."""
    monkeypatch.setattr(store, "WINDOW", 5)
    monkeypatch.setattr("app.routes.search.PER_PAGE", 3)
    harness.login()
    ident = harness.ticket("Window host")

    async def comments() -> None:
        ticket = await tickets.get_ticket(harness.db, ident)
        assert ticket is not None
        for n in range(12):
            await tickets.add_comment(harness.db, ticket.id, "luci", f"wombat number {n}" + " wombat" * (n % 3))

    harness.call(comments)
    worker = bearer(harness.token("worker"))
    seen: list[int] = []
    url: str | None = "/api/v1/search?q=wombat&kind=comment"
    windows = 0
    while url:
        page = harness.client.get(url, headers=worker).json()
        assert page["counts"]["comment"] == 12
        seen += [h["comment_id"] for h in page["hits"]]
        windows += "before=" in url and "offset=" not in url
        url = page["next_url"]
    assert sorted(seen) == sorted(set(seen)) and len(seen) == 12, "every hit once"
    assert windows == 2, "12 hits in windows of 5: the newest, then two older ones"
    first_window = seen[:5]
    assert sorted(first_window) == sorted(first_window) and min(first_window) > max(seen[5:]), "newest first"


def test_the_page_shows_tabs_with_counts_highlighted_snippets_and_links(harness: Harness) -> None:
    harness.login()
    empty = soup(harness.client.get("/search").text)
    assert "Find anything you or your agents wrote" in empty.get_text() and empty.select_one("#search-page-q")
    assert empty.select_one("header a.search-link[href='/search']").get_text() == "Search", "on every page, named"
    fill(harness)
    page = soup(harness.client.get("/search", params={"q": "nameerror"}).text)
    tabs = {a.get_text(" ", strip=True) for a in page.select(".search-kinds a")}
    assert {"All 4", "Tickets 0", "Comments 1"} <= tabs
    assert page.select_one(".search-kinds a[aria-current=page]").get_text(" ", strip=True) == "All 4"
    assert page.select(".hit-snippet mark") and all(m.get_text().lower() == "nameerror" for m in page.select("mark"))
    links = [a["href"] for a in page.select(".hit-title")]
    assert f"/sessions/{BOARD}/lines/" in " ".join(links) and any("#comment-" in link for link in links)
    context = page.select_one(".hit-message .hit-meta a[href*='#ev-']")
    assert context is not None and context["href"].startswith(f"/sessions/{BOARD}?after=")
    hostile = soup(harness.client.get("/search", params={"q": "bold"}).text)
    snippet = hostile.select_one(".hit-comment .hit-snippet")
    assert snippet.find("b") is None and [m.get_text() for m in snippet.select("mark")] == ["bold"]
    assert snippet.get_text() == "<b>bold</b> fake marks stay text", "stored markers neither mark nor show"
    plain_form = {"q": "nameerror", "agent": "", "ticket": "", "since": "", "until": ""}  # as a browser sends it
    assert len(soup(harness.client.get("/search", params=plain_form).text).select(".hit")) == 4
    fragment = harness.client.get("/search", params={"q": "radio"}, headers=HTMX)
    assert "<html" not in fragment.text and 'id="search-results"' in fragment.text
    assert "HX-Request" in fragment.headers["Vary"]
    nothing = soup(harness.client.get("/search", params={"q": "zzzzqqq"}).text)
    assert "Nothing matches “zzzzqqq”" in nothing.select_one("[role=status]").get_text()
    filtered = soup(harness.client.get("/search", params={"q": "zzzzqqq", "agent": "x"}).text)
    assert filtered.select_one("details.search-filters[open]") and "Search without filters" in filtered.get_text()


def test_the_palette_offers_to_search_everything(harness: Harness) -> None:
    harness.login()
    html = soup(harness.client.get("/palette", params={"q": "radio skip"}, headers=HTMX).text)
    href = urlsplit(html.select_one("#opt-search")["href"])
    assert (href.path, parse_qs(href.query)) == ("/search", {"q": ["radio skip"]})


def test_search_needs_a_login_or_a_token(harness: Harness) -> None:
    assert harness.client.get("/search?q=x", follow_redirects=False).status_code in (302, 303)
    assert harness.client.get("/api/v1/search?q=x").status_code == 401


# --- what agents did on tickets: their events, indexed after the fact -----------------------------------------


RUN = [
    {"type": "system", "subtype": "init", "session_id": "run-1", "model": "claude-sonnet-4-5"},
    {"type": "user", "message": {"role": "user", "content": "Why does the quokka importer drop rows?"}},
    {"type": "assistant", "message": {"role": "assistant", "content": [
        {"type": "thinking", "thinking": "secret thoughts about wallabies"},
        {"type": "text", "text": "Let me read the **quokka** importer."},
        {"type": "tool_use", "id": "t1", "name": "Bash", "input": {"command": "grep -n quokka app/importer.py"}}]}},
    {"type": "user", "message": {"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": "t1", "content": [{"type": "text", "text": "12: quokka_rows = []"}]}]}},
    {"type": "result", "subtype": "success", "result": "Fixed."},
]  # fmt: skip


def post_run(harness: Harness, worker: dict[str, str], ident: str = "MC-1") -> None:
    response = harness.client.post(f"/api/v1/tickets/{ident}/events", json={"events": RUN}, headers=worker)
    assert response.status_code == 201, response.text


def index_events(harness: Harness) -> int:
    return harness.call(event_index.catch_up, harness.db)


def test_what_workers_did_on_a_ticket_is_found_and_links_to_the_event(harness: Harness) -> None:
    harness.login()
    harness.ticket("Importer drops rows")
    worker = {**bearer(harness.token("worker", "worker-7"))}
    post_run(harness, worker)
    assert index_events(harness) > 0
    hits = harness.client.get("/api/v1/search", params={"q": "quokka"}, headers=worker).json()["hits"]
    assert {(h["kind"], h["role"]) for h in hits} == {("event", "user"), ("event", "assistant"),
                                                      ("event", "tool_use"), ("event", "tool_result")}  # fmt: skip
    call = next(h for h in hits if h["role"] == "tool_use")
    assert call["tool"] == "Bash" and call["agent"] == "worker-7" and call["ticket"] == "MC-1"
    assert call["url"] == "/ticket/MC-1/events/3" and harness.client.get(call["url"]).status_code == 200
    assert not harness.client.get("/api/v1/search", params={"q": "wallabies"}, headers=worker).json()["hits"]
    assert harness.client.get("/api/v1/search", params={"q": "quokka", "agent": "worker-7", "kind": "event"},
                              headers=worker).json()["counts"]["event"] == 4  # fmt: skip
    assert not harness.client.get("/api/v1/search", params={"q": "quokka", "agent": "nobody"}, headers=worker).json()[
        "hits"
    ]
    page = soup(harness.client.get("/search", params={"q": "quokka"}).text)
    assert "Runs 4" in {a.get_text(" ", strip=True) for a in page.select(".search-kinds a")}
    assert page.select_one(".hit-event .hit-meta a[href='/ticket/MC-1#ev-3']") is not None


def test_events_are_indexed_once_whoever_runs_the_indexer_and_go_with_their_ticket(harness: Harness) -> None:
    harness.login()
    harness.ticket("Importer drops rows")
    other = harness.ticket("Second ticket")
    worker = bearer(harness.token("worker"))
    post_run(harness, worker)
    post_run(harness, worker, other)
    harness.client.post(f"/api/v1/tickets/{other}/events", content=b'{"type": "user", "message": {"content": 7}}',
                        headers={**worker, "Content-Type": "application/json"})  # fmt: skip

    async def twice_at_once() -> None:
        await asyncio.gather(event_index.catch_up(harness.db), event_index.catch_up(harness.db))

    harness.call(twice_at_once)
    index_events(harness)
    count = harness.client.get("/api/v1/search", params={"q": "quokka"}, headers=worker).json()["counts"]["event"]
    assert count == 8, "four blocks a run, twice, each once"

    async def delete() -> None:
        ticket = await tickets.get_ticket(harness.db, other)
        assert ticket is not None
        await tickets.delete_ticket(harness.db, ticket.id)

    harness.call(delete)
    assert harness.client.get("/api/v1/search", params={"q": "quokka"}, headers=worker).json()["counts"]["event"] == 4


def test_the_running_app_indexes_new_events_by_itself(harness: Harness) -> None:
    harness.login()
    harness.ticket("Importer drops rows")
    worker = bearer(harness.token("worker"))
    post_run(harness, worker)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        found = harness.client.get("/api/v1/search", params={"q": "quokka"}, headers=worker).json()
        if found["counts"]["event"] == 4:
            break
        time.sleep(0.2)
    else:
        raise AssertionError("the app's indexer did not index the run within 10 s")


async def test_while_events_pour_in_the_indexer_takes_a_little_at_a_time(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """(On a database of its own: no app, so no background indexer racing this one.)"""
    writer = EventWriter(db, lambda events: None)
    writer.start()
    try:
        ticket = await tickets.get_ticket(db, await tickets.create_ticket(db, "MC", "Importer drops rows"))
        assert ticket is not None
        events, _ = parse_events(json.dumps({"events": RUN}).encode())
        await writer.submit(ticket.id, events, None)
    finally:
        await writer.stop()
    monkeypatch.setattr(event_index, "BUSY_BATCH", 2)
    assert await event_index.catch_up(db, lambda: True) == 2, "busy: one small batch"
    assert await event_index.catch_up(db, lambda: False) == len(RUN) - 2, "then the rest"
    assert await event_index.catch_up(db) == 0

"""Pages: whole page for plain and boosted requests, the fragment for htmx swaps, real 404s."""

from __future__ import annotations

import hashlib

import pytest

from app import ROOT
from app.frame import NAV
from tests.conftest import Harness, soup, text_of

HTMX = {"HX-Request": "true"}
BOOSTED = {"HX-Request": "true", "HX-Boosted": "true"}
PAGES = [href for href, _ in NAV]


@pytest.mark.parametrize("path", PAGES)
def test_every_nav_page_renders_whole_with_its_nav_entry_marked(harness: Harness, path: str) -> None:
    harness.login()
    response = harness.client.get(path)
    assert response.status_code == 200
    assert response.headers["vary"].startswith("HX-Request")
    page = soup(response.text)
    current = page.select('nav[aria-label="Main"] a[aria-current="page"]')
    assert [a["href"] for a in current] == [path]
    assert page.select_one("a.skip-link")["href"] == "#main"
    assert page.select_one("main#main h1").get_text(strip=True)
    labels = [a.get_text(strip=True) for a in page.select('nav[aria-label="Main"] a')]
    assert labels == [label for _, label in NAV]


@pytest.mark.parametrize("path", PAGES)
def test_an_htmx_request_gets_only_the_fragment(harness: Harness, path: str) -> None:
    harness.login()
    response = harness.client.get(path, headers=HTMX)
    assert response.status_code == 200
    assert response.headers["vary"].startswith("HX-Request")
    page = soup(response.text)
    assert page.find("html") is None and page.select_one('nav[aria-label="Main"]') is None
    roots = [el for el in page.children if getattr(el, "name", None)]
    assert len(roots) == 1, "a swapped fragment has one root"
    assert roots[0].get("id"), "a fragment's root has a stable id"
    assert roots[0].find("h1") is not None


def test_boosted_and_history_restore_requests_get_the_whole_page(harness: Harness) -> None:
    harness.login()
    for headers in (BOOSTED, {"HX-Request": "true", "HX-History-Restore-Request": "true"}):
        page = soup(harness.client.get("/board", headers=headers).text)
        assert page.find("html") is not None and page.select_one('nav[aria-label="Main"]') is not None


def test_ticket_page_shows_the_ticket_its_tags_and_its_comments(harness: Harness) -> None:
    harness.login()
    ident = harness.ticket("Fix SSE reconnect", description="Steps:\n\n- open\n- **reload**", tags=["bug"])
    html = harness.client.get(f"/ticket/{ident}").text
    assert text_of(html, "h1") == "Fix SSE reconnect"
    assert text_of(html, ".ticket-id") == f"{ident} Backlog"
    assert soup(html).select_one(".description strong").get_text() == "reload"
    assert soup(html).select_one("#edit-tags")["value"] == "bug"
    assert text_of(html, "#no-comments").startswith("Nothing here yet.")


def test_ticket_identifiers_are_case_insensitive_in_urls(harness: Harness) -> None:
    harness.login()
    ident = harness.ticket("Case")
    assert harness.client.get(f"/ticket/{ident.lower()}").status_code == 200


def test_unknown_ticket_and_unknown_route_get_a_real_404_page(harness: Harness) -> None:
    harness.login()
    missing = harness.client.get("/ticket/MC-424242")
    assert missing.status_code == 404
    assert "There is no ticket MC-424242." in text_of(missing.text, "main")
    assert soup(missing.text).select_one('nav[aria-label="Main"]') is not None
    nowhere = harness.client.get("/no/such/page")
    assert nowhere.status_code == 404
    assert text_of(nowhere.text, "h1") == "Not found"


def test_api_errors_are_json(harness: Harness) -> None:
    raw = harness.token("admin")
    response = harness.client.get("/api/v1/tickets/MC-9", headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 404
    assert response.json()["detail"] == "There is no ticket MC-9."


def test_plain_comment_post_redirects_back_to_the_ticket(harness: Harness) -> None:
    csrf = harness.login()
    ident = harness.ticket("Talk")
    response = harness.client.post(
        f"/ticket/{ident}/comments", data={"body": "Looks **good**", "_csrf": csrf}, follow_redirects=False
    )
    assert response.status_code == 303
    assert response.headers["location"].startswith(f"/ticket/{ident}#comment-")
    page = soup(harness.client.get(f"/ticket/{ident}").text)
    assert page.select_one("#timeline .comment .prose strong").get_text() == "good"


def test_htmx_comment_post_returns_the_new_comment_fragment(harness: Harness) -> None:
    csrf = harness.login()
    ident = harness.ticket("Talk")
    response = harness.client.post(
        f"/ticket/{ident}/comments", data={"body": "hello"}, headers={**HTMX, "X-CSRF-Token": csrf}
    )
    assert response.status_code == 201
    fragment = soup(response.text)
    assert fragment.select_one("li.comment .prose").get_text(strip=True) == "hello"
    assert fragment.select_one("#no-comments")["hx-swap-oob"] == "delete"


def test_an_empty_comment_is_refused_with_a_message(harness: Harness) -> None:
    csrf = harness.login()
    ident = harness.ticket("Talk")
    response = harness.client.post(f"/ticket/{ident}/comments", data={"body": "   ", "_csrf": csrf})
    assert response.status_code == 400
    assert response.text == "A comment needs some text."
    assert soup(harness.client.get(f"/ticket/{ident}").text).select("#timeline .comment") == []


def test_comment_markdown_is_sanitised(harness: Harness) -> None:
    csrf = harness.login()
    ident = harness.ticket("XSS")
    evil = '<script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror=alert(1)> <div hx-get="/x">'
    harness.client.post(f"/ticket/{ident}/comments", data={"body": evil, "_csrf": csrf})
    prose = soup(harness.client.get(f"/ticket/{ident}").text).select_one("#timeline .prose")
    assert prose.find("script") is None and prose.find("img") is None and prose.find("div") is None
    assert all(not a.get("href", "").startswith("javascript") for a in prose.find_all("a"))
    assert "<script>alert(1)</script>" in prose.get_text()  # shown as text, not run


def test_every_response_carries_the_security_headers(harness: Harness) -> None:
    for path in ("/healthz", "/login", "/static/app.css", "/board", "/nope"):
        headers = harness.client.get(path, follow_redirects=False).headers
        assert "script-src 'self'" in headers["content-security-policy"]
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "same-origin"


def test_htmx_is_configured_safely_and_vendored(harness: Harness) -> None:
    harness.login()
    page = soup(harness.client.get("/").text)
    config = page.find("meta", attrs={"name": "htmx-config"})["content"]
    assert '"selfRequestsOnly":true' in config
    assert '"allowEval":false' in config and '"allowScriptTags":false' in config
    scripts = [s["src"].partition("?")[0] for s in page.find_all("script")]
    assert "/static/vendor/htmx-2.0.11.min.js" in scripts
    assert all(s.startswith("/static/") for s in scripts)
    assert all(not s.string for s in page.find_all("script")), "no inline script"
    assert harness.client.get("/static/vendor/htmx-2.0.11.min.js").status_code == 200
    assert page.body["hx-boost"] == "true"


def test_healthz_reports_database_and_journal_mode(client) -> None:  # type: ignore[no-untyped-def]
    body = client.get("/healthz").json()
    assert body["status"] == "ok" and body["database"] == "reachable"
    assert body["journal_mode"] == "wal"
    assert body["sqlite_version"].count(".") == 2
    assert body["live"] == "poll", "no MC_REDIS_URL: each process polls SQLite"


def test_overview_counts_tickets_by_status(harness: Harness) -> None:
    harness.login()
    harness.ticket("one", status="blocked")
    harness.ticket("two", status="blocked")
    page = soup(harness.client.get("/").text)
    stats = {
        li.select_one(".stat-label").get_text(): li.select_one(".stat-n").get_text()
        for li in page.select("#tickets-title + ul li")
    }
    assert stats["Blocked"] == "2" and stats["Done"] == "0"


def test_static_files_are_linked_by_content_hash_and_kept_for_a_year(client) -> None:  # type: ignore[no-untyped-def]
    html = client.get("/login").text
    css = soup(html).find("link", rel="stylesheet")["href"]
    digest = hashlib.sha256((ROOT / "static" / "app.css").read_bytes()).hexdigest()[:12]
    assert css == f"/static/app.css?v={digest}", "a changed file gets a new address"
    response = client.get(css)
    assert response.status_code == 200
    assert set(response.headers["cache-control"].split(", ")) == {"public", "max-age=31536000", "immutable"}


def test_pages_go_compressed_to_a_browser_that_takes_gzip(harness: Harness) -> None:
    harness.login()
    harness.ticket("Something to show")
    response = harness.client.get("/board", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200 and response.headers["content-encoding"] == "gzip"
    vary = {v.strip() for v in response.headers["vary"].split(",")}
    assert {"HX-Request", "Accept-Encoding"} <= vary
    plain = harness.client.get("/board", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.text == response.text

"""Logging in and out, tokens, CSRF and the login rate limit."""

from __future__ import annotations

import time
from pathlib import Path

from app.auth import SESSION_COOKIE
from app.sqlite import driver as sqlite3
from app.store import tokens
from tests.conftest import Harness, bearer, csrf_of, soup, text_of


def login_with(harness: Harness, raw: str, **params: str):  # type: ignore[no-untyped-def]
    """Post a token to the login form."""
    return harness.client.post("/login", data={"token": raw, **params}, follow_redirects=False)


def test_a_page_without_login_redirects_to_login_and_back(harness: Harness) -> None:
    response = harness.client.get("/board?x=1", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fboard%3Fx%3D1"
    raw = harness.token("admin")
    back = login_with(harness, raw, next="/board?x=1")
    assert back.status_code == 303 and back.headers["location"] == "/board?x=1"


def test_login_sets_an_httponly_samesite_lax_cookie(harness: Harness) -> None:
    response = login_with(harness, harness.token("read"))
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    assert harness.client.get("/board").status_code == 200


def test_login_by_form_works_and_a_bad_token_says_why(harness: Harness) -> None:
    bad = harness.client.post("/login", data={"token": "nope", "next": "/"})
    assert bad.status_code == 401
    assert "not valid" in text_of(bad.text, "[role=alert]")
    good = harness.client.post(
        "/login", data={"token": harness.token("admin"), "next": "/tasks"}, follow_redirects=False
    )
    assert good.status_code == 303 and good.headers["location"] == "/tasks"


def test_an_empty_form_token_is_a_400_with_a_message(harness: Harness) -> None:
    response = harness.client.post("/login", data={"token": "  "})
    assert response.status_code == 400
    assert text_of(response.text, "[role=alert]") == "Paste a token to log in."


def test_login_never_redirects_to_another_site(harness: Harness) -> None:
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        response = login_with(harness, harness.token("admin"), next=target)
        assert response.headers["location"] == "/"


def test_every_login_gets_a_fresh_session_id_whatever_cookie_was_planted(harness: Harness) -> None:
    harness.client.cookies.set(SESSION_COOKIE, "planted-by-attacker")
    first = login_with(harness, harness.token("admin")).cookies[SESSION_COOKIE]
    second = login_with(harness, harness.token("admin")).cookies[SESSION_COOKIE]
    assert first != "planted-by-attacker" and second not in (first, "planted-by-attacker")


def test_logout_ends_the_session_on_the_server(harness: Harness) -> None:
    csrf = harness.login()
    session_id = harness.client.cookies[SESSION_COOKIE]
    response = harness.client.post("/logout", data={"_csrf": csrf}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login"
    harness.client.cookies.set(SESSION_COOKIE, session_id)  # replaying the old cookie does not work
    assert harness.client.get("/board", follow_redirects=False).status_code == 303


def test_a_login_link_works_once(harness: Harness) -> None:
    link = harness.call(tokens.create_login_link, harness.db)
    first = harness.client.get("/login", params={"token": link, "next": "/tasks"}, follow_redirects=False)
    assert first.status_code == 303 and first.headers["location"] == "/tasks"
    harness.client.cookies.clear()
    again = harness.client.get("/login", params={"token": link}, follow_redirects=False)
    assert again.status_code == 401 and "already used" in text_of(again.text, "[role=alert]")
    assert login_with(harness, link).status_code == 401
    assert harness.client.get("/api/v1/tickets/MC-1", headers=bearer(link)).status_code == 401


def test_a_lasting_token_in_a_link_is_refused_and_logs_nobody_in(harness: Harness) -> None:
    raw = harness.token("admin")
    response = harness.client.get("/login", params={"token": raw}, follow_redirects=False)
    assert response.status_code == 400 and SESSION_COOKIE not in response.cookies
    assert "paste yours into the form" in text_of(response.text, "[role=alert]")
    assert harness.client.get("/board", follow_redirects=False).status_code == 303


def test_only_a_login_link_starts_a_login_where_links_are_asked_for(harness: Harness) -> None:
    raw = harness.token("admin")
    assert harness.call(tokens.start_login, harness.db, raw, 1, link_only=True) is None
    link = harness.call(tokens.create_login_link, harness.db)
    assert harness.call(tokens.start_login, harness.db, link, 1, link_only=True) is not None


def test_a_revoked_token_ends_its_logins_and_bearer_use(harness: Harness) -> None:
    _name, raw = harness.call(tokens.create_token, harness.db, "admin", "laptop")
    assert login_with(harness, raw).status_code == 303
    assert harness.call(tokens.revoke_token, harness.db, "laptop")
    assert harness.client.get("/board", follow_redirects=False).status_code == 303
    assert harness.client.get("/api/v1/tickets/MC-1", headers=bearer(raw)).status_code == 401


def test_a_bearer_token_revoked_in_this_process_stops_at_once(harness: Harness) -> None:
    _name, raw = harness.call(tokens.create_token, harness.db, "admin", "script")
    assert harness.client.get("/api/v1/tickets", headers=bearer(raw)).status_code == 200  # looked up, remembered
    assert harness.call(tokens.revoke_token, harness.db, "script")
    assert harness.client.get("/api/v1/tickets", headers=bearer(raw)).status_code == 401


def test_a_bearer_token_revoked_elsewhere_stops_within_the_cache_time(  # type: ignore[no-untyped-def]
    harness: Harness, settings, monkeypatch
) -> None:
    monkeypatch.setattr(tokens, "BEARER_CACHE_S", 0.3)
    _name, raw = harness.call(tokens.create_token, harness.db, "admin", "script")
    assert harness.client.get("/api/v1/tickets", headers=bearer(raw)).status_code == 200
    with sqlite3.connect(settings.db_path) as other:  # `mc token revoke` in another process
        other.execute("UPDATE api_tokens SET revoked_at = 'now' WHERE name = 'script'")
    assert harness.client.get("/api/v1/tickets", headers=bearer(raw)).status_code == 200  # remembered still
    time.sleep(0.35)
    assert harness.client.get("/api/v1/tickets", headers=bearer(raw)).status_code == 401


def test_tokens_are_stored_only_as_hashes(harness: Harness, settings) -> None:  # type: ignore[no-untyped-def]
    raw = harness.token("admin")
    csrf = harness.login()
    # The files themselves, the WAL included: nothing on disk holds the token, whatever table it might reach.
    files = [Path(settings.db_path), Path(f"{settings.db_path}-wal")]
    dump = b"".join(path.read_bytes() for path in files if path.exists()).decode("latin-1")
    assert raw not in dump and raw[3:] not in dump
    assert tokens.hash_token(raw) in dump
    assert harness.client.cookies[SESSION_COOKIE] not in dump
    assert len(raw) >= 40 and csrf


def test_failed_logins_are_rate_limited_per_client(harness: Harness) -> None:
    for _ in range(5):  # the test settings allow 5 a minute
        assert login_with(harness, "wrong").status_code == 401
    limited = login_with(harness, harness.token("admin"))
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) > 0
    assert "Too many failed login attempts" in text_of(limited.text, "[role=alert]")


def test_a_cross_site_login_post_is_refused(harness: Harness) -> None:
    response = harness.client.post(
        "/login", data={"token": harness.token("admin")}, headers={"Origin": "https://evil.example"}
    )
    assert response.status_code == 403


def test_a_form_post_without_the_csrf_token_is_forbidden(harness: Harness) -> None:
    harness.login()
    ident = harness.ticket("Target")
    forged = harness.client.post(f"/ticket/{ident}/comments", data={"body": "forged"})
    assert forged.status_code == 403
    assert "security token" in forged.json()["detail"]
    wrong = harness.client.post(f"/ticket/{ident}/comments", data={"body": "x", "_csrf": "guess"})
    assert wrong.status_code == 403
    page = soup(harness.client.get(f"/ticket/{ident}").text)
    assert page.select("#timeline .comment") == []


def test_an_htmx_post_carries_the_csrf_token_in_a_header(harness: Harness) -> None:
    harness.login()
    ident = harness.ticket("Target")
    page = harness.client.get(f"/ticket/{ident}").text
    headers_attr = soup(page).body["hx-headers"]
    csrf = csrf_of(page)
    assert csrf in headers_attr and "X-CSRF-Token" in headers_attr
    ok = harness.client.post(
        f"/ticket/{ident}/comments", data={"body": "hi"}, headers={"HX-Request": "true", "X-CSRF-Token": csrf}
    )
    assert ok.status_code == 201


def test_bearer_requests_need_no_csrf_token(harness: Harness) -> None:
    worker = harness.token("worker")
    response = harness.client.post("/api/v1/heartbeats", json={"worker": "w1", "status": "ok"}, headers=bearer(worker))
    assert response.status_code == 201


def test_a_malformed_authorization_header_is_refused(harness: Harness) -> None:
    for value in ("Basic abc", "Bearer", "Bearer    ", "token"):
        response = harness.client.get("/api/v1/tickets/MC-1", headers={"Authorization": value})
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Bearer")


def test_an_htmx_request_after_logout_asks_for_a_full_redirect(harness: Harness) -> None:
    response = harness.client.get("/board", headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert response.headers["hx-redirect"] == "/login?next=%2Fboard"


def test_the_login_page_is_public_and_has_a_labelled_token_field(client) -> None:  # type: ignore[no-untyped-def]
    page = soup(client.get("/login").text)
    field = page.select_one("input#token")
    assert field["type"] == "password" and page.select_one("label[for=token]") is not None
    assert page.select_one('nav[aria-label="Main"]') is None

"""Hostile and careless input through the app: a 4xx that says what is wrong, never a 500, nothing stored
that breaks a page later. Each test is one finding of the probe (issue 8) or its kind."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from typing import Any

import pytest

from app.event_input import MAX_DEPTH
from app.sqlite import driver as sqlite3
from app.store import tickets
from tests.conftest import Harness, bearer, text_of

BIG = "9" * 31  # past SQLite's 64-bit integers


@pytest.fixture
def admin(harness: Harness) -> dict[str, str]:
    """An admin token's headers, and ticket MC-1."""
    harness.ticket("Target")
    return bearer(harness.token("admin"))


def nested(depth: int) -> str:
    """An event whose arrays and objects nest `depth` deep (the event object itself is one)."""
    inner = depth - 1
    return '{"type":"x","a":' + "[" * inner + "]" * inner + "}"


def post_event(harness: Harness, headers: dict[str, str], body: str) -> Any:
    """POST a raw event body as JSON."""
    return harness.client.post(
        "/api/v1/tickets/MC-1/events", content=body, headers={**headers, "Content-Type": "application/json"}
    )


# --- deep JSON ---------------------------------------------------------------------------------------------------


def test_an_event_nested_past_the_limit_is_refused_and_the_ticket_still_shows(
    harness: Harness, admin: dict[str, str]
) -> None:
    assert post_event(harness, admin, nested(MAX_DEPTH)).status_code == 201
    for depth in (MAX_DEPTH + 1, 975, 5000):
        refused = post_event(harness, admin, nested(depth))
        assert refused.status_code == 400, depth
        assert f"at most {MAX_DEPTH} deep" in refused.json()["detail"]
    assert harness.client.get("/ticket/MC-1", headers=admin).status_code == 200
    assert harness.client.get("/api/v1/tickets/MC-1/tail", headers=admin).status_code == 200
    assert len(harness.client.get("/api/v1/tickets/MC-1/events", headers=admin).json()) == 1


def test_a_deep_event_in_a_batch_is_named_by_its_place(harness: Harness, admin: dict[str, str]) -> None:
    body = '{"events": [{"type": "ok"}, ' + nested(MAX_DEPTH + 1) + "]}"
    refused = post_event(harness, admin, body)
    assert refused.status_code == 400 and refused.json()["detail"].startswith("events[1]: ")
    assert harness.client.get("/api/v1/tickets/MC-1/events", headers=admin).json() == []


def test_brackets_inside_strings_do_not_count_as_nesting(harness: Harness, admin: dict[str, str]) -> None:
    text = '[{"a": [' * 500 + '\\" \\\\'
    assert post_event(harness, admin, json.dumps({"type": "assistant", "text": text})).status_code == 201


def test_any_json_body_nested_thousands_deep_is_a_400(harness: Harness, admin: dict[str, str]) -> None:
    deep = '{"title": "x", "extra": ' + "[" * 5000 + "]" * 5000 + "}"
    for method, url in (("POST", "/api/v1/tickets"), ("PATCH", "/api/v1/tickets/MC-1"), ("POST", "/api/v1/queue")):
        response = harness.client.request(
            method, url, content=deep, headers={**admin, "Content-Type": "application/json"}
        )
        assert response.status_code == 400, (url, response.text)
        assert "nests" in response.json()["detail"]


def test_an_event_stored_before_the_limit_shows_as_a_row_and_breaks_nothing(
    harness: Harness, admin: dict[str, str], settings: Any
) -> None:
    with sqlite3.connect(settings.db_path) as conn:  # as an older release let it in
        conn.execute(
            "INSERT INTO ticket_events (ticket_id, seq, event_type, payload_json) VALUES (1, 1, 'x', ?)",
            (nested(980),),
        )
    page = harness.client.get("/ticket/MC-1", headers=admin)
    assert page.status_code == 200 and "nested too deeply" in page.text
    assert "nested too deeply" in harness.client.get("/api/v1/tickets/MC-1/tail", headers=admin).text
    assert harness.client.get("/api/v1/tickets/MC-1/events", headers=admin).status_code == 200


# --- odd text and numbers ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/api/v1/tickets?q=a%00b", "/board?q=a%00b", "/search?q=a%00b", "/palette?q=a%00b"])
def test_a_nul_byte_in_a_search_finds_nothing_instead_of_failing(
    harness: Harness, admin: dict[str, str], url: str
) -> None:
    assert harness.client.get(url, headers=admin).status_code == 200


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("GET", f"/api/v1/tickets/MC-1/events?after={BIG}"),
        ("GET", f"/api/v1/tickets/MC-1/stream?after={BIG}"),
        ("GET", f"/api/v1/tickets/MC-1/tail?follow=1&after={BIG}"),
        ("GET", f"/api/v1/stream?after={BIG}"),
        ("GET", "/api/v1/tickets/MC-1/events?after=%C2%B2"),
        ("GET", "/api/v1/tickets/MC-1/events?after=-1"),
        ("GET", f"/api/v1/tickets/MC-1/tail?lines={BIG}"),
        ("POST", f"/api/v1/queue/{BIG}/ack"),
        ("POST", f"/api/v1/queue/{BIG}/fail"),
        ("DELETE", f"/api/v1/tickets/MC-1/context/{BIG}"),
        ("POST", f"/ticket/MC-1/relationships/{BIG}/delete"),
        ("POST", f"/ticket/MC-1/context/{BIG}/delete"),
        ("GET", f"/board/columns/todo?after_key=1&after_id={BIG}"),
        ("GET", "/board/columns/todo?after_key=nan&after_id=1"),
        ("GET", "/board/columns/todo?after_key=inf&after_id=1"),
    ],
)
def test_numbers_out_of_range_are_a_400_that_names_the_parameter(
    harness: Harness, admin: dict[str, str], method: str, url: str
) -> None:
    body = {"worker": "w", "error": "e"} if "/queue/" in url else None
    response = harness.client.request(method, url, headers=admin, json=body)
    assert response.status_code == 400, response.text


@pytest.mark.parametrize("value", ["9" * 4300, "²", "-1", "1 2", BIG])
def test_a_malformed_last_event_id_is_a_400(harness: Harness, admin: dict[str, str], value: str) -> None:
    for url in ("/api/v1/tickets/MC-1/stream", "/api/v1/stream", "/api/v1/tickets/MC-1/tail?follow=1"):
        response = harness.client.get(url, headers={**admin, "Last-Event-ID": value.encode()})  # type: ignore[dict-item]
        assert response.status_code == 400 and "Last-Event-ID" in response.json()["detail"], url


@pytest.mark.parametrize("name", ["a%00b.css", "a" * 300, "a/" * 200 + "b", "app.css%00"])
def test_a_static_name_no_file_can_have_is_simply_not_found(client: Any, name: str) -> None:
    assert client.get(f"/static/{name}").status_code == 404


def test_json_sent_as_text_plain_is_refused_with_415(harness: Harness, admin: dict[str, str]) -> None:
    body = json.dumps({"title": "Smuggled"})
    response = harness.client.post("/api/v1/tickets", content=body, headers={**admin, "Content-Type": "text/plain"})
    assert response.status_code == 415 and "application/json" in response.json()["detail"]
    form = harness.client.post("/api/v1/tickets", data={"title": "Form"}, headers=admin)
    assert form.status_code == 415
    assert [t["title"] for t in harness.client.get("/api/v1/tickets", headers=admin).json()["items"]] == ["Target"]


# --- the 500s that remain ------------------------------------------------------------------------------------------


def test_a_500_is_logged_with_its_traceback_and_tells_the_client_nothing_inside(
    harness: Harness, admin: dict[str, str], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "SELECT secret_column FROM api_tokens -- /home/luci/mc.db"

    async def broken(*args: Any, **kwargs: Any) -> None:
        raise sqlite3.OperationalError(secret)

    monkeypatch.setattr(tickets, "get_ticket", broken)
    with caplog.at_level(logging.ERROR, logger="mc"):
        api = harness.client.get("/api/v1/tickets/MC-1/relationships", headers=admin)
        page = harness.client.get("/ticket/MC-1", headers=admin)
    assert api.status_code == 500 and page.status_code == 500
    for response in (api, page):
        assert (
            secret not in response.text
            and "Traceback" not in response.text
            and admin["Authorization"][7:] not in (response.text)
        )
    assert "has been logged" in api.json()["detail"]
    assert text_of(page.text, "h1") == "Something went wrong"
    logged = [r for r in caplog.records if r.name == "mc.app"]
    assert len(logged) == 2 and logged[0].exc_info is not None and secret in caplog.text


def test_a_database_locked_by_another_program_is_a_503_with_retry_after_then_works_again(
    harness: Harness, admin: dict[str, str], settings: Any
) -> None:
    harness.call(harness.db._writer.execute, "PRAGMA busy_timeout = 200")  # not 5 s: keep the test quick
    # Another program (the sqlite3 shell, say) mid-transaction. Another process, not this one: two SQLite
    # libraries in one process share its POSIX locks, so the lock would not hold against the app.
    hold = "import sqlite3,sys; c=sqlite3.connect(sys.argv[1], isolation_level=None); c.execute('BEGIN IMMEDIATE');"
    other = subprocess.Popen(
        [sys.executable, "-c", hold + "print('held', flush=True); sys.stdin.read()", str(settings.db_path)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert other.stdout is not None and other.stdout.readline() == "held\n"
        busy = harness.client.post("/api/v1/tickets", json={"title": "Waits"}, headers=admin)
        assert busy.status_code == 503 and busy.headers["retry-after"] == "2"
        assert "busy" in busy.json()["detail"]
    finally:
        other.communicate("")
    assert harness.client.post("/api/v1/tickets", json={"title": "Goes in"}, headers=admin).status_code == 201
    titles = [t["title"] for t in harness.client.get("/api/v1/tickets", headers=admin).json()["items"]]
    assert titles == ["Goes in", "Target"]


# --- every parameter of every route --------------------------------------------------------------------------------

ODD_TEXT = [
    "\x00", "a\x00b", BIG, "-" + BIG, "²", "\uff11\uff12", "nan", "-inf", "1e999", "A" * 5000, "%", "é" * 300,
    "../../etc/passwd", "<script>alert(1)</script>", "'; DROP TABLE tickets; --", "\u202e\ufeff", " ", "",
]  # fmt: skip
ODD_JSON: list[Any] = [*ODD_TEXT, 10**30, -(10**30), 1.5e308, -0.0, True, None, [], {}, ["x"] * 10_000]
SANE = {"identifier": "MC-1", "status": "todo", "link_id": "1", "context_id": "1", "message_id": "1"}
SKIPPED = ("/static", "/schema")  # served by Litestar's own routers: tested above and by schemathesis


def routes_and_parameters(app: Any) -> list[tuple[str, str, list[str], list[str], Any]]:
    """(method, path template, path parameters, query parameters, body type) of every route handler."""
    from litestar.routes import HTTPRoute

    found = []
    for route in app.routes:
        if (
            not isinstance(route, HTTPRoute)
            or route.path.startswith(SKIPPED)
            or route.path.endswith(("/stream", "/tail"))
        ):
            continue
        for handler in route.route_handlers:
            params = handler.parsed_fn_signature.parameters
            path_params = [
                p for p in params if "{" + p + ":" in route.path_format or "{" + p + "}" in route.path_format
            ]
            query = [
                name for name, field in params.items()
                if name not in ("request", "scope", "data", *path_params)
                and not getattr(field.kwarg_definition, "header", None)
            ]  # fmt: skip
            body = params["data"].annotation if "data" in params else None
            for method in handler.http_methods - {"OPTIONS"}:
                found.append((method, route.path_format, path_params, query, body))
    return found


def field_names(annotation: Any) -> list[str]:
    """The fields of a body type: a Struct, or a Struct inside Annotated[...] or a union with None."""
    import typing

    import msgspec

    for candidate in (annotation, *typing.get_args(annotation)):
        if isinstance(candidate, type) and issubclass(candidate, msgspec.Struct):
            return [f.name for f in msgspec.structs.fields(candidate)]
        if typing.get_args(candidate):
            found = field_names(candidate)
            if found:
                return found
    return []


def fill(template: str, values: dict[str, str]) -> str:
    """The path with its parameters put in, each percent-encoded."""
    from urllib.parse import quote

    for name, value in values.items():
        template = template.replace("{" + name + "}", quote(value, safe=""))
    return template


def test_odd_values_in_every_parameter_and_field_of_every_route_never_give_a_500(
    harness: Harness, admin: dict[str, str]
) -> None:
    failures, sent = [], 0

    def check(method: str, url: str, **kwargs: Any) -> None:
        nonlocal sent
        sent += 1
        response = harness.client.request(method, url, headers=admin, **kwargs)
        if response.status_code >= 500:
            failures.append(f"{method} {url[:120]} {str(kwargs)[:120]} -> {response.status_code}")

    for method, template, path_params, query, body in routes_and_parameters(harness.client.app):
        base = {p: SANE.get(p, "1") for p in path_params}
        for name in [*path_params, *query]:
            for value in ODD_TEXT:
                if name in path_params:
                    check(method, fill(template, {**base, name: value}))
                else:
                    check(method, fill(template, base), params={name: value})
        if body is not None:
            url = fill(template, base)
            for name in field_names(body):
                for value in ODD_JSON if url.startswith("/api/") else ODD_TEXT:
                    if url.startswith("/api/"):
                        check(method, url, json={name: value})
                    else:
                        check(method, url, data={name: value})
    assert failures == []
    assert sent > 2000  # every route, parameter and body field was reached (about 2,450 requests)

"""The JSON API: tickets, paging, filters, validation, comments, tags, scopes and the OpenAPI document."""

from __future__ import annotations

from typing import Any

import pytest

from app import rules
from app.store import tickets
from tests.conftest import Harness, bearer, soup

API = "/api/v1/tickets"


@pytest.fixture
def admin(harness: Harness) -> dict[str, str]:
    """Headers of an admin token named "boss"."""
    return bearer(harness.token("admin", "boss"))


def identifiers(response: Any) -> list[str]:
    """The identifiers of a list response, in order."""
    assert response.status_code == 200, response.text
    return [item["identifier"] for item in response.json()["items"]]


def walk(harness: Harness, headers: dict[str, str], between: Any = None, **params: Any) -> list[list[str]]:
    """Every page of the list, following next_cursor; `between()` runs after each page."""
    pages, cursor = [], None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        response = harness.client.get(API, params=query, headers=headers)
        pages.append(identifiers(response))
        cursor = response.json()["next_cursor"]
        if cursor is None:
            return pages
        if between:
            between()


# --- create, read, change, delete -------------------------------------------------------------------------------


def test_a_ticket_round_trips_through_create_read_patch_and_delete(harness: Harness, admin: dict[str, str]) -> None:
    created = harness.client.post(API, json={"title": "Write the API", "priority": 2}, headers=admin)
    assert created.status_code == 201
    ident = created.json()["identifier"]
    assert harness.client.get(f"{API}/{ident}", headers=admin).json() == created.json()
    changed = harness.client.patch(f"{API}/{ident}", json={"title": "Write the JSON API"}, headers=admin)
    assert changed.status_code == 200 and changed.json()["title"] == "Write the JSON API"
    assert harness.client.delete(f"{API}/{ident}", headers=admin).status_code == 204
    assert harness.client.get(f"{API}/{ident}", headers=admin).status_code == 404


def test_a_created_ticket_has_every_field_and_no_internal_ones(harness: Harness, admin: dict[str, str]) -> None:
    body = {"title": "Tidy", "description": "Words", "status": "todo", "priority": 1, "assigned_to": "luci"}
    item = harness.client.post(API, json=body, headers=admin).json()
    assert set(item) == {*body, "identifier", "tags", "created_at", "updated_at"}
    assert {k: item[k] for k in body} == body
    assert item["identifier"].startswith("MC-")


def test_omitted_fields_get_their_defaults(harness: Harness, admin: dict[str, str]) -> None:
    item = harness.client.post(API, json={"title": "Just a title"}, headers=admin).json()
    assert (item["status"], item["priority"], item["assigned_to"], item["description"]) == ("backlog", 3, None, "")


def test_tags_are_suggested_from_the_text_when_omitted(harness: Harness, admin: dict[str, str]) -> None:
    body = {"title": "Fix the crash on login", "description": "Also #infra"}
    assert harness.client.post(API, json=body, headers=admin).json()["tags"] == ["bug", "infra"]


def test_explicit_tags_are_used_as_given_after_cleaning(harness: Harness, admin: dict[str, str]) -> None:
    body = {"title": "Fix the crash", "tags": ["UI-Polish", "#research", "ui-polish"]}
    assert harness.client.post(API, json=body, headers=admin).json()["tags"] == ["research", "ui-polish"]


def test_an_explicit_empty_tag_list_means_no_tags(harness: Harness, admin: dict[str, str]) -> None:
    assert harness.client.post(API, json={"title": "Fix the crash", "tags": []}, headers=admin).json()["tags"] == []


def test_get_shows_the_tickets_tags(harness: Harness, admin: dict[str, str]) -> None:
    ident = harness.ticket("Quiet", tags=["infra", "bug"])
    assert harness.client.get(f"{API}/{ident.lower()}", headers=admin).json()["tags"] == ["bug", "infra"]


def test_patch_changes_only_the_fields_it_names(harness: Harness, admin: dict[str, str]) -> None:
    ident = harness.ticket("Old title", description="Keep me", priority=4, assigned_to="luci")
    item = harness.client.patch(f"{API}/{ident}", json={"priority": 1}, headers=admin).json()
    assert (item["title"], item["description"], item["priority"], item["assigned_to"]) == (
        "Old title",
        "Keep me",
        1,
        "luci",
    )


def test_patch_assigned_to_null_unassigns(harness: Harness, admin: dict[str, str]) -> None:
    ident = harness.ticket("Mine", assigned_to="luci")
    item = harness.client.patch(f"{API}/{ident}", json={"assigned_to": None}, headers=admin).json()
    assert item["assigned_to"] is None


def test_patch_without_assigned_to_leaves_the_assignee(harness: Harness, admin: dict[str, str]) -> None:
    ident = harness.ticket("Mine", assigned_to="luci")
    item = harness.client.patch(f"{API}/{ident}", json={"title": "Still mine"}, headers=admin).json()
    assert item["assigned_to"] == "luci"


def test_patch_status_puts_the_card_on_top_of_its_new_column(harness: Harness, admin: dict[str, str]) -> None:
    harness.ticket("Waiting one", status="review")
    harness.ticket("Waiting two", status="review")
    ident = harness.ticket("Done coding", status="in_progress")
    assert harness.client.patch(f"{API}/{ident}", json={"status": "review"}, headers=admin).json()["status"] == "review"
    board = soup(harness.client.get("/board", headers=admin).text)
    assert board.select("#cards-review li.card")[0]["id"] == f"card-{ident}"
    assert f"card-{ident}" not in [li["id"] for li in board.select("#cards-in_progress li.card")]


def test_patch_tags_replaces_them(harness: Harness, admin: dict[str, str]) -> None:
    ident = harness.ticket("Tagged", tags=["bug"])
    item = harness.client.patch(f"{API}/{ident}", json={"tags": ["infra"]}, headers=admin).json()
    assert item["tags"] == ["infra"]


def test_an_empty_patch_changes_nothing(harness: Harness, admin: dict[str, str]) -> None:
    ident = harness.ticket("Same")
    before = harness.client.get(f"{API}/{ident}", headers=admin).json()
    assert harness.client.patch(f"{API}/{ident}", json={}, headers=admin).json() == before


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [("GET", "", None), ("PATCH", "", {}), ("DELETE", "", None), ("POST", "/comments", {"body": "x"}),
     ("PUT", "/tags", {"tags": []})],
)  # fmt: skip
def test_an_unknown_ticket_is_a_404_that_names_it(
    harness: Harness, admin: dict[str, str], method: str, suffix: str, body: Any
) -> None:
    response = harness.client.request(method, f"{API}/MC-9{suffix}", json=body, headers=admin)
    assert response.status_code == 404
    assert response.json()["detail"] == "There is no ticket MC-9."


# --- listing: keyset paging and filters -------------------------------------------------------------------------


def test_paging_walks_120_tickets_in_three_pages_newest_first(harness: Harness, admin: dict[str, str]) -> None:
    made = [harness.ticket(f"Task {n}") for n in range(120)]
    pages = walk(harness, admin, limit=50)
    assert [len(p) for p in pages] == [50, 50, 20]
    assert [i for p in pages for i in p] == list(reversed(made))


def test_paging_is_stable_while_tickets_are_created(harness: Harness, admin: dict[str, str]) -> None:
    made = [harness.ticket(f"Task {n}") for n in range(120)]
    late: list[str] = []
    pages = walk(harness, admin, between=lambda: late.append(harness.ticket("Created mid-walk")), limit=50)
    seen = [i for p in pages for i in p]
    assert len(late) == 2
    assert seen == list(reversed(made))  # none skipped, none twice, the new ones not slipped in


def test_the_default_page_is_fifty(harness: Harness, admin: dict[str, str]) -> None:
    for n in range(51):
        harness.ticket(f"Task {n}")
    response = harness.client.get(API, headers=admin)
    assert len(identifiers(response)) == 50 and response.json()["next_cursor"]


def test_the_last_page_has_no_cursor(harness: Harness, admin: dict[str, str]) -> None:
    harness.ticket("Only one")
    assert harness.client.get(API, headers=admin).json()["next_cursor"] is None


def test_filter_by_status(harness: Harness, admin: dict[str, str]) -> None:
    wanted = harness.ticket("Ready", status="todo")
    harness.ticket("Later")
    assert identifiers(harness.client.get(API, params={"status": "todo"}, headers=admin)) == [wanted]


def test_filter_by_assignee(harness: Harness, admin: dict[str, str]) -> None:
    wanted = harness.ticket("Hers", assigned_to="lucienne")
    harness.ticket("His", assigned_to="luci")
    harness.ticket("Nobody's")
    assert identifiers(harness.client.get(API, params={"assignee": "lucienne"}, headers=admin)) == [wanted]


def test_filter_assignee_none_finds_the_unassigned(harness: Harness, admin: dict[str, str]) -> None:
    harness.ticket("His", assigned_to="luci")
    wanted = harness.ticket("Nobody's")
    assert identifiers(harness.client.get(API, params={"assignee": "none"}, headers=admin)) == [wanted]


def test_filter_by_tag(harness: Harness, admin: dict[str, str]) -> None:
    wanted = harness.ticket("One", tags=["infra", "bug"])
    harness.ticket("Two", tags=["bug"])
    assert identifiers(harness.client.get(API, params={"tag": "infra"}, headers=admin)) == [wanted]


def test_filter_by_priority(harness: Harness, admin: dict[str, str]) -> None:
    wanted = harness.ticket("Now", priority=1)
    harness.ticket("Whenever", priority=4)
    assert identifiers(harness.client.get(API, params={"priority": 1}, headers=admin)) == [wanted]


def test_filter_by_words_in_title_or_description(harness: Harness, admin: dict[str, str]) -> None:
    by_title = harness.ticket("Reconnect the SSE stream")
    by_text = harness.ticket("Other", description="the stream drops")
    harness.ticket("Unrelated")
    assert identifiers(harness.client.get(API, params={"q": "stream"}, headers=admin)) == [by_text, by_title]


@pytest.mark.parametrize("text", ['"(AND', "NEAR(a b)", "col:umn", "x' --", "*"])
def test_search_text_is_never_fts_syntax(harness: Harness, admin: dict[str, str], text: str) -> None:
    harness.ticket("Something")
    assert harness.client.get(API, params={"q": text}, headers=admin).status_code == 200


def test_filters_combine_and_page(harness: Harness, admin: dict[str, str]) -> None:
    wanted = [harness.ticket(f"Urgent {n}", status="todo", priority=1) for n in range(5)]
    harness.ticket("Urgent elsewhere", status="done", priority=1)
    harness.ticket("Calm", status="todo", priority=4)
    newest_first = list(reversed(wanted))
    pages = walk(harness, admin, status="todo", priority=1, limit=2)
    assert pages == [newest_first[0:2], newest_first[2:4], newest_first[4:]]


# --- validation ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "title"),
        ({"title": ""}, "title"),
        ({"title": "   "}, "title"),
        ({"title": "x" * 301}, "title"),
        ({"title": 5}, "title"),
        ({"title": "T", "description": "x" * 100_001}, "description"),
        ({"title": "T", "status": "doing"}, "status"),
        ({"title": "T", "priority": 9}, "priority"),
        ({"title": "T", "priority": 0}, "priority"),
        ({"title": "T", "assigned_to": "x" * 81}, "assigned_to"),
        ({"title": "T", "tags": ["<script>"]}, "tags"),
        ({"title": "T", "tags": "bug"}, "tags"),
    ],
)
def test_a_bad_new_ticket_is_a_400_naming_the_field(
    harness: Harness, admin: dict[str, str], body: dict[str, Any], field: str
) -> None:
    response = harness.client.post(API, json=body, headers=admin)
    assert response.status_code == 400
    assert field in response.json()["detail"]
    assert not response.json()["detail"].startswith("Validation failed")


@pytest.mark.parametrize(
    ("body", "field"),
    [({"title": " "}, "title"), ({"title": None}, "title"), ({"status": "gone"}, "status"),
     ({"priority": 5}, "priority"), ({"assigned_to": ""}, "assigned_to"), ({"tags": ["a b c d"]}, "tags")],
)  # fmt: skip
def test_a_bad_patch_is_a_400_naming_the_field(
    harness: Harness, admin: dict[str, str], body: dict[str, Any], field: str
) -> None:
    ident = harness.ticket("Untouched", tags=["bug"])
    before = harness.client.get(f"{API}/{ident}", headers=admin).json()
    response = harness.client.patch(f"{API}/{ident}", json=body, headers=admin)
    assert response.status_code == 400 and field in response.json()["detail"]
    assert harness.client.get(f"{API}/{ident}", headers=admin).json() == before


@pytest.mark.parametrize("body", [{}, {"body": ""}, {"body": "  \n"}, {"body": "x" * 100_001}])
def test_a_bad_comment_is_a_400_naming_the_body(harness: Harness, admin: dict[str, str], body: dict[str, Any]) -> None:
    ident = harness.ticket("Talk")
    response = harness.client.post(f"{API}/{ident}/comments", json=body, headers=admin)
    assert response.status_code == 400 and "body" in response.json()["detail"]


@pytest.mark.parametrize(
    ("params", "name"),
    [({"priority": 9}, "priority"), ({"priority": "high"}, "priority"), ({"status": "doing"}, "status"),
     ({"limit": 0}, "limit"), ({"limit": 201}, "limit"), ({"cursor": "not-a-cursor"}, "cursor"),
     ({"cursor": "t1.0"}, "cursor")],  # well-formed, but no page ends there
)  # fmt: skip
def test_a_bad_filter_is_a_400_naming_the_parameter(
    harness: Harness, admin: dict[str, str], params: dict[str, Any], name: str
) -> None:
    response = harness.client.get(API, params=params, headers=admin)
    assert response.status_code == 400
    assert response.json()["detail"].startswith(f"{name}: ")


def test_priority_errors_say_the_range(harness: Harness, admin: dict[str, str]) -> None:
    detail = harness.client.post(API, json={"title": "T", "priority": 9}, headers=admin).json()["detail"]
    assert detail.startswith("priority: ") and "1-4" in detail


@pytest.mark.parametrize("raw", [b'{"title": "cut', b"title=x", b"{'title': 'x'}"])
def test_malformed_json_is_a_400_that_says_so(harness: Harness, admin: dict[str, str], raw: bytes) -> None:
    response = harness.client.post(API, content=raw, headers={**admin, "Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["detail"].startswith("The request body is not valid JSON")


@pytest.mark.parametrize(
    "body", [{"title": "Fix the crash", "tags": ["ok", "<bad>"]}, {"title": "Fix the crash", "priority": 7}]
)
def test_nothing_is_stored_after_a_failed_create(harness: Harness, admin: dict[str, str], body: dict[str, Any]) -> None:
    assert harness.client.post(API, json=body, headers=admin).status_code == 400
    assert identifiers(harness.client.get(API, headers=admin)) == []
    assert harness.client.get(API, params={"tag": "ok"}, headers=admin).json()["items"] == []


def test_a_bad_heartbeat_names_its_field_without_the_ticket_hints(harness: Harness) -> None:
    worker = bearer(harness.token("worker"))
    response = harness.client.post("/api/v1/heartbeats", json={"worker": "w1", "status": "asleep"}, headers=worker)
    assert response.status_code == 400
    assert response.json()["detail"] == "status: Invalid enum value 'asleep'"


# --- comments and tags ------------------------------------------------------------------------------------------


def test_a_comment_is_signed_with_the_tokens_name(harness: Harness, admin: dict[str, str]) -> None:
    ident = harness.ticket("Talk")
    response = harness.client.post(f"{API}/{ident}/comments", json={"body": "Looks **good**"}, headers=admin)
    assert response.status_code == 201
    comment = response.json()
    assert set(comment) == {"id", "author", "body", "created_at"}
    assert (comment["author"], comment["body"]) == ("boss", "Looks **good**")
    ticket = harness.call(tickets.get_ticket, harness.db, ident)
    assert harness.call(tickets.list_comments, harness.db, ticket.id)[0].id == comment["id"]


def test_put_tags_replaces_the_whole_set(harness: Harness, admin: dict[str, str]) -> None:
    ident = harness.ticket("Tagged", tags=["bug", "infra"])
    response = harness.client.put(f"{API}/{ident}/tags", json={"tags": ["Research", "bug"]}, headers=admin)
    assert response.status_code == 200 and response.json() == {"tags": ["bug", "research"]}
    assert harness.client.get(f"{API}/{ident}", headers=admin).json()["tags"] == ["bug", "research"]


def test_put_tags_with_a_bad_tag_keeps_the_old_ones(harness: Harness, admin: dict[str, str]) -> None:
    ident = harness.ticket("Tagged", tags=["bug"])
    response = harness.client.put(f"{API}/{ident}/tags", json={"tags": ["fine", "not fine!"]}, headers=admin)
    assert response.status_code == 400
    assert response.json()["detail"] == "tags[1]: a tag is 1-40 letters, digits, - or _, like ui-polish"
    assert harness.client.get(f"{API}/{ident}", headers=admin).json()["tags"] == ["bug"]


# --- who may do what ----------------------------------------------------------------------------------------------


def test_a_read_token_may_list_and_read_but_not_write(harness: Harness) -> None:
    ident = harness.ticket("Look")
    read = bearer(harness.token("read"))
    assert harness.client.get(API, headers=read).status_code == 200
    assert harness.client.get(f"{API}/{ident}", headers=read).status_code == 200
    assert harness.client.post(API, json={"title": "No"}, headers=read).status_code == 403
    assert harness.client.patch(f"{API}/{ident}", json={"title": "No"}, headers=read).status_code == 403


def test_a_worker_may_file_change_and_comment_but_not_delete(harness: Harness) -> None:
    worker = bearer(harness.token("worker", "agent-7"))
    ident = harness.client.post(API, json={"title": "Follow-up"}, headers=worker).json()["identifier"]
    assert harness.client.patch(f"{API}/{ident}", json={"status": "review"}, headers=worker).status_code == 200
    comment = harness.client.post(f"{API}/{ident}/comments", json={"body": "Done"}, headers=worker)
    assert comment.status_code == 201 and comment.json()["author"] == "agent-7"
    assert harness.client.put(f"{API}/{ident}/tags", json={"tags": ["bug"]}, headers=worker).status_code == 200
    assert harness.client.get(API, headers=worker).status_code == 200
    assert harness.client.delete(f"{API}/{ident}", headers=worker).status_code == 403


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", API), ("POST", API), ("GET", f"{API}/MC-1"), ("PATCH", f"{API}/MC-1"), ("DELETE", f"{API}/MC-1"),
     ("POST", f"{API}/MC-1/comments"), ("PUT", f"{API}/MC-1/tags")],
)  # fmt: skip
def test_anonymous_callers_get_401(harness: Harness, method: str, path: str) -> None:
    response = harness.client.request(method, path, json={})
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")


# --- the OpenAPI document -----------------------------------------------------------------------------------------


def test_the_openapi_document_lists_every_api_route(harness: Harness, admin: dict[str, str]) -> None:
    document = harness.client.get("/schema/openapi.json", headers=admin).json()
    routes = {(path, method) for path, ops in document["paths"].items() if path.startswith("/api/") for method in ops}
    assert routes >= {
        (API, "get"), (API, "post"),
        (f"{API}/{{identifier}}", "get"), (f"{API}/{{identifier}}", "patch"), (f"{API}/{{identifier}}", "delete"),
        (f"{API}/{{identifier}}/comments", "post"), (f"{API}/{{identifier}}/tags", "put"),
        ("/api/v1/heartbeats", "post"),
    }  # fmt: skip


def test_the_openapi_document_states_the_field_rules(harness: Harness, admin: dict[str, str]) -> None:
    schemas = harness.client.get("/schema/openapi.json", headers=admin).json()["components"]["schemas"]
    new = schemas["TicketIn"]["properties"]
    assert (new["title"]["minLength"], new["title"]["maxLength"]) == (1, 300)
    assert (new["priority"]["minimum"], new["priority"]["maximum"]) == (1, 4)
    assert set(new["status"]["enum"]) == set(rules.STATUSES)

"""The board: columns, counts, filters, load more with keyset paging, moves, and the fragment cache."""

from __future__ import annotations

import json

import pytest

from app import rules
from tests.conftest import Harness, soup

HTMX = {"HX-Request": "true"}


def column_ids(html: str, status: str) -> list[str]:
    """The card identifiers of one column, top to bottom."""
    return [li["id"].removeprefix("card-") for li in soup(html).select(f"#cards-{status} li.card")]


def more_link(html: str, status: str) -> str | None:
    """The href of a column's load-more control."""
    link = soup(html).select_one(f"#cards-{status} li.more a")
    return link["href"] if link else None


def test_columns_come_in_board_order_with_their_counts(harness: Harness) -> None:
    harness.login()
    harness.ticket("One", status="todo")
    harness.ticket("Two", status="todo")
    harness.ticket("Three", status="review")
    page = soup(harness.client.get("/board").text)
    headings = [h.get_text(" ", strip=True) for h in page.select(".column h2")]
    assert headings == [
        "Backlog 0 tickets", "To do 2 tickets", "In progress 0 tickets",
        "Review 1 tickets", "Blocked 0 tickets", "Done 0 tickets",
    ]  # fmt: skip
    tabs = [a.get_text(" ", strip=True) for a in page.select("nav.column-tabs a")]
    assert tabs[1] == "To do 2"


def test_a_card_shows_identifier_title_priority_assignee_and_tags(harness: Harness) -> None:
    harness.login()
    ident = harness.ticket("Fix the flaky reconnect", status="todo", priority=1, assigned_to="luci")
    card = soup(harness.client.get("/board").text).select_one(f"#card-{ident}")
    assert card.select_one("a")["href"] == f"/ticket/{ident}"
    assert card.select_one("a small").get_text() == ident
    text = card.get_text(" ", strip=True)
    assert "Fix the flaky reconnect" in text and "Urgent" in text and "luci" in text
    assert [t.get_text() for t in card.select(".tag")] == ["bug"]  # assigned from the title


def test_newest_updated_cards_come_first(harness: Harness) -> None:
    csrf = harness.login()
    older = harness.ticket("Older", status="todo")
    newer = harness.ticket("Newer", status="todo")
    assert column_ids(harness.client.get("/board").text, "todo") == [newer, older]
    harness.client.post(f"/ticket/{older}/comments", data={"body": "bump", "_csrf": csrf})
    assert column_ids(harness.client.get("/board").text, "todo") == [older, newer]


def test_thirty_cards_then_load_more_pages_through_the_rest_without_duplicates(harness: Harness) -> None:
    harness.login()
    made = [harness.ticket(f"Task {n}", status="done") for n in range(75)]
    html = harness.client.get("/board").text
    seen = column_ids(html, "done")
    assert len(seen) == 30
    url = more_link(html, "done")
    pages = 1
    while url:
        fragment = harness.client.get(url, headers=HTMX)
        assert fragment.status_code == 200 and fragment.headers["vary"].startswith("HX-Request")
        items = soup(fragment.text).select("li.card")
        seen += [li["id"].removeprefix("card-") for li in items]
        link = soup(fragment.text).select_one("li.more a")
        url = link["href"] if link else None
        pages += 1
    assert pages == 3
    assert seen == list(reversed(made))


def test_load_more_without_javascript_is_a_page(harness: Harness) -> None:
    harness.login()
    for n in range(31):
        harness.ticket(f"Task {n}", status="todo")
    url = more_link(harness.client.get("/board").text, "todo")
    page = soup(harness.client.get(url).text)
    assert page.select_one("h1").get_text() == "To do: more cards"
    assert len(page.select("#cards-todo li.card")) == 1
    assert page.select_one('nav[aria-label="Main"]') is not None


def test_load_more_hands_over_cards_that_moved_above_the_cursor(harness: Harness) -> None:
    csrf = harness.login()
    made = [harness.ticket(f"Task {n}", status="todo") for n in range(40)]
    html = harness.client.get("/board").text
    url = more_link(html, "todo")
    # Meanwhile: the oldest card (on page 2) is edited, and a new card arrives; both now sort on top.
    harness.client.post(f"/ticket/{made[0]}/comments", data={"body": "bump", "_csrf": csrf})
    newcomer = harness.ticket("Arrived while paging", status="todo")
    fragment = soup(harness.client.get(url, headers=HTMX).text)
    next_page = [li["id"].removeprefix("card-") for li in fragment.find_all("li", class_="card", recursive=False)]
    template = fragment.find("template", class_="moved-cards")  # inert until app.js places its cards on top
    assert template["data-into"] == "cards-todo"
    moved = [li["id"].removeprefix("card-") for li in template.find_all("li", class_="card")]
    assert set(moved) == {made[0], newcomer}
    first_page = column_ids(html, "todo")
    shown = set(first_page) | set(next_page) | set(moved)
    assert shown == set(made) | {newcomer}, "no gaps"
    assert len(first_page) + len(next_page) == len(set(first_page) | set(next_page)), "no duplicates"


def test_a_bad_load_more_cursor_is_a_400(harness: Harness) -> None:
    harness.login()
    assert harness.client.get("/board/columns/todo?after_key=abc&after_id=1").status_code == 400
    assert harness.client.get("/board/columns/nope?after_key=1&after_id=1").status_code == 404


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("assignee=luci", {"A"}),
        ("assignee=none", {"C"}),
        ("tag=bug", {"A"}),
        ("priority=1", {"B"}),
        ("q=reconnect", {"A"}),
        ("q=recon", {"A"}),
        ("q=%22unbalanced+quote", set()),
        ("q=NEAR%28a+b%29+OR", set()),
        ("assignee=luci&priority=1", set()),
    ],
)
def test_filters_in_the_url_narrow_every_column(harness: Harness, query: str, expected: set[str]) -> None:
    harness.login()
    names = {
        harness.ticket("Fix flaky reconnect", status="todo", assigned_to="luci"): "A",
        harness.ticket("Plan the offsite", status="review", assigned_to="alex", priority=1): "B",
        harness.ticket("Write the docs", status="done"): "C",
    }
    response = harness.client.get(f"/board?{query}")
    assert response.status_code == 200
    found = {names[li["id"].removeprefix("card-")] for li in soup(response.text).select("li.card")}
    assert found == expected


def test_a_filtered_column_count_counts_only_matching_cards(harness: Harness) -> None:
    harness.login()
    harness.ticket("Fix one", status="todo", assigned_to="luci")
    harness.ticket("Fix two", status="todo", assigned_to="alex")
    page = soup(harness.client.get("/board?assignee=alex").text)
    assert page.select_one("#col-todo .count").get_text(" ", strip=True) == "1 tickets"
    assert page.select_one("#board-assignee option[selected]")["value"] == "alex"


def test_filtering_with_htmx_returns_the_board_fragment(harness: Harness) -> None:
    harness.login()
    response = harness.client.get("/board?tag=bug", headers=HTMX)
    fragment = soup(response.text)
    assert fragment.find("html") is None
    assert fragment.select_one("#board form.filters")["hx-push-url"] == "true"


def test_moving_a_card_with_a_plain_form_redirects_back(harness: Harness) -> None:
    csrf = harness.login()
    ident = harness.ticket("Move me", status="todo")
    response = harness.client.post(
        f"/ticket/{ident}/move", data={"status": "review", "_csrf": csrf}, follow_redirects=False
    )
    assert response.status_code == 303 and response.headers["location"] == "/board"
    html = harness.client.get("/board").text
    assert column_ids(html, "review") == [ident] and column_ids(html, "todo") == []


def test_moving_a_card_with_htmx_rerenders_both_columns_out_of_band(harness: Harness) -> None:
    csrf = harness.login()
    ident = harness.ticket("Move me", status="todo")
    harness.ticket("Stays", status="todo")
    response = harness.client.post(
        f"/ticket/{ident}/move",
        data={"status": "review"},
        headers={**HTMX, "X-CSRF-Token": csrf, "HX-Current-URL": "http://testserver.local/board"},
    )
    fragment = soup(response.text)
    slots = {div["id"]: div for div in fragment.select("div.slot[hx-swap-oob=true]")}
    assert set(slots) == {"slot-todo", "slot-review"}
    assert [li["id"] for li in slots["slot-review"].select("li.card")] == [f"card-{ident}"]
    assert f"card-{ident}" not in [li["id"] for li in slots["slot-todo"].select("li.card")]
    assert fragment.select_one("#board-status").get_text() == f"{ident} moved to Review."


def test_a_move_keeps_the_current_filters_in_the_rerendered_columns(harness: Harness) -> None:
    csrf = harness.login()
    mine = harness.ticket("Mine", status="todo", assigned_to="luci")
    harness.ticket("Theirs", status="todo", assigned_to="alex")
    response = harness.client.post(
        f"/ticket/{mine}/move",
        data={"status": "blocked"},
        headers={**HTMX, "X-CSRF-Token": csrf, "HX-Current-URL": "http://testserver.local/board?assignee=luci"},
    )
    fragment = soup(response.text)
    assert fragment.select("#slot-todo li.card") == []
    assert [li["id"] for li in fragment.select("#slot-blocked li.card")] == [f"card-{mine}"]


def test_dropping_a_card_below_another_places_it_there_by_hand(harness: Harness) -> None:
    csrf = harness.login()
    a, b, c = (harness.ticket(t, status="todo") for t in ("a", "b", "c"))  # column order: c, b, a
    harness.client.post(f"/ticket/{a}/move", data={"status": "todo", "after": c, "_csrf": csrf})
    assert column_ids(harness.client.get("/board").text, "todo") == [c, a, b]
    # A hand-placed card stays put when edited; the others still move to the top.
    harness.client.post(f"/ticket/{a}/comments", data={"body": "edit", "_csrf": csrf})
    harness.client.post(f"/ticket/{b}/comments", data={"body": "edit", "_csrf": csrf})
    assert column_ids(harness.client.get("/board").text, "todo") == [b, c, a]


def test_a_move_to_an_unknown_column_is_refused(harness: Harness) -> None:
    csrf = harness.login()
    ident = harness.ticket("Stay", status="todo")
    response = harness.client.post(f"/ticket/{ident}/move", data={"status": "limbo", "_csrf": csrf})
    assert response.status_code == 400 and "no column" in response.text
    assert column_ids(harness.client.get("/board").text, "todo") == [ident]


def test_the_cache_never_serves_a_column_from_before_a_change(harness: Harness) -> None:
    csrf = harness.login()
    first = harness.ticket("First", status="todo")
    assert column_ids(harness.client.get("/board").text, "todo") == [first]
    second = harness.ticket("Second", status="todo")  # written straight to the store, not through the page
    assert column_ids(harness.client.get("/board").text, "todo") == [second, first]
    harness.client.post(f"/ticket/{first}/move", data={"status": "done", "_csrf": csrf})
    html = harness.client.get("/board").text
    assert column_ids(html, "todo") == [second] and column_ids(html, "done") == [first]


def test_a_column_another_process_changed_is_not_served_from_cache(harness: Harness, settings) -> None:  # type: ignore[no-untyped-def]
    from app.sqlite import driver as sqlite3

    harness.login()
    ident = harness.ticket("Shared", status="todo")
    assert column_ids(harness.client.get("/board").text, "todo") == [ident]
    other = sqlite3.connect(settings.db_path)  # another process's connection
    other.execute("UPDATE tickets SET title = 'Renamed elsewhere' WHERE identifier = ?", (ident,))
    other.commit()
    card = soup(harness.client.get("/board").text).select_one(f"#card-{ident}")
    assert "Renamed elsewhere" in card.get_text()


def test_cached_columns_hold_nothing_of_the_viewer(harness: Harness) -> None:
    harness.login()
    harness.ticket("Shared", status="todo")
    harness.client.get("/board")
    user = harness.client.app.state.mc
    columns = list(user.board.columns._items.values())
    assert columns
    csrf = soup(harness.client.get("/board").text).select_one("input[name=_csrf]")["value"]
    assert all(csrf not in html and "admin-" not in html for html in columns)


def test_wip_limits_mark_a_column_over_its_limit(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from litestar.testing import TestClient

    from app.main import create_app
    from app.settings import load_settings
    from tests.conftest import TEST_HOST

    settings = load_settings({}, data_dir=str(tmp_path), allowed_hosts=TEST_HOST, wip_limits="todo=1,review=3")
    with TestClient(create_app(settings), base_url=f"http://{TEST_HOST}") as client, client.portal() as portal:
        harness = Harness(client, portal)
        harness.login()
        harness.ticket("a", status="todo")
        harness.ticket("b", status="todo")
        page = soup(client.get("/board").text)
        assert "over-limit" in page.select_one("#col-todo")["class"]
        assert page.select_one("#col-todo .count").get_text(" ", strip=True) == "2 / 1 tickets, over the limit of 1"
        assert "over-limit" not in page.select_one("#col-review")["class"]


def test_reordering_within_a_column_is_announced_as_such(harness: Harness) -> None:
    csrf = harness.login()
    a, b = harness.ticket("a", status="todo"), harness.ticket("b", status="todo")
    headers = {**HTMX, "X-CSRF-Token": csrf, "HX-Current-URL": "http://testserver.local/board"}
    placed = harness.client.post(f"/ticket/{b}/move", data={"status": "todo", "after": a}, headers=headers)
    assert soup(placed.text).select_one("#board-status").get_text() == f"{b} placed below {a} in To do."
    top = harness.client.post(f"/ticket/{b}/move", data={"status": "todo"}, headers=headers)
    assert soup(top.text).select_one("#board-status").get_text() == f"{b} moved to the top of To do."


def test_no_card_link_inherits_a_target_or_select_from_the_live_refresh(harness: Harness) -> None:
    harness.login()
    harness.ticket("Open me", status="todo")
    page = soup(harness.client.get("/board").text)
    link = page.select_one("li.card > a")
    inherited = [a for node in link.parents for a in ("hx-select", "hx-target", "hx-swap", "hx-get") if node.get(a)]
    assert inherited == [], "htmx attributes are inherited: a boosted card link would swap the wrong thing"
    refresher = page.select_one("#board-refresh")
    assert refresher["hx-trigger"].startswith("sse:ticket") and not refresher.find(True)


def test_the_page_states_the_columns_in_board_order_for_the_script(harness: Harness) -> None:
    harness.login()
    body = soup(harness.client.get("/board").text).select_one("body")
    assert json.loads(body["data-columns"]) == [[s, rules.STATUS_LABELS[s]] for s in rules.STATUSES]

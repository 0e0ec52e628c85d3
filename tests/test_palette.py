"""The command palette and search page, and the keyboard help."""

from __future__ import annotations

from tests.conftest import Harness, soup

HTMX = {"HX-Request": "true"}


def options(html: str) -> list[str]:
    """The palette's options, as their visible text."""
    return [" ".join(o.get_text(" ").split()) for o in soup(html).select("#palette-list [role=option]")]


def test_an_identifier_finds_its_ticket_first(harness: Harness) -> None:
    harness.login()
    harness.ticket("Something about MC-2 in words")
    second = harness.ticket("The second ticket")
    for query in (second, second.lower(), second.split("-")[1]):
        found = options(harness.client.get("/palette", params={"q": query}, headers=HTMX).text)
        assert found[0].startswith(f"{second} The second ticket"), (query, found)


def test_words_find_tickets_by_title_and_description(harness: Harness) -> None:
    harness.login()
    harness.ticket("Reconnect the event stream")
    harness.ticket("Unrelated", description="mentions reconnecting too")
    harness.ticket("Nothing here")
    found = options(harness.client.get("/palette", params={"q": "reconnect"}, headers=HTMX).text)
    titles = [f for f in found if f.startswith("MC-")]
    assert len(titles) == 2


def test_pages_are_found_by_name(harness: Harness) -> None:
    harness.login()
    found = options(harness.client.get("/palette", params={"q": "act"}, headers=HTMX).text)
    assert "Go to Activity" in found


def test_a_focused_card_gets_actions(harness: Harness) -> None:
    harness.login()
    ident = harness.ticket("Act on me", status="todo", priority=3)
    html = harness.client.get("/palette", params={"q": "review", "card": ident}, headers=HTMX).text
    assert f"Move {ident} to Review" in options(html)
    form = soup(html).select_one("#palette-list form")
    assert form["action"] == f"/ticket/{ident}/move" and form["method"] == "post"
    assert form.select_one("input[name=status]")["value"] == "review"
    everything = options(harness.client.get("/palette", params={"card": ident}, headers=HTMX).text)
    assert f"Move {ident} to To do" not in everything  # not where it already is
    assert f"Set {ident} priority to Medium" not in everything
    assert f"Set {ident} priority to Urgent" in everything


def test_hostile_queries_are_just_text(harness: Harness) -> None:
    harness.login()
    for query in ('"', "NEAR(", "a OR", "*", "<script>alert(1)</script>", "x" * 500):
        response = harness.client.get("/palette", params={"q": query}, headers=HTMX)
        assert response.status_code == 200
        assert soup(response.text).find("script") is None


def test_without_javascript_search_is_a_page(harness: Harness) -> None:
    harness.login()
    ident = harness.ticket("Searchable thing")
    page = soup(harness.client.get("/search", params={"q": "searchable"}).text)
    assert page.select_one('nav[aria-label="Main"]') is not None
    assert page.select_one("form[role=search]")["action"] == "/search"
    assert page.select_one(f'#search-results a.hit-title[href="/ticket/{ident}"]') is not None


def test_nothing_found_says_so(harness: Harness) -> None:
    harness.login()
    html = harness.client.get("/palette", params={"q": "zzzz"}, headers=HTMX).text
    assert soup(html).select_one("[role=status]").get_text() == "Nothing matches “zzzz”."


def test_the_keys_page_lists_every_shortcut(harness: Harness) -> None:
    harness.login()
    text = soup(harness.client.get("/keys").text).select_one("#keys").get_text(" ")
    for words in ("Next / previous card", "Create a ticket", "Move the focused card", "Command palette",
                  "Set the focused card's priority", "Assign the focused card", "Go to the board"):  # fmt: skip
        assert words in text, words


def selected(html: str) -> list[str]:
    """The options marked selected (highlighted), as their visible text."""
    return [" ".join(o.get_text(" ").split()) for o in soup(html).select("#palette-list [aria-selected=true]")]


def test_an_exact_page_name_comes_first_and_highlighted(harness: Harness) -> None:
    harness.login()
    harness.ticket("Activity feed is slow")
    harness.ticket("Unrelated", description="the activity log again")
    for query in ("activity", "ACTIVITY", "  Activity "):
        for headers in (HTMX, {}, {**HTMX, "HX-Boosted": "true"}):
            html = harness.client.get("/palette", params={"q": query}, headers=headers).text
            found = options(html)
            assert found[0] == "Go to Activity", (query, headers, found)
            assert [f for f in found if f.startswith("MC-")], "the tickets that mention it come after"
            assert selected(html) == ["Go to Activity"]
            field = soup(html).select_one("#search-q")
            first = soup(html).select_one("#palette-list [role=option]")
            assert field["aria-activedescendant"] == first["id"]


def test_a_page_name_beginning_with_the_words_comes_before_tickets(harness: Harness) -> None:
    harness.login()
    harness.ticket("Manage the backup keys")
    found = options(harness.client.get("/palette", params={"q": "man"}, headers=HTMX).text)
    assert found[0] == "Go to Life Manager", found  # "man" starts a word of its name
    assert any(f.startswith("MC-") and "Manage the backup keys" in f for f in found[1:])


def test_a_page_matched_inside_a_word_comes_after_tickets(harness: Harness) -> None:
    harness.login()
    harness.ticket("Tiv the reactive one", description="tiv")
    found = options(harness.client.get("/palette", params={"q": "tiv"}, headers=HTMX).text)
    ticket = next(i for i, f in enumerate(found) if f.startswith("MC-"))
    assert found.index("Go to Activity") > ticket, found
    assert found[-1].startswith("Search everything for “tiv”")


def test_without_words_the_focused_cards_actions_come_first(harness: Harness) -> None:
    harness.login()
    ident = harness.ticket("Act on me first", status="todo")
    html = harness.client.get("/palette", params={"card": ident}, headers=HTMX).text
    found = options(html)
    assert found[0] == f"Move {ident} to Backlog", found
    assert selected(html) == [found[0]]
    assert found.index("Go to Overview") > found.index(f"Set {ident} priority to Urgent")


def test_with_no_match_search_everything_is_highlighted(harness: Harness) -> None:
    harness.login()
    html = harness.client.get("/palette", params={"q": "zzzz"}, headers=HTMX).text
    assert selected(html) == ["Search everything for “zzzz” comments and transcripts too"]
    assert soup(html).select_one("#search-q")["aria-activedescendant"] == "opt-search"

"""Creating tickets from the board, and the board's quick changes (priority, assignee)."""

from __future__ import annotations

from app.sqlite import driver as sqlite3
from app.store import tickets
from tests.conftest import Harness, soup, text_of

HTMX = {"HX-Request": "true"}


def ticket_count(settings) -> int:  # type: ignore[no-untyped-def]
    """Tickets in the database."""
    return sqlite3.connect(settings.db_path).execute("SELECT count(*) FROM tickets").fetchone()[0]


def test_the_new_ticket_form_is_a_page_with_labelled_fields(harness: Harness) -> None:
    harness.login()
    page = soup(harness.client.get("/tickets/new?status=review").text)
    form = page.select_one("form#new-ticket-form")
    assert form["method"] == "post" and form["action"] == "/tickets"
    for field in ("new-title", "new-description", "new-status", "new-priority", "new-assignee", "new-tags"):
        assert page.select_one(f"label[for={field}]") is not None, field
    assert page.select_one("#new-status option[selected]")["value"] == "review"
    assert page.select_one('nav[aria-label="Main"]') is not None


def test_creating_with_a_plain_form_redirects_to_the_new_ticket(harness: Harness) -> None:
    csrf = harness.login()
    response = harness.client.post(
        "/tickets",
        data={"title": "Fix the flaky login", "description": "It *fails*", "status": "todo", "priority": "2",
              "assigned_to": "luci", "tags": "", "_csrf": csrf},
        follow_redirects=False,
    )  # fmt: skip
    assert response.status_code == 303
    ident = response.headers["location"].removeprefix("/ticket/")
    ticket = harness.call(tickets.get_ticket, harness.db, ident)
    assert (ticket.title, ticket.description, ticket.status, ticket.priority, ticket.assigned_to) == (
        "Fix the flaky login", "It *fails*", "todo", 2, "luci",
    )  # fmt: skip
    assert harness.call(tickets.list_tags, harness.db, ticket.id) == ["bug"]


def test_explicit_tags_replace_the_automatic_ones(harness: Harness) -> None:
    csrf = harness.login()
    response = harness.client.post(
        "/tickets", data={"title": "Fix it", "tags": "infra, #Research", "_csrf": csrf}, follow_redirects=False
    )
    ticket = harness.call(tickets.get_ticket, harness.db, response.headers["location"].removeprefix("/ticket/"))
    assert harness.call(tickets.list_tags, harness.db, ticket.id) == ["infra", "research"]


def test_creating_with_htmx_returns_a_fresh_form_the_column_and_a_trigger(harness: Harness) -> None:
    csrf = harness.login()
    response = harness.client.post(
        "/tickets",
        data={"title": "Add a dark mode", "status": "todo"},
        headers={**HTMX, "X-CSRF-Token": csrf, "HX-Current-URL": "http://testserver.local/board"},
    )
    assert response.status_code == 201
    assert '"ticketCreated"' in response.headers["hx-trigger-after-settle"]  # after the card is swapped in
    fragment = soup(response.text)
    assert fragment.select_one("form#new-ticket-form #new-title")["value"] == ""
    cards = fragment.select("#slot-todo[hx-swap-oob=true] li.card")
    assert len(cards) == 1 and "Add a dark mode" in cards[0].get_text()
    assert "Created MC-1." in fragment.select_one("#board-status").get_text()


def test_a_bad_form_comes_back_with_messages_and_stores_nothing(harness: Harness, settings) -> None:  # type: ignore[no-untyped-def]
    csrf = harness.login()
    response = harness.client.post(
        "/tickets",
        data={"title": "  ", "status": "limbo", "priority": "9", "tags": "<b>", "_csrf": csrf},
        headers=HTMX,
    )
    assert response.status_code == 422  # htmx is configured to swap 422 into the form
    form = soup(response.text)
    assert form.select_one("#new-title-error").get_text() == "A ticket needs a title."
    assert form.select_one("#new-title")["aria-invalid"] == "true"
    assert "is not" in form.select_one("#new-tags-error").get_text()
    assert form.select_one("[role=alert]").get_text() == "Please fix 4 fields below."
    assert ticket_count(settings) == 0


def test_an_overlong_title_is_refused(harness: Harness, settings) -> None:  # type: ignore[no-untyped-def]
    csrf = harness.login()
    response = harness.client.post("/tickets", data={"title": "x" * 301, "_csrf": csrf})
    assert response.status_code == 422
    assert "at most 300" in text_of(response.text, "#new-title-error")
    assert ticket_count(settings) == 0


def test_a_quick_priority_change_rerenders_the_cards_column(harness: Harness) -> None:
    csrf = harness.login()
    ident = harness.ticket("Tune it", status="review")
    response = harness.client.post(
        f"/board/cards/{ident}", data={"priority": "1"},
        headers={**HTMX, "X-CSRF-Token": csrf, "HX-Current-URL": "http://testserver.local/board"},
    )  # fmt: skip
    fragment = soup(response.text)
    card = fragment.select_one(f"#slot-review #card-{ident}")
    assert "Urgent" in card.get_text() and "p1" in card["class"]
    assert fragment.select_one("#board-status").get_text() == f"{ident} priority set to Urgent."


def test_a_quick_assign_and_unassign(harness: Harness) -> None:
    csrf = harness.login()
    ident = harness.ticket("Own it", status="todo")
    harness.client.post(f"/board/cards/{ident}", data={"assigned_to": "lucienne", "_csrf": csrf})
    card = soup(harness.client.get("/board").text).select_one(f"#card-{ident}")
    assert card.select_one(".who").get_text() == "lucienne"
    harness.client.post(f"/board/cards/{ident}", data={"assigned_to": " ", "_csrf": csrf})
    assert soup(harness.client.get("/board").text).select_one(f"#card-{ident} .who") is None


def test_quick_changes_refuse_bad_values(harness: Harness) -> None:
    csrf = harness.login()
    ident = harness.ticket("Stay", status="todo", priority=3)
    assert harness.client.post(f"/board/cards/{ident}", data={"priority": "7", "_csrf": csrf}).status_code == 400
    long_name = {"assigned_to": "x" * 81, "_csrf": csrf}
    assert harness.client.post(f"/board/cards/{ident}", data=long_name).status_code == 400
    assert harness.client.post("/board/cards/MC-999", data={"priority": "1", "_csrf": csrf}).status_code == 404
    assert "Medium" in soup(harness.client.get("/board").text).select_one(f"#card-{ident}").get_text()

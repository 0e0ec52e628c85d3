"""The ticket page: header inline edits (plain, htmx, refused). (Its runs: tests/test_run_view.py.)"""

from __future__ import annotations

import pytest

from app import rules
from app.store import tickets
from tests.conftest import Harness, bearer, soup, text_of

HTMX = {"HX-Request": "true"}


def ticket_of(harness: Harness, ident: str) -> tickets.Ticket:
    """The stored ticket."""
    found = harness.call(tickets.get_ticket, harness.db, ident)
    assert found is not None
    return found


def shown_value(html: str, field: str) -> str:
    """What the header shows for a field after an edit."""
    page = soup(html)
    if field == "title":
        return page.select_one("#ticket-title").get_text(strip=True)
    if field in ("status", "priority"):
        return page.select_one(f"#edit-{field} option[selected]")["value"]
    if field == "assignee":
        return page.select_one("#edit-assignee").get("value", "")
    if field == "description":
        return page.select_one("#edit-description").get_text()
    return page.select_one("#edit-tags").get("value", "")


EDITS = [
    ("title", "  Rename   the thing ", "Rename the thing"),
    ("status", "review", "review"),
    ("priority", "1", "1"),
    ("assignee", " alex ", "alex"),
    ("tags", "Infra, #ui-polish", "infra, ui-polish"),
    ("description", "Steps:\n\n1. open the board", "Steps:\n\n1. open the board"),
]
BAD_EDITS = [
    ("title", "   ", "A ticket needs a title."),
    ("title", "x" * 301, "A title can be at most 300 characters."),
    ("status", "doing", "There is no status 'doing': use one of backlog, todo, in_progress, review, blocked, done."),
    ("priority", "5", "Priority is 1 (urgent), 2 (high), 3 (medium) or 4 (low)."),
    ("priority", "high", "Priority is 1 (urgent), 2 (high), 3 (medium) or 4 (low)."),
    ("assignee", "a" * 81, "An assignee name can be at most 80 characters."),
    ("tags", "bug, <script>", "Tags: a tag is 1-40 lower-case letters, digits, - or _; '<script>' is not."),
]


def test_the_fields_are_two_labelled_forms_that_work_without_javascript_and_save_on_change_with_it(
    harness: Harness,
) -> None:
    csrf = harness.login()
    ident = harness.ticket("Edit me")
    page = soup(harness.client.get(f"/ticket/{ident}").text)
    properties = page.select_one("#ticket-properties form")
    text = page.select_one("#ticket-header form")
    for form in (properties, text):
        assert form["method"] == "post" and form["action"] == f"/ticket/{ident}/edit"
        assert form.select_one('input[name="_csrf"]')["value"] == csrf
        assert form.select_one("button[type=submit]") is not None  # one Save for all without JavaScript
        for control in form.select("input:not([type=hidden]), select, textarea"):
            assert page.select_one(f'label[for="{control["id"]}"]') is not None
    names = [c["name"] for c in properties.select("input:not([type=hidden]), select")]
    assert names == ["status", "priority", "assignee", "tags"]
    for control in properties.select("input:not([type=hidden]), select"):  # each saves itself with htmx
        assert control["hx-post"] == f"/ticket/{ident}/edit" and control["hx-trigger"] == "change"
        assert control["hx-swap"] == "none"
    assert [c["name"] for c in text.select("input:not([type=hidden]), textarea")] == ["title", "description"]
    assert text["hx-post"] == text["action"] and text["hx-swap"] == "none"


def test_the_status_and_priority_selects_offer_every_choice(harness: Harness) -> None:
    harness.login()
    ident = harness.ticket("Choices", status="todo", priority=2)
    page = soup(harness.client.get(f"/ticket/{ident}").text)
    statuses = [(o["value"], o.get_text()) for o in page.select("#edit-status option")]
    assert statuses == list(rules.STATUS_LABELS.items())
    priorities = [o.get_text() for o in page.select("#edit-priority option")]
    assert priorities == ["Urgent", "High", "Medium", "Low"]
    assert shown_value(str(page), "status") == "todo" and shown_value(str(page), "priority") == "2"


def test_the_assignee_input_suggests_known_assignees(harness: Harness) -> None:
    harness.login()
    ident = harness.ticket("Who", assigned_to="luci")
    harness.ticket("Other", assigned_to="alex")
    page = soup(harness.client.get(f"/ticket/{ident}").text)
    field = page.select_one("#edit-assignee")
    assert field["value"] == "luci"
    options = [o["value"] for o in page.select(f"datalist#{field['list']} option")]
    assert options == ["alex", "luci"]


def test_a_read_token_sees_the_fields_but_no_forms(harness: Harness) -> None:
    harness.login("read")
    ident = harness.ticket("Look only", assigned_to="luci", tags=["bug"])
    page = soup(harness.client.get(f"/ticket/{ident}").text)
    assert page.select("form[action$='/edit']") == [] and page.select_one("form.composer") is None
    fields = text_of(str(page), ".props-read")
    assert "Backlog" in fields and "Medium" in fields and "luci" in fields and "bug" in fields


@pytest.mark.parametrize(("field", "value", "shown"), EDITS)
def test_a_plain_edit_redirects_back_and_shows_on_reload(harness: Harness, field: str, value: str, shown: str) -> None:
    csrf = harness.login()
    ident = harness.ticket("Before", tags=["bug"])
    response = harness.client.post(f"/ticket/{ident}/edit", data={field: value, "_csrf": csrf}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/ticket/{ident}#ticket"
    assert shown_value(harness.client.get(f"/ticket/{ident}").text, field) == shown


@pytest.mark.parametrize(("field", "value", "shown"), EDITS)
def test_an_htmx_edit_puts_the_new_header_and_properties_in_place(
    harness: Harness, field: str, value: str, shown: str
) -> None:
    csrf = harness.login()
    ident = harness.ticket("Before", tags=["bug"])
    response = harness.client.post(f"/ticket/{ident}/edit", data={field: value}, headers={**HTMX, "X-CSRF-Token": csrf})
    assert response.status_code == 200 and response.headers["vary"].startswith("HX-Request")
    fragment = soup(response.text)
    assert fragment.find("html") is None
    assert fragment.select_one("header#ticket-header")["hx-swap-oob"] == "true"
    assert fragment.select_one("#edit-status") is None, "a select is never swapped under the person using it"
    if field in ("assignee", "tags", "title", "description"):
        assert shown_value(response.text, field) == shown  # a text field comes back cleaned up
    if field not in ("title", "description"):
        assert fragment.select_one(f"#saved-{field}").get_text() == "Saved"  # confirmed beside the field
        assert fragment.select_one(f"#saved-{field}")["hx-swap-oob"] == "true"
    assert shown_value(harness.client.get(f"/ticket/{ident}").text, field) == shown
    note = fragment.select_one("#ticket-note")
    assert note["hx-swap-oob"] == "true" and note["role"] == "status" and note.get_text()


@pytest.mark.parametrize(("field", "value", "message"), BAD_EDITS)
def test_a_bad_edit_is_refused_with_a_message_and_nothing_changes(
    harness: Harness, field: str, value: str, message: str
) -> None:
    csrf = harness.login()
    ident = harness.ticket("Keep me", tags=["bug"])
    before = ticket_of(harness, ident)
    # The good fields sent alongside are not stored either: an edit is checked whole before anything is written.
    good = {"priority": "1"} if field == "assignee" else {"assignee": "alex"}
    response = harness.client.post(f"/ticket/{ident}/edit", data={**good, field: value, "_csrf": csrf}, headers=HTMX)
    assert response.status_code == 400
    assert response.text == message
    assert ticket_of(harness, ident) == before
    assert harness.call(tickets.list_tags, harness.db, before.id) == ["bug"]


def test_an_edit_with_no_fields_is_refused(harness: Harness) -> None:
    csrf = harness.login()
    ident = harness.ticket("Nothing")
    response = harness.client.post(f"/ticket/{ident}/edit", data={"_csrf": csrf})
    assert response.status_code == 400
    assert response.text.startswith("Nothing to change")


def test_a_status_change_puts_the_card_on_top_of_its_new_column(harness: Harness) -> None:
    csrf = harness.login()
    moving = harness.ticket("Moving", status="todo")
    first = harness.ticket("Already in review", status="review")
    harness.client.post(f"/ticket/{moving}/edit", data={"status": "review", "_csrf": csrf})
    board = soup(harness.client.get("/board").text)
    column = [li["id"].removeprefix("card-") for li in board.select("#cards-review li.card")]
    assert column == [moving, first]
    assert board.select("#cards-todo li.card") == []


def test_an_empty_assignee_unassigns_and_empty_tags_clear_them(harness: Harness) -> None:
    csrf = harness.login()
    ident = harness.ticket("Clear", assigned_to="luci", tags=["bug", "infra"])
    harness.client.post(f"/ticket/{ident}/edit", data={"assignee": "  ", "_csrf": csrf})
    harness.client.post(f"/ticket/{ident}/edit", data={"tags": "", "_csrf": csrf})
    stored = ticket_of(harness, ident)
    assert stored.assigned_to is None
    assert harness.call(tickets.list_tags, harness.db, stored.id) == []
    page = soup(harness.client.get(f"/ticket/{ident}").text)
    assert page.select_one("#edit-tags")["value"] == "" and page.select_one("#edit-assignee")["value"] == ""


def test_saving_an_unchanged_field_does_not_touch_the_ticket(harness: Harness) -> None:
    csrf = harness.login()
    ident = harness.ticket("Same", priority=2)
    before = ticket_of(harness, ident)
    response = harness.client.post(
        f"/ticket/{ident}/edit", data={"priority": "2", "title": "Same"}, headers={**HTMX, "X-CSRF-Token": csrf}
    )
    assert response.status_code == 200
    assert ticket_of(harness, ident).updated_at == before.updated_at
    assert soup(response.text).select_one("#ticket-note").get_text() == "Nothing changed."


def test_a_read_token_cannot_edit(harness: Harness) -> None:
    csrf = harness.login("read")
    ident = harness.ticket("Read only")
    assert harness.client.post(f"/ticket/{ident}/edit", data={"title": "x", "_csrf": csrf}).status_code == 403
    assert ticket_of(harness, ident).title == "Read only"


def test_an_htmx_page_request_gets_the_ticket_fragment(harness: Harness) -> None:
    harness.login()
    ident = harness.ticket("Fragment")
    page = soup(harness.client.get(f"/ticket/{ident}", headers=HTMX).text)
    roots = [el for el in page.children if getattr(el, "name", None)]
    assert [root.get("id") for root in roots] == ["ticket"]


def test_every_control_on_the_page_has_a_label(harness: Harness) -> None:
    harness.login()
    ident = harness.ticket("Labels")
    other = harness.ticket("Other")
    bearer_admin = bearer(harness.token("admin"))
    harness.client.post(f"/api/v1/tickets/{ident}/relationships", json={"type": "blocks", "target": other},
                        headers=bearer_admin)  # fmt: skip
    harness.client.post(f"/api/v1/tickets/{ident}/context", json={"vault_path": "a.md"}, headers=bearer_admin)
    page = soup(harness.client.get(f"/ticket/{ident}").text)
    controls = page.select("main input:not([type=hidden]), main select, main textarea")
    assert len(controls) >= 10
    for control in controls:
        assert page.select_one(f'label[for="{control["id"]}"]') is not None, control
    for button in page.select("main button"):
        assert button.get_text(strip=True), button
    for form in page.select("main form"):
        assert form["method"] == "post" and form["action"].startswith(f"/ticket/{ident}/")


def test_the_description_is_edited_in_place_and_previewed_as_it_will_show(harness: Harness) -> None:
    csrf = harness.login()
    ident = harness.ticket("Describe me")
    assert soup(harness.client.get(f"/ticket/{ident}").text).select_one(".no-description") is not None
    hostile = "**Steps**\n\n<script>alert(1)</script>"
    preview = harness.client.post(f"/ticket/{ident}/preview", data={"description": hostile},
                                  headers={**HTMX, "X-CSRF-Token": csrf})  # fmt: skip
    assert preview.status_code == 200
    shown = soup(preview.text)
    assert shown.select_one("strong").get_text() == "Steps" and shown.find("script") is None
    harness.client.post(f"/ticket/{ident}/edit", data={"description": hostile, "_csrf": csrf})
    page = soup(harness.client.get(f"/ticket/{ident}").text)
    assert page.select_one(".description strong").get_text() == "Steps"
    assert page.select_one("#edit-description").get_text() == hostile
    too_long = harness.client.post(f"/ticket/{ident}/preview", data={"description": "x" * 100_001},
                                   headers={**HTMX, "X-CSRF-Token": csrf})  # fmt: skip
    assert too_long.status_code == 400 and "at most 100,000" in too_long.text


def test_a_kept_page_shows_every_change_made_anywhere_that_it_shows(harness: Harness) -> None:
    """The page is kept rendered by its version: each change it shows, made by any route to this ticket or
    another, makes a new one."""
    csrf = harness.login()
    ident, other = harness.ticket("Kept"), harness.ticket("Linked from elsewhere")
    admin, worker = bearer(harness.token("admin")), bearer(harness.token("worker", "worker-5"))

    def page() -> str:
        first = harness.client.get(f"/ticket/{ident}").text
        assert harness.client.get(f"/ticket/{ident}").text == first, "a second view is the same page"
        return first

    page()
    harness.client.post(
        f"/api/v1/tickets/{other}/relationships", json={"type": "blocks", "target": ident}, headers=admin
    )
    assert "Linked from elsewhere" in page()
    harness.client.patch(f"/api/v1/tickets/{other}", json={"title": "Renamed elsewhere"}, headers=admin)
    assert "Renamed elsewhere" in page()
    harness.client.post(f"/ticket/{ident}/queue", data={"body": "please look", "_csrf": csrf})
    assert "badge-queued" in page()
    harness.client.post("/api/v1/queue/claim", json={"worker": "worker-5"}, headers=worker)
    assert "badge-leased" in page()
    harness.client.post(f"/api/v1/tickets/{ident}/events", json={"type": "assistant", "message": {
        "content": [{"type": "text", "text": "an agent's word"}]}}, headers=worker)  # fmt: skip
    assert "an agent&#39;s word" in page() or "an agent's word" in page()
    harness.client.post(f"/api/v1/tickets/{ident}/comments", json={"body": "a comment by API"}, headers=admin)
    assert "a comment by API" in page()
    harness.client.post(f"/api/v1/tickets/{ident}/context", json={"vault_path": "notes/kept.md"}, headers=admin)
    assert "notes/kept.md" in page()
    harness.client.patch(f"/api/v1/tickets/{other}", json={"assigned_to": "someone-new"}, headers=admin)
    assert "someone-new" in page(), "the assignee suggestions follow every ticket"
    assert harness.client.get(f"/ticket/{ident}", headers={"HX-Request": "true"}).text != page(), "fragment apart"


def test_the_page_goes_gzipped_to_browsers_that_take_it_and_plain_to_others(harness: Harness) -> None:
    harness.login()
    ident = harness.ticket("Zipped", description="A **long** description. " * 100)
    plain = harness.client.get(f"/ticket/{ident}", headers={"Accept-Encoding": "identity"})
    zipped = harness.client.get(f"/ticket/{ident}", headers={"Accept-Encoding": "gzip, deflate, br"})
    assert "content-encoding" not in plain.headers
    assert zipped.headers["content-encoding"] == "gzip" and zipped.text == plain.text  # (httpx unzips)
    assert int(zipped.headers["content-length"]) < len(plain.content) / 3
    assert zipped.headers["vary"] == plain.headers["vary"] == "HX-Request, Accept-Encoding"

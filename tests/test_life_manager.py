"""Life Manager: the scans API (its schema, re-posts that update, scopes), the page (whole or fragment, the empty
state, groups, filters) and what a person does with an item (done, snooze, dismiss, reopen, make a ticket)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from app.demo import DemoError, fill_demo
from app.store import life_manager as store
from app.store import tickets
from tests.conftest import Harness, bearer, soup, text_of

HTMX = {"HX-Request": "true"}
SCANS = "/api/v1/life-manager/scans"
NOW = datetime.now(UTC).replace(microsecond=0)
TODAY = NOW.date()


def moment(minutes_ago: int = 0) -> str:
    return (NOW - timedelta(minutes=minutes_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def item(key: str, **change: Any) -> dict[str, Any]:
    """One scanned item (valid), with `change` applied."""
    found = {
        "id": key, "sender": f"Sender {key}", "subject": f"Subject {key}", "snippet": f"Snippet of {key}",
        "received_at": moment(30), "urgency": "normal", "suggested_action": "Reply", "due": None,
    }  # fmt: skip
    return found | change


def scan(*items: dict[str, Any], source: str = "whatsapp", scanned_at: str | None = None) -> dict[str, Any]:
    return {"source": source, "scanned_at": scanned_at or moment(1), "items": list(items)}


def post(harness: Harness, body: Any, scope: str = "worker") -> Any:
    return harness.client.post(SCANS, json=body, headers=bearer(harness.token(scope)))


def items_of(html: str) -> list[str]:
    """The ids of the items a page (or fragment) lists, in order."""
    return [li["id"] for li in soup(html).select("li.life-item")]


def item_id(harness: Harness, key: str, source: str = "whatsapp") -> int:
    found = harness.call(store.list_items, harness.db, store.ItemFilter(show="all"), 1000)
    return next(i.id for i in found if i.item_key == key and i.source == source)


# --- the scans API --------------------------------------------------------------------------------------------


def test_a_scan_is_stored_and_listed_by_the_api(harness: Harness) -> None:
    answer = post(harness, scan(item("a", urgency="urgent", due=TODAY.isoformat()), item("b")))
    assert answer.status_code == 200, answer.text
    assert answer.json() | {"scanned_at": ""} == {
        "source": "whatsapp", "scanned_at": "", "items": 2, "created": 2, "updated": 0, "unchanged": 0,
    }  # fmt: skip
    listed = harness.client.get("/api/v1/life-manager/items", headers=bearer(harness.token("read"))).json()
    assert [i["item_key"] for i in listed["items"]] == ["a", "b"]  # the urgent one first
    assert listed["items"][0]["due"] == TODAY.isoformat() and listed["items"][0]["state"] == "open"
    assert [s["source"] for s in listed["sources"]] == ["whatsapp"] and listed["sources"][0]["items"] == 2


def test_reposting_a_scan_updates_its_items_and_keeps_what_the_person_did(harness: Harness) -> None:
    assert post(harness, scan(item("a"), item("b"), item("c"))).status_code == 200
    a, b = item_id(harness, "a"), item_id(harness, "b")
    harness.call(store.set_state, harness.db, a, "done")
    harness.call(store.set_state, harness.db, b, "snoozed", (TODAY + timedelta(days=3)).isoformat())
    again = post(harness, scan(item("a", subject="New subject"), item("b", urgency="high"), item("c"), item("d")))
    assert again.json()["created"] == 1 and again.json()["updated"] == 3
    found = {i.item_key: i for i in harness.call(store.list_items, harness.db, store.ItemFilter(show="all"), 100)}
    assert sorted(found) == ["a", "b", "c", "d"], "updated, not duplicated"
    assert found["a"].subject == "New subject" and found["a"].state == "done"
    assert found["b"].urgency == "high" and found["b"].state == "snoozed"
    assert post(harness, scan(item("a"), source="email")).json()["created"] == 1, "ids are per source"


def test_an_older_scan_posted_late_changes_nothing(harness: Harness) -> None:
    assert post(harness, scan(item("a", subject="Newer"), scanned_at=moment(1))).status_code == 200
    late = post(harness, scan(item("a", subject="Older"), scanned_at=moment(60))).json()
    assert late["updated"] == 0 and late["unchanged"] == 1
    (found,) = harness.call(store.list_items, harness.db, store.ItemFilter(), 10)
    assert found.subject == "Newer"


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (scan(item("a", urgency="whenever")), "items[0].urgency: Invalid enum value 'whenever'"),
        (scan(item("a", due="2026-02-30")), "items[0].due: must be a real date, YYYY-MM-DD"),
        (scan(item("a", due="tomorrow")), "items[0].due: must be a real date, YYYY-MM-DD"),
        (scan(item("a", received_at="2026-12-01 08:00")), "items[0].received_at: must be a real date and time"),
        (scan(item("a"), scanned_at="yesterday"), "scanned_at: must be a real date and time with its zone"),
        (scan({k: v for k, v in item("a").items() if k != "sender"}), "missing required field `sender`"),
        (scan(item("a", sender="   ")), "items[0].sender: must have something besides spaces"),
        (scan(item("a", snippet="x" * 2001)), "items[0].snippet: Expected `str` of length <= 2000"),
        (scan(item("a", id="")), "items[0].id: Expected `str` of length >= 1"),
        (scan(*[item(str(n)) for n in range(501)]), "items: Expected `array` of length <= 500"),
        ({"scanned_at": moment(), "items": []}, "missing required field `source`"),
        (scan(item("a"), source="x" * 41), "source: Expected `str` of length <= 40"),
    ],
)
def test_a_scan_that_breaks_the_schema_is_a_400_that_says_why(harness: Harness, body: Any, says: str) -> None:
    answer = post(harness, body)
    assert answer.status_code == 400, answer.text
    assert says in answer.json()["detail"]
    assert harness.call(store.list_items, harness.db, store.ItemFilter(show="all"), 10) == []


def test_an_item_id_twice_in_one_scan_is_a_422_that_names_it(harness: Harness) -> None:
    answer = post(harness, scan(item("a"), item("b"), item("a")))
    assert answer.status_code == 422
    assert answer.json()["detail"] == "items[2].id: 'a' is in this scan twice; each item once"


def test_scans_need_a_worker_or_admin_token(harness: Harness) -> None:
    body = scan(item("a"))
    assert harness.client.post(SCANS, json=body).status_code == 401
    assert post(harness, body, "read").status_code == 403
    assert post(harness, body, "worker").status_code == 200
    assert post(harness, body, "admin").status_code == 200
    assert harness.client.get("/api/v1/life-manager/items").status_code == 401
    for scope in ("read", "worker", "admin"):
        assert harness.client.get("/api/v1/life-manager/items", headers=bearer(harness.token(scope))).status_code == 200


# --- the page ---------------------------------------------------------------------------------------------------


def test_with_no_scan_the_page_says_how_a_scanner_posts(harness: Harness) -> None:
    harness.login()
    page = soup(harness.client.get("/life-manager").text)
    assert page.select_one("main h1").get_text() == "Life Manager"
    example = page.select_one(".life-empty pre").get_text()
    assert "curl" in example and "/api/v1/life-manager/scans" in example and '"urgency": "high"' in example


def test_the_page_is_whole_for_a_visit_and_a_fragment_for_htmx(harness: Harness) -> None:
    harness.login()
    post(harness, scan(item("a")))
    whole = harness.client.get("/life-manager")
    assert whole.headers["vary"].startswith("HX-Request")
    assert soup(whole.text).select_one("html") is not None and soup(whole.text).select_one("#life-manager")
    part = harness.client.get("/life-manager", headers=HTMX)
    roots = [el for el in soup(part.text).children if getattr(el, "name", None)]
    assert [r.get("id") for r in roots] == ["life-manager"] and soup(part.text).select_one("html") is None


def test_items_are_grouped_by_urgency_then_source_with_what_the_scanner_said(harness: Harness) -> None:
    harness.login()
    post(harness, scan(item("w1", urgency="low"), item("w2", urgency="urgent", due=TODAY.isoformat())))
    post(harness, scan(item("e1", urgency="urgent", sender="Bank"), source="email"))
    page = soup(harness.client.get("/life-manager").text)
    groups = page.select("section.life-group")
    assert [g.h2.get_text(" ", strip=True) for g in groups] == ["Urgent 2", "Low 1"]
    assert [h.get_text() for h in groups[0].select("h3")] == ["E-mail", "WhatsApp"]
    w2 = page.select_one(f"#life-item-{item_id(harness, 'w2')}")
    assert w2.select_one(".life-sender").get_text() == "Sender w2"
    assert w2.select_one(".life-subject").get_text() == "Subject w2"
    assert w2.select_one(".life-snippet").get_text() == "Snippet of w2"
    assert w2.select_one(".life-suggested").get_text(" ", strip=True) == "Suggested: Reply"
    assert w2.select_one(".life-due").get_text() == "due today"
    assert w2.select_one("time")["datetime"].startswith(moment(30)[:16])  # app.js reads it "30 minutes ago"
    assert "E-mail" in text_of(str(page), ".life-scans") and "WhatsApp" in text_of(str(page), ".life-scans")


def test_filters_in_the_url_pick_source_urgency_and_state(harness: Harness) -> None:
    csrf = harness.login()
    post(harness, scan(item("w1", urgency="high"), item("w2", urgency="low")))
    post(harness, scan(item("e1", urgency="high"), source="email"))
    harness.client.post(f"/life-manager/items/{item_id(harness, 'w2')}/done", data={"_csrf": csrf})
    ids = {key: f"life-item-{item_id(harness, key, src)}" for key, src in (("w1", "whatsapp"), ("w2", "whatsapp"),
                                                                          ("e1", "email"))}  # fmt: skip
    assert items_of(harness.client.get("/life-manager").text) == [ids["e1"], ids["w1"]]
    assert items_of(harness.client.get("/life-manager?source=email").text) == [ids["e1"]]
    assert items_of(harness.client.get("/life-manager?urgency=high&source=whatsapp").text) == [ids["w1"]]
    assert items_of(harness.client.get("/life-manager?show=done").text) == [ids["w2"]]
    assert items_of(harness.client.get("/life-manager?show=all").text) == [ids["e1"], ids["w1"], ids["w2"]]
    page = soup(harness.client.get("/life-manager?source=whatsapp").text)
    tabs = {a.get_text(" ", strip=True): a["href"] for a in page.select(".life-tabs a")}
    assert (
        tabs["Open 1"] == "/life-manager?source=whatsapp"
        and tabs["Done 1"] == "/life-manager?source=whatsapp&show=done"
    )
    assert page.select_one("#life-source option[selected]")["value"] == "whatsapp"
    assert "Nothing open under these filters." in text_of(harness.client.get("/life-manager?urgency=low").text, "main")
    assert harness.client.get("/life-manager?urgency=soon").status_code == 400
    assert harness.client.get("/life-manager?show=everything").status_code == 400


# --- what a person does --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("action", "state"), [("done", "done"), ("dismiss", "dismissed")])
def test_done_and_dismiss_take_an_item_out_of_the_open_list(harness: Harness, action: str, state: str) -> None:
    csrf = harness.login()
    post(harness, scan(item("a"), item("b")))
    a = item_id(harness, "a")
    answer = harness.client.post(f"/life-manager/items/{a}/{action}", data={"_csrf": csrf}, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == f"/life-manager#life-item-{a}"
    assert f"life-item-{a}" not in items_of(harness.client.get("/life-manager").text)
    assert items_of(harness.client.get(f"/life-manager?show={state}").text) == [f"life-item-{a}"]
    reopened = harness.client.post(f"/life-manager/items/{a}/reopen", data={"_csrf": csrf}, follow_redirects=False)
    assert reopened.status_code == 303
    assert f"life-item-{a}" in items_of(harness.client.get("/life-manager").text)


def test_an_action_needs_the_forms_csrf_token(harness: Harness) -> None:
    harness.login()
    post(harness, scan(item("a")))
    a = item_id(harness, "a")
    for action in ("done", "dismiss", "snooze", "reopen", "ticket"):
        assert harness.client.post(f"/life-manager/items/{a}/{action}", data={"until": "tomorrow"}).status_code == 403
    assert items_of(harness.client.get("/life-manager").text) == [f"life-item-{a}"]


def test_an_htmx_action_answers_the_list_as_filtered_and_says_what_happened(harness: Harness) -> None:
    csrf = harness.login()
    post(harness, scan(item("a", urgency="high"), item("b", urgency="high"), item("c", urgency="low")))
    a, b = item_id(harness, "a"), item_id(harness, "b")
    answer = harness.client.post(
        f"/life-manager/items/{a}/dismiss?urgency=high", headers={**HTMX, "X-CSRF-Token": csrf}
    )
    assert answer.status_code == 200 and answer.headers["vary"].startswith("HX-Request")
    fragment = soup(answer.text)
    assert fragment.select_one("#life-items") is not None and fragment.select_one("html") is None
    assert items_of(answer.text) == [f"life-item-{b}"], "the list under urgency=high, without the dismissed one"
    tabs = fragment.select_one("#life-tabs")
    assert tabs["hx-swap-oob"] == "true" and "Dismissed 1" in tabs.get_text(" ", strip=True)
    note = fragment.select_one("#life-note")
    assert note["hx-swap-oob"] == "true" and note.get_text() == "Dismissed."
    form = fragment.select_one(f"#life-item-{b} form[action$='/done?urgency=high']")
    assert form["hx-post"] == form["action"] and form["hx-target"] == "#life-items"
    assert form.select_one("input[name=_csrf]")["value"] == csrf


def test_snooze_until_tomorrow_or_a_date_and_the_item_comes_back_on_that_day(harness: Harness) -> None:
    csrf = harness.login()
    post(harness, scan(item("a"), item("b")))
    a, b = item_id(harness, "a"), item_id(harness, "b")
    in_a_week = (TODAY + timedelta(days=7)).isoformat()
    harness.client.post(f"/life-manager/items/{a}/snooze", data={"_csrf": csrf, "until": "tomorrow"})
    harness.client.post(f"/life-manager/items/{b}/snooze", data={"_csrf": csrf, "until": in_a_week})
    assert items_of(harness.client.get("/life-manager").text) == []
    snoozed = soup(harness.client.get("/life-manager?show=snoozed").text)
    tomorrow = (TODAY + timedelta(days=1)).isoformat()
    assert text_of(str(snoozed), f"#life-item-{a} .badge") == f"snoozed until {tomorrow}"
    assert text_of(str(snoozed), f"#life-item-{b} .badge") == f"snoozed until {in_a_week}"
    later = harness.call(store.list_items, harness.db, store.ItemFilter(), 10, TODAY + timedelta(days=1))
    assert [i.id for i in later] == [a], "tomorrow, the first is open again by itself"
    for bad in ("", "2020-01-01", TODAY.isoformat(), "2026-13-01", "next week"):
        refused = harness.client.post(f"/life-manager/items/{a}/snooze", data={"_csrf": csrf, "until": bad})
        assert refused.status_code == 400 and "Pick a day after today" in refused.text


def test_an_action_on_a_missing_item_is_a_404(harness: Harness) -> None:
    csrf = harness.login()
    for action in ("done", "dismiss", "reopen", "ticket"):
        assert harness.client.post(f"/life-manager/items/999/{action}", data={"_csrf": csrf}).status_code == 404


def test_make_a_ticket_quotes_the_item_links_both_ways_and_happens_once(harness: Harness) -> None:
    csrf = harness.login()
    body = item("a", sender="Mum", subject="Sunday", snippet="Can you *call* me?\nAbout lunch", urgency="urgent",
                due=TODAY.isoformat())  # fmt: skip
    post(harness, scan(body))
    a = item_id(harness, "a")
    answer = harness.client.post(f"/life-manager/items/{a}/ticket", data={"_csrf": csrf}, follow_redirects=False)
    assert answer.status_code == 303
    link = soup(harness.client.get("/life-manager").text).select_one(f"#life-item-{a} a.life-ticket")
    identifier = link["href"].removeprefix("/ticket/")
    made = harness.call(tickets.get_ticket, harness.db, identifier)
    assert made.title == "Sunday" and made.priority == 1
    assert "> Can you *call* me?\n> About lunch" in made.description and "From **Mum** via whatsapp" in made.description
    assert f"(/life-manager?source=whatsapp&show=all#life-item-{a})" in made.description
    ticket_page = soup(harness.client.get(f"/ticket/{identifier}").text)
    assert ticket_page.select_one(f'.description a[href="/life-manager?source=whatsapp&show=all#life-item-{a}"]')
    harness.client.post(f"/life-manager/items/{a}/ticket", data={"_csrf": csrf})
    assert harness.call(tickets.get_ticket, harness.db, "MC-2") is None, "a second click makes no second ticket"
    harness.call(tickets.delete_ticket, harness.db, made.id)
    assert harness.call(store.get_item, harness.db, a).ticket is None, "a deleted ticket unlinks its item"


def test_the_ticket_text_keeps_the_items_markup_out_of_its_own_lines() -> None:
    found = store.Item(
        1, "email", "k", "*Bank* [x](javascript:y)", "", "", "2026-12-01T08:00:00.000Z", "low", "Pay `now`", None,
        "", "", "", "open", None, None, None,
    )  # fmt: skip
    title, description = store.ticket_text(found, "/life-manager")
    assert title == "Message from *Bank* [x](javascript:y)"
    assert (
        description.splitlines()[0]
        == r"From **\*Bank\* \[x\](javascript:y)** via email, received 2026-12-01 08:00 UTC."
    )
    assert "Suggested: Pay \\`now\\`" in description


def test_snooze_day_takes_tomorrow_or_a_later_date_only() -> None:
    today = date(2026, 12, 1)
    assert store.snooze_day("tomorrow", today) == "2026-12-02"
    assert store.snooze_day("2026-12-24", today) == "2026-12-24"
    for bad in ("2026-12-01", "2026-11-30", "2026-W49-1", "20261224", "", "2026-02-30"):
        assert store.snooze_day(bad, today) is None, bad


def test_the_demo_posts_its_scans_through_the_store_and_only_into_an_empty_database(harness: Harness) -> None:
    now = datetime(2026, 11, 30, 12, tzinfo=UTC)
    summary = harness.call(fill_demo, harness.db, "MC", now=now)
    assert summary.life_items == 15
    sources = harness.call(store.list_sources, harness.db)
    assert [(s.source, s.items) for s in sources] == [("email", 8), ("whatsapp", 7)]
    found = harness.call(store.list_items, harness.db, store.ItemFilter(show="all"), 100, now.date())
    assert {i.state for i in found} == {"open", "done", "snoozed", "dismissed"}
    (linked,) = [i for i in found if i.ticket]
    assert "From [Life Manager](" in harness.call(tickets.get_ticket, harness.db, linked.ticket).description


def test_the_demo_refuses_a_database_that_has_scans(harness: Harness) -> None:
    post(harness, scan(item("a")))
    with pytest.raises(DemoError, match="already has Life Manager or F1 data"):
        harness.call(fill_demo, harness.db, "MC")
    assert harness.call(tickets.get_ticket, harness.db, "MC-1") is None

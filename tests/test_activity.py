"""The activity feed: newest first, filtered by kind, ticket and who in the URL, paged by keyset (every item once
across pages, even when many share a millisecond), the last item loading the next page."""

from __future__ import annotations

from app.store import tickets
from tests.conftest import Harness, soup


def keys_of(html: str) -> list[str]:
    page = soup(html)
    return [li.get_text(" ", strip=True) for li in page.select("#activity-feed > li.feed-item")]


def test_the_feed_pages_by_keyset_and_filters_in_the_url(harness: Harness) -> None:
    harness.login()

    async def fill() -> None:
        for n in range(70):
            ident = await tickets.create_ticket(
                harness.db, "MC", f"Ticket {n:02d}", assigned_to="luci" if n % 2 else None
            )
            ticket = await tickets.get_ticket(harness.db, ident)
            assert ticket is not None
            if n % 3 == 0:
                await tickets.add_comment(harness.db, ticket.id, "lucienne", f"Note {n:02d}")
        async with harness.db.write() as conn:  # a burst in one millisecond: the key keeps the order whole
            await conn.execute("UPDATE tickets SET created_at = '2026-11-01T00:00:00.000Z' WHERE id > 40")

    harness.call(fill)
    first = harness.client.get("/activity")
    page = soup(first.text)
    assert len(page.select("#activity-feed > li.feed-item")) == 50
    more = page.select_one("li.feed-more")
    assert more["hx-trigger"] == "revealed" and more.select_one('a[rel="next"]')["href"] == more["hx-get"]
    seen = keys_of(first.text)
    url = more["hx-get"]
    while url:
        html = harness.client.get(url, headers={"HX-Request": "true"}).text
        seen += keys_of(html)
        nxt = soup(html).select_one("li.feed-more")
        url = nxt["hx-get"] if nxt else ""
    assert len(seen) == 70 + 24 and len(set(seen)) == len(seen), "each ticket and comment once"

    comments = keys_of(harness.client.get("/activity", params={"kind": "comment"}).text)
    assert len(comments) == 24 and all("commented on" in c for c in comments)
    one = keys_of(harness.client.get("/activity", params={"ticket": "mc-4"}).text)
    assert len(one) == 2 and all("MC-4" in c for c in one)
    assert all("lucienne" in c for c in keys_of(harness.client.get("/activity", params={"agent": "lucienne"}).text))
    nothing = harness.client.get("/activity", params={"agent": "nobody"}).text
    assert "Nothing here matches these filters" in nothing
    assert harness.client.get("/activity", params={"before": "yesterday"}).status_code == 400
    assert harness.client.get("/activity", params={"kind": "everything"}).status_code == 400


def test_new_items_are_fetched_for_the_top_of_the_feed(harness: Harness) -> None:
    harness.login()
    ident = harness.ticket("First")
    page = soup(harness.client.get("/activity").text)
    live = page.select_one("#feed-live")
    assert live["hx-trigger"].startswith("sse:ticket") and page.select_one("#activity")["sse-connect"]
    assert live["hx-swap"] == "afterbegin" and live["hx-select-oob"] == "#feed-live"
    url = live["hx-get"]
    assert "since=" in url
    assert keys_of(harness.client.get(url, headers={"HX-Request": "true"}).text) == [], "nothing new yet"

    async def comment() -> None:
        ticket = await tickets.get_ticket(harness.db, ident)
        assert ticket is not None
        await tickets.add_comment(harness.db, ticket.id, "lucienne", "Looks good")

    harness.call(comment)
    newer = soup(harness.client.get(url, headers={"HX-Request": "true"}).text)
    [item] = newer.select("#activity-feed > li.feed-item")
    assert "lucienne commented on" in item.get_text(" ", strip=True) and item["id"].startswith("feed-c")
    again = newer.select_one("#feed-live")["hx-get"]
    assert again != url and keys_of(harness.client.get(again, headers={"HX-Request": "true"}).text) == []
    older = soup(harness.client.get("/activity", params={"before": url.split("since=")[1].replace("%7E", "~")}).text)
    assert older.select_one("#feed-live") is None, "a page further back is not live"


def test_an_empty_feed_fills_when_something_happens(harness: Harness) -> None:
    harness.login()
    live = soup(harness.client.get("/activity").text).select_one("#feed-live")
    assert live["hx-target"] == "#activity-empty" and "since" not in live["hx-get"]
    harness.ticket("Something at last")
    assert len(keys_of(harness.client.get(live["hx-get"], headers={"HX-Request": "true"}).text)) == 1

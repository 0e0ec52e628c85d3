"""F1: the predictor's API (predictions and results: schema, re-posts that replace, scopes), the scoring, and the
page (whole or fragment, the empty state, calendar, next race, predicted against actual, the accuracy chart)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from app.demo import fill_demo
from app.f1 import calendar_of, score_race
from app.store import f1 as store
from tests.conftest import Harness, bearer, soup, text_of

HTMX = {"HX-Request": "true"}
TODAY = datetime.now(UTC).date()
SEASON = TODAY.year
DRIVERS = ["Lando Norris", "Max Verstappen", "Charles Leclerc", "George Russell"]


def race(round_: int, days_from_today: int, season: int = SEASON, **change: Any) -> dict[str, Any]:
    day = (TODAY + timedelta(days=days_from_today)).isoformat()
    found = {
        "season": season,
        "round": round_,
        "name": f"Grand Prix {round_}",
        "date": day,
        "circuit": f"Track {round_}",
    }
    return found | change


def predictions(the_race: dict[str, Any], order: list[str] = DRIVERS, **change: Any) -> dict[str, Any]:
    rows = [{"driver": d, "team": "Team " + d.split()[0], "position": n, "win": round(0.4 / n, 3),
             "podium": round(min(1, 0.9 / n), 3), "points": 0.95} for n, d in enumerate(order, start=1)]  # fmt: skip
    return {"race": the_race, "predictions": rows} | change


def results(the_race: dict[str, Any], order: list[str], out: tuple[str, ...] = ()) -> dict[str, Any]:
    rows: list[dict[str, Any]] = [{"driver": d, "position": n} for n, d in enumerate(order, start=1)]
    rows += [{"driver": d, "position": None, "status": "DNF"} for d in out]
    return {"race": the_race, "results": rows}


def post(harness: Harness, kind: str, body: Any, scope: str = "worker") -> Any:
    return harness.client.post(f"/api/v1/f1/{kind}", json=body, headers=bearer(harness.token(scope)))


def entries(harness: Harness, round_: int, season: int = SEASON) -> dict[str, store.Entry]:
    _, found = harness.call(store.season_data, harness.db, season)
    return {e.driver: e for e in found if e.round == round_}


# --- the API ----------------------------------------------------------------------------------------------------


def test_predictions_and_results_are_stored_side_by_side(harness: Harness) -> None:
    first = post(harness, "predictions", predictions(race(1, -7)))
    assert first.status_code == 200, first.text
    assert first.json() == {"season": SEASON, "round": 1, "drivers": 4, "created": 4, "updated": 0}
    done = post(harness, "results", results(race(1, -7), ["Max Verstappen", "Lando Norris", "George Russell"],
                                            out=("Charles Leclerc",)))  # fmt: skip
    assert done.json() == {"season": SEASON, "round": 1, "drivers": 4, "created": 0, "updated": 4}
    found = entries(harness, 1)
    assert (found["Lando Norris"].predicted_position, found["Lando Norris"].actual_position) == (1, 2)
    assert found["Lando Norris"].team == "Team Lando", "a result without a team keeps the prediction's"
    assert found["Charles Leclerc"].actual_position is None and found["Charles Leclerc"].status == "DNF"


def test_a_repost_replaces_by_season_round_and_driver(harness: Harness) -> None:
    body = predictions(race(1, 3))
    assert post(harness, "predictions", body).status_code == 200
    again = post(harness, "predictions", body)
    assert again.json()["created"] == 0 and again.json()["updated"] == 4
    assert len(entries(harness, 1)) == 4, "the same post twice: the same rows"
    swapped = predictions(race(1, 3, name="Renamed GP"), ["Max Verstappen", "Lando Norris", "Charles Leclerc"])
    assert post(harness, "predictions", swapped).json() == {
        "season": SEASON, "round": 1, "drivers": 3, "created": 0, "updated": 3,
    }  # fmt: skip
    found = entries(harness, 1)
    assert sorted(found) == ["Charles Leclerc", "Lando Norris", "Max Verstappen"], "a driver left out is gone"
    assert found["Max Verstappen"].predicted_position == 1
    races, _ = harness.call(store.season_data, harness.db, SEASON)
    assert [r.name for r in races] == ["Renamed GP"], "the race's calendar entry is updated too"


def test_a_driver_left_out_of_new_predictions_keeps_the_result(harness: Harness) -> None:
    post(harness, "predictions", predictions(race(1, -1)))
    post(harness, "results", results(race(1, -1), DRIVERS))
    post(harness, "predictions", predictions(race(1, -1), DRIVERS[:2]))
    found = entries(harness, 1)
    assert found["George Russell"].predicted_position is None and found["George Russell"].actual_position == 4


@pytest.mark.parametrize(
    ("kind", "body", "says"),
    [
        ("predictions", predictions(race(1, 1, date="2026-02-30")), "race.date: must be a real date, YYYY-MM-DD"),
        ("predictions", predictions(race(1, 1, date="8 March")), "race.date: must be a real date"),
        ("predictions", predictions(race(0, 1)), "race.round: Expected `int` >= 1"),
        ("predictions", predictions(race(1, 1, season=1800)), "race.season: Expected `int` >= 1950"),
        ("predictions", predictions(race(1, 1, name="x" * 101)), "race.name: Expected `str` of length <= 100"),
        ("predictions", {"race": race(1, 1), "predictions": [{"driver": "A", "position": 1, "win": 1.5}]},
         "predictions[0].win: Expected `float` <= 1.0"),
        ("predictions", {"race": race(1, 1), "predictions": [{"driver": "A", "position": 0}]},
         "predictions[0].position: Expected `int` >= 1"),
        ("predictions", {"race": race(1, 1), "predictions": [{"position": 1}]}, "missing required field `driver`"),
        ("predictions", {"race": race(1, 1), "predictions": []}, "predictions: Expected `array` of length >= 1"),
        ("predictions", {"predictions": [{"driver": "A", "position": 1}]}, "missing required field `race`"),
        ("predictions", predictions(race(1, 1), predicted_at="soon"), "predicted_at: must be a real date and time"),
        ("results", {"race": race(1, 1), "results": [{"driver": "A"}]}, "missing required field `position`"),
        ("results", {"race": race(1, 1), "results": [{"driver": " ", "position": 1}]},
         "results[0].driver: must have something besides spaces"),
        ("results", {"race": race(1, 1), "results": [{"driver": f"D{n}", "position": 1} for n in range(41)]},
         "results: Expected `array` of length <= 40"),
    ],
)  # fmt: skip
def test_a_post_that_breaks_the_schema_is_a_400_that_says_why(
    harness: Harness, kind: str, body: Any, says: str
) -> None:
    answer = post(harness, kind, body)
    assert answer.status_code == 400, answer.text
    assert says in answer.json()["detail"]
    assert harness.call(store.list_seasons, harness.db) == []


@pytest.mark.parametrize(
    ("kind", "rows", "says"),
    [
        ("predictions", [{"driver": "A", "position": 1}, {"driver": "A", "position": 2}],
         "predictions[1].driver: 'A' is in this post twice"),
        ("predictions", [{"driver": "A", "position": 1}, {"driver": "B", "position": 1}],
         "predictions[1].position: 1 is in this post twice"),
        ("results", [{"driver": "A", "position": None}, {"driver": "B", "position": None},
                     {"driver": "A", "position": 3}],
         "results[2].driver: 'A' is in this post twice"),
    ],
)  # fmt: skip
def test_a_driver_or_a_place_twice_is_a_422(harness: Harness, kind: str, rows: list[Any], says: str) -> None:
    answer = post(harness, kind, {"race": race(1, 1), kind: rows})
    assert answer.status_code == 422 and answer.json()["detail"] == says


def test_posts_need_a_worker_or_admin_token(harness: Harness) -> None:
    body = predictions(race(1, 1))
    assert harness.client.post("/api/v1/f1/predictions", json=body).status_code == 401
    assert harness.client.post("/api/v1/f1/results", json=results(race(1, 1), DRIVERS)).status_code == 401
    assert post(harness, "predictions", body, "read").status_code == 403
    assert post(harness, "results", results(race(1, 1), DRIVERS), "read").status_code == 403
    for scope in ("worker", "admin"):
        assert post(harness, "predictions", body, scope).status_code == 200
        assert post(harness, "results", results(race(1, 1), DRIVERS), scope).status_code == 200


# --- scoring ------------------------------------------------------------------------------------------------------


def entry(driver: str, predicted: int | None, actual: int | None, has_result: bool = True) -> store.Entry:
    return store.Entry(1, driver, "", predicted, None, None, None, actual, "" if actual else "DNF", int(has_result))


def test_a_race_is_scored_on_its_winner_podium_points_and_places() -> None:
    got = score_race([entry("A", 1, 2), entry("B", 2, 1), entry("C", 3, None), entry("D", 4, 3)])
    assert got is not None
    assert (got.predicted_winner, got.actual_winner, got.winner_right) == ("A", "B", False)
    assert (got.podium_hits, got.podium_picks) == (2, 3), "A and B on the podium as predicted; C retired"
    assert (got.points_hits, got.points_picks) == (3, 4)
    assert got.mean_error == pytest.approx((1 + 1 + 1) / 3), "the retired driver is not counted"
    assert score_race([entry("A", 1, None, has_result=False)]) is None, "no result yet"
    assert score_race([entry("A", None, 1)]) is None, "no prediction"


def test_the_calendar_marks_done_awaiting_next_and_upcoming() -> None:
    def row(n: int, days: int, resulted: int = 0) -> store.RaceRow:
        return store.RaceRow(2026, n, f"GP {n}", (date(2026, 6, 1) + timedelta(days=days)).isoformat(), "", 0, resulted)

    states = [r.state for r in calendar_of([row(1, -14, 20), row(2, -7), row(3, 0), row(4, 7)], date(2026, 6, 1))]
    assert states == ["done", "awaiting", "next", "upcoming"]


# --- the page -----------------------------------------------------------------------------------------------------


def test_with_nothing_posted_the_page_says_how_the_predictor_posts(harness: Harness) -> None:
    harness.login()
    page = soup(harness.client.get("/f1").text)
    assert page.select_one("main h1").get_text() == "F1"
    example = page.select_one(".f1-empty pre").get_text()
    assert "/api/v1/f1/predictions" in example and "/api/v1/f1/results" in example and '"win": 0.31' in example


def test_the_page_is_whole_for_a_visit_and_a_fragment_for_htmx(harness: Harness) -> None:
    harness.login()
    post(harness, "predictions", predictions(race(1, 3)))
    whole = harness.client.get("/f1")
    assert whole.headers["vary"].startswith("HX-Request") and soup(whole.text).select_one("html") is not None
    part = harness.client.get("/f1", headers=HTMX)
    roots = [el for el in soup(part.text).children if getattr(el, "name", None)]
    assert [r.get("id") for r in roots] == ["f1"] and soup(part.text).select_one("html") is None


def season_posted(harness: Harness) -> None:
    """Two races run (one predicted well, one not), one next, one later; and last season's first race."""
    post(harness, "predictions", predictions(race(1, -14)))
    post(harness, "results", results(race(1, -14), DRIVERS))
    post(harness, "predictions", predictions(race(2, -7)))
    post(harness, "results", results(race(2, -7), list(reversed(DRIVERS))))
    post(harness, "predictions", predictions(race(3, 5), ["Charles Leclerc", "Lando Norris"]))
    post(harness, "predictions", predictions(race(4, 12)))
    post(harness, "predictions", predictions(race(1, -300, season=SEASON - 1)))


def test_the_season_shows_its_calendar_next_race_past_races_and_accuracy(harness: Harness) -> None:
    harness.login()
    season_posted(harness)
    page = soup(harness.client.get("/f1").text)
    assert [a.get_text() for a in page.select(".f1-seasons a")] == [str(SEASON), str(SEASON - 1)]
    assert page.select_one(".f1-seasons a[aria-current=page]").get_text() == str(SEASON)
    states = [li.select_one(".f1-state").get_text() for li in page.select(".f1-calendar li")]
    assert states == ["done", "done", "next", "upcoming"]
    nxt = page.select_one("#f1-next").find_parent("section")
    assert [[td.get_text() for td in tr.select("td")][:2] for tr in nxt.select("tbody tr")] == [
        ["1", "Charles Leclerc"], ["2", "Lando Norris"]]  # fmt: skip
    assert [td.get_text(strip=True) for td in nxt.select("tbody tr")[0].select("td")][3:] == ["40 %", "90 %", "95 %"]
    past = page.select("details.f1-past")
    assert [d["id"] for d in past] == ["f1-race-2", "f1-race-1"] and past[0].has_attr("open")
    assert "winner missed · podium 2/3 · top 10 4/4 · off by 2.0" in past[0].summary.get_text(" ", strip=True)
    assert "winner right · podium 3/3 · top 10 4/4 · off by 0.0" in past[1].summary.get_text(" ", strip=True)
    assert [td.get_text() for td in past[0].select("tbody tr")[0].select("td")] == [
        "George Russell", "Team George", "4", "1", "3"]  # fmt: skip
    chart = page.select_one("#f1-accuracy")
    assert chart.select_one("svg")["role"] == "img" and len(chart.select("rect")) == 4, "two races, two bars each"
    assert chart.select_one("rect title").get_text() == "R1 Grand Prix 1: 100 % podium picks right"
    assert "Over 2 races: 83 % of podium picks" in chart.select_one("svg")["aria-label"]
    assert text_of(str(page), ".f1-summary .facts").startswith("Races run 2 of 4")


def test_the_season_is_picked_in_the_url(harness: Harness) -> None:
    harness.login()
    season_posted(harness)
    last = soup(harness.client.get(f"/f1?season={SEASON - 1}").text)
    assert last.select_one(".f1-seasons a[aria-current=page]").get_text() == str(SEASON - 1)
    assert [li.select_one(".f1-state").get_text() for li in last.select(".f1-calendar li")] == ["awaiting result"]
    assert "Nothing for the 1999 season" in text_of(harness.client.get("/f1?season=1999").text, "main")
    assert harness.client.get("/f1?season=1800").status_code == 400
    assert harness.client.get("/f1?season=soon").status_code == 400


def test_the_demo_posts_two_seasons_through_the_store(harness: Harness) -> None:
    now = datetime(2026, 11, 30, 12, tzinfo=UTC)
    summary = harness.call(fill_demo, harness.db, "MC", now=now)
    assert summary.f1_entries == 2 * 24 * 22
    assert [(s.season, s.races) for s in harness.call(store.list_seasons, harness.db)] == [(2026, 24), (2025, 24)]
    races, _ = harness.call(store.season_data, harness.db, 2026)
    assert [r.round for r in races if r.resulted] == list(range(1, 24)), "Abu Dhabi, on 6 December, is next"
    assert all(r.predicted == 22 for r in races)

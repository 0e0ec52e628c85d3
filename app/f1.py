"""The F1 Predictor's season as /f1 shows it: the calendar (done, next, upcoming), the next race's predictions,
predicted against actual for each race run, and how well the predictor did. Pure: the store reads, this decides."""

from __future__ import annotations

from datetime import date

import msgspec

from app.charts import BarChart, percent_bars
from app.store.f1 import Entry, RaceRow

PODIUM, POINTS = 3, 10  # the places that make a podium, and the places that score points


class CalendarRace(msgspec.Struct, frozen=True):
    """A race of the calendar and where it stands: done (its result is in), awaiting (run, no result yet),
    next, or upcoming."""

    round: int
    name: str
    date: str
    day: str  # the date as a person reads it: "Sun 8 Mar"
    circuit: str
    state: str
    predicted: int
    resulted: int


class RaceScore(msgspec.Struct, frozen=True):
    """How one race's prediction did against its result."""

    predicted_winner: str | None
    actual_winner: str | None
    winner_right: bool
    podium_hits: int  # drivers predicted on the podium who finished there
    podium_picks: int  # drivers predicted on the podium (3, unless fewer were predicted)
    points_hits: int  # … and the same for the points places
    points_picks: int
    mean_error: float | None  # mean places between predicted and actual, over classified drivers


class PastRace(msgspec.Struct, frozen=True):
    """A race run: its result beside the prediction, driver by driver, and its score (None without a prediction)."""

    race: CalendarRace
    score: RaceScore | None
    entries: list[Entry]


class SeasonScore(msgspec.Struct, frozen=True):
    """The predictor over every race with both a prediction and a result."""

    races: int
    winners: int
    podium_pct: int
    points_pct: int
    mean_error: float | None


class Season(msgspec.Struct, frozen=True):
    """Everything /f1 shows of one season."""

    calendar: list[CalendarRace]
    next_race: CalendarRace | None
    next_predictions: list[Entry]
    past: list[PastRace]  # newest first
    score: SeasonScore | None
    chart: BarChart | None


def calendar_of(races: list[RaceRow], today: date) -> list[CalendarRace]:
    """The calendar with each race's state: the first race from today on without a result is next."""
    found, next_seen = [], False
    for r in races:
        if r.resulted:
            state = "done"
        elif r.date < today.isoformat():
            state = "awaiting"
        elif not next_seen:
            state, next_seen = "next", True
        else:
            state = "upcoming"
        d = date.fromisoformat(r.date)
        day = f"{d:%a} {d.day} {d:%b}"
        found.append(CalendarRace(r.round, r.name, r.date, day, r.circuit, state, r.predicted, r.resulted))
    return found


def score_race(entries: list[Entry]) -> RaceScore | None:
    """A race's prediction against its result; None unless it has both."""
    both = [e for e in entries if e.predicted_position is not None and e.has_result]
    if not both:
        return None
    predicted = {e.driver: e.predicted_position for e in both}
    actual = {e.driver: e.actual_position for e in both}

    def top(places: dict[str, int | None], n: int) -> set[str]:
        return {d for d, p in places.items() if p is not None and p <= n}

    def first(places: dict[str, int | None]) -> str | None:
        return next((d for d, p in places.items() if p == 1), None)

    classified = [abs(p - a) for d, p in predicted.items() if p is not None and (a := actual[d]) is not None]
    winner = first(predicted)
    return RaceScore(
        winner, first(actual), winner is not None and actual.get(winner) == 1,
        len(top(predicted, PODIUM) & top(actual, PODIUM)), len(top(predicted, PODIUM)),
        len(top(predicted, POINTS) & top(actual, POINTS)), len(top(predicted, POINTS)),
        sum(classified) / len(classified) if classified else None,
    )  # fmt: skip


def percent(hits: int, picks: int) -> int:
    """hits out of picks, as a whole percentage (0 of 0 is 0)."""
    return round(100 * hits / picks) if picks else 0


def season_score(scores: list[RaceScore]) -> SeasonScore | None:
    """The predictor over the season's scored races; None before the first."""
    if not scores:
        return None
    errors = [s.mean_error for s in scores if s.mean_error is not None]
    return SeasonScore(
        len(scores), sum(s.winner_right for s in scores),
        percent(sum(s.podium_hits for s in scores), sum(s.podium_picks for s in scores)),
        percent(sum(s.points_hits for s in scores), sum(s.points_picks for s in scores)),
        sum(errors) / len(errors) if errors else None,
    )  # fmt: skip


def accuracy_chart(past: list[PastRace]) -> BarChart | None:
    """Each scored race's podium and points picks that came true, oldest first; None before the first."""
    scored = [(p.race, p.score) for p in reversed(past) if p.score is not None]
    if not scored:
        return None
    groups = [
        (f"R{race.round} {race.name}", [percent(s.podium_hits, s.podium_picks), percent(s.points_hits, s.points_picks)])
        for race, s in scored
    ]
    total = season_score([s for _, s in scored])
    assert total is not None
    summary = (
        f"Over {total.races} race{'s' if total.races != 1 else ''}: {total.podium_pct} % of podium picks and "
        f"{total.points_pct} % of points picks came true; the winner was right {total.winners} times"
    )
    first, last = scored[0][0], scored[-1][0]
    return percent_bars(
        groups, ["% podium picks right", "% top-10 picks right"], f"R{first.round}", f"R{last.round}", summary
    )


def season_view(races: list[RaceRow], entries: list[Entry], today: date) -> Season:
    """One season as /f1 shows it."""
    calendar = calendar_of(races, today)
    by_round: dict[int, list[Entry]] = {}
    for e in entries:
        by_round.setdefault(e.round, []).append(e)
    next_race = next((r for r in calendar if r.state == "next"), None)
    predictions = []
    if next_race is not None:
        predictions = sorted(
            (e for e in by_round.get(next_race.round, []) if e.predicted_position is not None),
            key=lambda e: e.predicted_position or 0,
        )
    past = [
        PastRace(r, score_race(by_round.get(r.round, [])), by_round.get(r.round, []))
        for r in reversed(calendar)
        if r.state == "done"
    ]
    score = season_score([p.score for p in past if p.score is not None])
    return Season(calendar, next_race, predictions, past, score, accuracy_chart(past))

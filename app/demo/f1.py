"""F1 for the demo: last season whole and this one up to today, posted race by race through the store functions
the predictor's API uses. The predictor is a simple model: each driver has a pace, the prediction simulates the
race a few hundred times with a little noise, and the real race adds more noise and the odd retirement, so
the predictor is right often, but not always."""

from __future__ import annotations

import random
from datetime import date, datetime

from app.db import Database
from app.store import f1 as store

# (driver, team, pace): a higher pace finishes higher.
GRID = [
    ("Lando Norris", "McLaren", 9.6), ("Oscar Piastri", "McLaren", 8.7), ("Max Verstappen", "Red Bull Racing", 9.2),
    ("George Russell", "Mercedes", 8.2), ("Charles Leclerc", "Ferrari", 7.9), ("Lewis Hamilton", "Ferrari", 7.5),
    ("Kimi Antonelli", "Mercedes", 7.2), ("Isack Hadjar", "Red Bull Racing", 6.9), ("Alex Albon", "Williams", 6.8),
    ("Carlos Sainz", "Williams", 6.8), ("Fernando Alonso", "Aston Martin", 6.6), ("Oliver Bearman", "Haas", 6.3),
    ("Liam Lawson", "Racing Bulls", 6.2), ("Pierre Gasly", "Alpine", 6.1), ("Nico Hülkenberg", "Audi", 6.0),
    ("Esteban Ocon", "Haas", 5.9), ("Gabriel Bortoleto", "Audi", 5.7), ("Lance Stroll", "Aston Martin", 5.6),
    ("Arvid Lindblad", "Racing Bulls", 5.5), ("Franco Colapinto", "Alpine", 5.3), ("Sergio Pérez", "Cadillac", 5.2),
    ("Valtteri Bottas", "Cadillac", 5.0),
]  # fmt: skip
# (name, circuit, month, day): the calendar, each season on the same days.
CALENDAR = [
    ("Australian Grand Prix", "Albert Park", 3, 8), ("Chinese Grand Prix", "Shanghai", 3, 15),
    ("Japanese Grand Prix", "Suzuka", 3, 29), ("Bahrain Grand Prix", "Sakhir", 4, 12),
    ("Saudi Arabian Grand Prix", "Jeddah", 4, 19), ("Miami Grand Prix", "Miami", 5, 3),
    ("Canadian Grand Prix", "Montréal", 5, 24), ("Monaco Grand Prix", "Monaco", 6, 7),
    ("Spanish Grand Prix", "Barcelona-Catalunya", 6, 14), ("Austrian Grand Prix", "Red Bull Ring", 6, 28),
    ("British Grand Prix", "Silverstone", 7, 5), ("Belgian Grand Prix", "Spa-Francorchamps", 7, 19),
    ("Hungarian Grand Prix", "Hungaroring", 7, 26), ("Dutch Grand Prix", "Zandvoort", 8, 23),
    ("Italian Grand Prix", "Monza", 9, 6), ("Madrid Grand Prix", "Madring", 9, 13),
    ("Azerbaijan Grand Prix", "Baku", 9, 26), ("Singapore Grand Prix", "Marina Bay", 10, 11),
    ("United States Grand Prix", "Austin", 10, 25), ("Mexico City Grand Prix", "Hermanos Rodríguez", 11, 1),
    ("São Paulo Grand Prix", "Interlagos", 11, 8), ("Las Vegas Grand Prix", "Las Vegas", 11, 21),
    ("Qatar Grand Prix", "Lusail", 11, 29), ("Abu Dhabi Grand Prix", "Yas Marina", 12, 6),
]  # fmt: skip
SIMULATIONS = 300
PREDICTION_NOISE, RACE_NOISE, RETIREMENT = 1.0, 1.4, 0.04


def finishing_order(rng: random.Random, pace: dict[str, float], noise: float) -> list[str]:
    """One race as a model runs it: each driver's pace plus noise, fastest first."""
    return sorted(pace, key=lambda d: pace[d] + rng.gauss(0, noise), reverse=True)


def predict(rng: random.Random, race: store.Race, form: dict[str, float]) -> store.Predictions:
    """The predictor's view of a race: the average place over many simulations, and how often each driver won,
    made the podium and scored."""
    places: dict[str, list[int]] = {d: [] for d in form}
    for _ in range(SIMULATIONS):
        for place, driver in enumerate(finishing_order(rng, form, PREDICTION_NOISE), start=1):
            places[driver].append(place)
    ranked = sorted(form, key=lambda d: sum(places[d]))
    teams = {d: t for d, t, _ in GRID}

    def share(driver: str, top: int) -> float:
        return round(sum(p <= top for p in places[driver]) / SIMULATIONS, 3)

    predictions = [
        store.Prediction(driver=d, team=teams[d], position=n, win=share(d, 1), podium=share(d, 3), points=share(d, 10))
        for n, d in enumerate(ranked, start=1)
    ]
    return store.Predictions(race=race, predictions=predictions)


def run_race(rng: random.Random, race: store.Race, pace: dict[str, float]) -> store.Results:
    """What happened: more noise than the predictor allows for, and a retirement now and then."""
    order = finishing_order(rng, pace, RACE_NOISE)
    out = [d for d in order if rng.random() < RETIREMENT]
    teams = {d: t for d, t, _ in GRID}
    results = [store.Result(driver=d, team=teams[d], position=n) for n, d in enumerate(
        (d for d in order if d not in out), start=1)]  # fmt: skip
    results += [store.Result(driver=d, team=teams[d], position=None, status="DNF") for d in out]
    return store.Results(race=race, results=results)


async def fill_f1(db: Database, rng: random.Random, now: datetime) -> int:
    """Last season whole, and this one: predictions for every race (the predictor forecasts the season and
    updates it as races are run), results for the races run; how many driver entries that made."""
    today, entries = now.date(), 0
    pace = {d: p for d, _, p in GRID}
    for season in (today.year - 1, today.year):
        form = dict(pace)  # what the predictor believes, learnt race by race
        for n, (name, circuit, month, day) in enumerate(CALENDAR, start=1):
            when = date(season, month, day)
            race = store.Race(season=season, round=n, name=name, date=when.isoformat(), circuit=circuit)
            entries += (await store.record_predictions(db, predict(rng, race, form), now)).created
            if when < today:
                result = run_race(rng, race, pace)
                await store.record_results(db, result, now)
                for r in result.results:  # the predictor leans a little towards what it saw
                    seen = pace[r.driver] + (11 - (r.position or 21)) * 0.05
                    form[r.driver] = 0.9 * form[r.driver] + 0.1 * seen
    return entries

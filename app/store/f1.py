"""The F1 Predictor's seasons: races, predictions and results (sql/f1.sql). The posts' shapes are declared here,
once: the API decodes into them and `mc demo` builds them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any

import msgspec

from app.clock import stamp
from app.db import Database
from app.params import DATE, MOMENT, parse_moment
from app.rules import NO_NUL, NOT_BLANK
from app.store import as_json, queries, structs_once

MAX_DRIVERS = 40

Season = Annotated[int, msgspec.Meta(ge=1950, le=2100, description="The championship's year")]
Round = Annotated[int, msgspec.Meta(ge=1, le=40, description="The race's number in its season")]
Position = Annotated[int, msgspec.Meta(ge=1, le=MAX_DRIVERS, description="1 is the winner")]
# The minimum is also given as schema "extra": Litestar leaves a minimum of 0 out of the OpenAPI document when the
# field may be null, and a client reading it would then send -0.5 and be refused.
Probability = Annotated[
    float, msgspec.Meta(ge=0.0, le=1.0, description="0-1", extra_json_schema={"extra": {"minimum": 0.0}})
]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=100, pattern=NOT_BLANK)]
Driver = Annotated[str, msgspec.Meta(min_length=1, max_length=80, pattern=NOT_BLANK, description="Max Verstappen")]
Team = Annotated[str, msgspec.Meta(max_length=80, pattern=NO_NUL, description="Red Bull Racing")]
Status = Annotated[str, msgspec.Meta(max_length=40, pattern=NO_NUL, description="Finished, DNF, DSQ, +1 Lap …")]
Day = Annotated[str, msgspec.Meta(pattern=DATE, extra_json_schema={"format": "date"}, description="2026-03-08")]
Moment = Annotated[
    str, msgspec.Meta(pattern=MOMENT, extra_json_schema={"format": "date-time"}, description="2026-03-06T18:00:00Z")
]


class Race(msgspec.Struct, frozen=True):
    """A race of the calendar (known by season and round; a later post may correct its name, date or circuit)."""

    season: Season
    round: Round
    name: Name
    date: Day
    circuit: Name


class Prediction(msgspec.Struct, frozen=True):
    """Where the predictor puts one driver, and how likely it thinks a win, a podium and points are."""

    driver: Driver
    position: Position
    team: Team = ""
    win: Probability | None = None
    podium: Probability | None = None
    points: Probability | None = None


class Predictions(msgspec.Struct, frozen=True):
    """The predictor's whole prediction for one race (a driver left out has none)."""

    race: Race
    predictions: Annotated[list[Prediction], msgspec.Meta(min_length=1, max_length=MAX_DRIVERS)]
    predicted_at: Moment | None = None


class Result(msgspec.Struct, frozen=True):
    """Where one driver finished: a position, or null when not classified (status says why)."""

    driver: Driver
    position: Position | None
    team: Team = ""
    status: Status = ""


class Results(msgspec.Struct, frozen=True):
    """The whole result of one race."""

    race: Race
    results: Annotated[list[Result], msgspec.Meta(min_length=1, max_length=MAX_DRIVERS)]


class Stored(msgspec.Struct, frozen=True):
    """What a post changed: drivers new to the race, and drivers whose prediction or result was replaced."""

    season: int
    round: int
    drivers: int
    created: int
    updated: int


class SeasonRow(msgspec.Struct, frozen=True):
    """A season with data, and how many races it has."""

    season: int
    races: int


class RaceRow(msgspec.Struct, frozen=True):
    """A race of the calendar, with how many drivers have a prediction and a result."""

    season: int
    round: int
    name: str
    date: str
    circuit: str
    predicted: int
    resulted: int


class Entry(msgspec.Struct, frozen=True):
    """One driver in one race: predicted and actual side by side."""

    round: int
    driver: str
    team: str
    predicted_position: int | None
    win: float | None
    podium: float | None
    points: float | None
    actual_position: int | None
    status: str
    has_result: int  # 1 when the race's result names the driver (SQLite's true)


class PostRefused(ValueError):
    """A post that is well formed but cannot be stored as it is (a driver or a position twice)."""


def _once(values: list[object], what: str, field: str) -> None:
    """Refuse a value that is in the post twice (a driver, a position)."""
    seen: set[object] = set()
    for n, value in enumerate(values):
        if value is not None and value in seen:
            raise PostRefused(f"{what}[{n}].{field}: {value!r} is in this post twice")
        seen.add(value)


async def _store(db: Database, race: Race, drivers: list[str], write: Callable[[Any, str], Awaitable[None]]) -> Stored:
    """Save the race and let `write` (an async function of the connection) replace its half of the entries."""
    async with db.write() as conn:
        await queries.f1_upsert_race(conn, **msgspec.structs.asdict(race), now=stamp())
        names = as_json(drivers)
        known = int(await queries.f1_known_drivers(conn, season=race.season, round=race.round, drivers=names))
        await write(conn, names)
        await queries.f1_drop_empty(conn, season=race.season, round=race.round)
    return Stored(race.season, race.round, len(drivers), len(drivers) - known, known)


async def record_predictions(db: Database, post: Predictions, now: datetime | None = None) -> Stored:
    """Store a race's predictions in one transaction (replacing the last ones; results kept)."""
    _once([p.driver for p in post.predictions], "predictions", "driver")
    _once([p.position for p in post.predictions], "predictions", "position")
    at = stamp(parse_moment(post.predicted_at, "predicted_at") if post.predicted_at else now)
    rows = as_json([[p.driver, p.team, p.position, p.win, p.podium, p.points] for p in post.predictions])
    key = {"season": post.race.season, "round": post.race.round}

    async def write(conn: Any, names: str) -> None:
        await queries.f1_upsert_predictions(conn, **key, rows=rows, predicted_at=at)
        await queries.f1_clear_predictions(conn, **key, drivers=names)

    return await _store(db, post.race, [p.driver for p in post.predictions], write)


async def record_results(db: Database, post: Results, now: datetime | None = None) -> Stored:
    """Store a race's result in one transaction (replacing the last one; predictions kept)."""
    _once([r.driver for r in post.results], "results", "driver")
    _once([r.position for r in post.results], "results", "position")
    rows = as_json([[r.driver, r.team, r.position, r.status] for r in post.results])
    key = {"season": post.race.season, "round": post.race.round}

    async def write(conn: Any, names: str) -> None:
        await queries.f1_upsert_results(conn, **key, rows=rows, result_at=stamp(now))
        await queries.f1_clear_results(conn, **key, drivers=names)

    return await _store(db, post.race, [r.driver for r in post.results], write)


async def list_seasons(db: Database) -> list[SeasonRow]:
    """Every season with a race, newest first."""
    async with db.read() as conn:
        return await structs_once(SeasonRow, conn, queries.f1_seasons)


async def season_data(db: Database, season: int) -> tuple[list[RaceRow], list[Entry]]:
    """A season's calendar and every entry of it, in one read."""
    async with db.read() as conn:
        races = await structs_once(RaceRow, conn, queries.f1_races, season=season)
        entries = await structs_once(Entry, conn, queries.f1_entries, season=season)
    return races, entries

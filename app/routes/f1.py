"""F1: /f1 (the F1 Predictor's season: calendar, the next race's predictions, predicted against actual, and the
predictor's accuracy as a chart), and POST /api/v1/f1/predictions and /results for the predictor."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post
from litestar.exceptions import HTTPException
from litestar.params import JSONBody, Parameter

from app.apierrors import JSON_ERRORS
from app.auth import WORKER
from app.clock import utcnow
from app.f1 import Season, season_view
from app.htmx import render_text
from app.kept_pages import keep, view_key
from app.openapi import refusals
from app.state import app_state
from app.store import f1 as store
from app.streams import NO_COMPRESSION

PAGE = "templates/page.html"
FRAGMENT = "fragments/f1/page.html"
TWICE = refusals({422: "A driver, or a position, is in the post twice"})


class F1Page(msgspec.Struct, frozen=True):
    """Context of /f1."""

    title: str
    season: int
    seasons: list[int]  # every season with a race, newest first
    view: Season
    api_url: str  # where the predictor posts (for the empty state's example)


def chosen_season(asked: int | None, seasons: list[int], year: int) -> int:
    """The season asked for; else this year's if it has races; else the newest that has; else this year."""
    if asked is not None:
        return asked
    return year if year in seasons or not seasons else seasons[0]


@get("/f1", cache=False, opt={NO_COMPRESSION: True})  # kept gzipped: app/kept_pages.py
async def f1_page(
    request: Request[Any, Any, Any],
    season: Annotated[int | None, Parameter(ge=1950, le=2100, description="The season (a year)")] = None,
) -> Response[bytes]:
    """One season of the F1 Predictor, picked in the URL. Kept, rendered, while nothing is written and the day is
    the same (a race is next, or awaiting its result, by the day)."""
    mc = app_state(request)
    today = utcnow().date()

    async def build() -> str:
        seasons = [s.season for s in await store.list_seasons(mc.db)]
        chosen = chosen_season(season, seasons, today.year)
        races, entries = await store.season_data(mc.db, chosen)
        ctx = F1Page("F1", chosen, seasons, season_view(races, entries, today), mc.settings.base_url + "/api/v1/f1")
        return render_text(request, PAGE, FRAGMENT, ctx)

    return await keep(mc.ops_pages, request, view_key(request, mc.db.generation, today), build)


@post(
    "/api/v1/f1/predictions", opt=WORKER, status_code=200, responses=TWICE, tags=["F1"],
    exception_handlers=JSON_ERRORS,
)  # fmt: skip
async def post_predictions(request: Request[Any, Any, Any], data: JSONBody[store.Predictions]) -> store.Stored:
    """The predictor's whole prediction for a race (the race's calendar entry comes with it): a re-post replaces
    it, driver by driver (season, round and driver are the key); a driver it leaves out has no prediction."""
    try:
        return await store.record_predictions(app_state(request).db, data)
    except store.PostRefused as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None


@post("/api/v1/f1/results", opt=WORKER, status_code=200, responses=TWICE, tags=["F1"], exception_handlers=JSON_ERRORS)
async def post_results(request: Request[Any, Any, Any], data: JSONBody[store.Results]) -> store.Stored:
    """A race's result (position null: not classified, with its status): a re-post replaces it, driver by driver."""
    try:
        return await store.record_results(app_state(request).db, data)
    except store.PostRefused as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None


ROUTES = [f1_page, post_predictions, post_results]

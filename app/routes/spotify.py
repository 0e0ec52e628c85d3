"""Radio: /spotify, the Spotify player with mood presets, and its forms (play, pause, next, previous, volume,
mood). Every Spotify failure is a sentence on the page (app/spotify.py), never an error page."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post
from litestar.exceptions import HTTPException, NotFoundException
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect

from app.htmx import render, wants_fragment
from app.radio import (
    MOODS,
    MOODS_BY_NAME,
    REDIRECT_URI,
    Mood,
    NowPlaying,
    authorize_url,
    now_playing,
    radio_csp,
    start_mood,
)
from app.spotify import Spotify, SpotifyError
from app.state import app_state

POLL_S = 15  # the page reads the player again this often (one read per process per PLAYER_FRESH_S at most)
COMMANDS = {  # a form's command: the Web API call, and what the page says when it went through
    "play": ("PUT", "/v1/me/player/play", "Playing."),
    "pause": ("PUT", "/v1/me/player/pause", "Paused."),
    "next": ("POST", "/v1/me/player/next", "Skipped to the next track."),
    "previous": ("POST", "/v1/me/player/previous", "Back to the previous track."),
}


class RadioPage(msgspec.Struct, frozen=True):
    """Context of /spotify."""

    title: str
    missing: list[str]  # settings still unset: the page says how to connect Spotify instead
    authorize_url: str  # the first step of getting a refresh token
    redirect_uri: str  # registered with the Spotify app, named in the two steps after it
    token_url: str  # where the code is traded for the refresh token
    now: NowPlaying | None
    player_error: str  # why the player could not be read
    said: str  # what the form just sent did
    error: str  # why it did not
    moods: list[Mood]
    poll_s: int


class VolumeForm(msgspec.Struct, frozen=True):
    volume: Annotated[int, msgspec.Meta(ge=0, le=100)]


class MoodForm(msgspec.Struct, frozen=True):
    mood: Annotated[str, msgspec.Meta(max_length=40)]


async def radio_page(request: Request[Any, Any, Any], said: str = "", error: str = "") -> Response[str]:
    """The page (or its fragment) with the player as Spotify has it now; images allowed from Spotify's hosts."""
    mc = app_state(request)
    spotify, api_url = mc.spotify, mc.settings.spotify_api_url
    now, player_error = None, ""
    if not spotify.missing:
        try:
            now = now_playing(await spotify.player(), api_url)
        except SpotifyError as exc:
            player_error = str(exc)
    accounts = mc.settings.spotify_accounts_url.rstrip("/")
    link = authorize_url(accounts, mc.settings.spotify_client_id)
    ctx = RadioPage(
        "Radio", spotify.missing, link, REDIRECT_URI, accounts + "/api/token", now, player_error, said, error,
        list(MOODS), POLL_S,
    )  # fmt: skip
    response = render(request, "templates/page.html", "fragments/spotify/radio.html", ctx)
    response.headers["Content-Security-Policy"] = radio_csp(api_url)
    return response


async def act(request: Request[Any, Any, Any], work: Callable[[Spotify], Awaitable[str]]) -> Response[Any]:
    """Do what a form asks. Without htmx: back to the page when it went through (POST, redirect, GET), else the
    page with why. With htmx: the fragment, saying what happened (its status is 200 either way: the sentence is
    the answer, and htmx swaps only a success)."""
    spotify = app_state(request).spotify
    said = error = ""
    try:
        if spotify.missing:
            raise SpotifyError("Spotify is not connected yet: set the settings below first.")
        said = await work(spotify)
    except SpotifyError as exc:
        error = str(exc)
    if not error and not wants_fragment(request):
        return Redirect(path="/spotify", status_code=303)
    return await radio_page(request, said, error)


@get("/spotify", cache=False)
async def radio(request: Request[Any, Any, Any]) -> Response[str]:
    """What plays, with play/pause/skip, volume and the moods; how to connect Spotify while it is not."""
    return await radio_page(request)


@post("/spotify/player/{command:str}")
async def control(request: Request[Any, Any, Any], command: FromPath[str]) -> Response[Any]:
    """Play, pause, next or previous on the active device."""
    if command not in COMMANDS:
        raise NotFoundException(f"The player takes {', '.join(COMMANDS)}; not {command!r}.")
    method, path, said = COMMANDS[command]

    async def work(spotify: Spotify) -> str:
        await spotify.command(method, path)
        return said

    return await act(request, work)


@post("/spotify/volume")
async def volume(request: Request[Any, Any, Any], data: URLEncodedBody[VolumeForm]) -> Response[Any]:
    """Set the active device's volume (0-100 %)."""

    async def work(spotify: Spotify) -> str:
        await spotify.command("PUT", "/v1/me/player/volume", params={"volume_percent": data.volume})
        return f"Volume set to {data.volume} %."

    return await act(request, work)


@post("/spotify/mood")
async def mood(request: Request[Any, Any, Any], data: URLEncodedBody[MoodForm]) -> Response[Any]:
    """Start a queue of tracks for a mood preset."""
    chosen = MOODS_BY_NAME.get(data.mood)
    if chosen is None:
        raise HTTPException(status_code=400, detail=f"There is no mood {data.mood!r}.")
    return await act(request, lambda spotify: start_mood(spotify, chosen))


ROUTES = [radio, control, volume, mood]

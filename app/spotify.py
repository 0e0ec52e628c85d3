"""The Spotify Web API behind Radio (/spotify): the refresh-token flow, the player, and tracks to play.

Base URLs are settings (MC_SPOTIFY_API_URL, MC_SPOTIFY_ACCOUNTS_URL), so the tests point them at a fake on loopback.
Every failure (a refusal, a rate limit, an outage, an answer that is not the JSON expected, no answer) becomes a
SpotifyError whose text a person can act on: the page shows it, never a 500."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import msgspec

from app.settings import Settings

TIMEOUT_S = 10.0
SHORT_WAIT_S = 3.0  # a Retry-After up to this is waited out and the call tried once more; a longer one is told
RENEW_BEFORE_S = 60.0  # an access token is renewed this long before Spotify says it expires
PLAYER_FRESH_S = 2.0  # several tabs polling share one read of the player per process
SETTINGS = {
    "spotify_client_id": "MC_SPOTIFY_CLIENT_ID",
    "spotify_client_secret": "MC_SPOTIFY_CLIENT_SECRET",
    "spotify_refresh_token": "MC_SPOTIFY_REFRESH_TOKEN",
}


class SpotifyError(Exception):
    """Spotify did not do what was asked; str() is the sentence the page shows."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class Image(msgspec.Struct, frozen=True):
    url: str = ""


class Named(msgspec.Struct, frozen=True):
    name: str = ""


class Album(msgspec.Struct, frozen=True):
    name: str = ""
    images: list[Image] = []


class Item(msgspec.Struct, frozen=True):
    """A track (or a podcast episode, which has a show and images of its own instead of an album)."""

    name: str = ""
    uri: str = ""
    duration_ms: int = 0
    artists: list[Named] = []
    album: Album | None = None
    show: Named | None = None
    images: list[Image] = []


class Device(msgspec.Struct, frozen=True):
    name: str = ""
    type: str = ""
    volume_percent: int | None = None
    supports_volume: bool = True


class Player(msgspec.Struct, frozen=True):
    """GET /v1/me/player, the fields the page shows."""

    is_playing: bool = False
    progress_ms: int | None = None
    item: Item | None = None
    device: Device | None = None


class Token(msgspec.Struct, frozen=True):
    access_token: str
    expires_in: int = 3600
    refresh_token: str | None = None  # Spotify may hand out a new one; it is used from then on, in this process


class TrackRef(msgspec.Struct, frozen=True):
    uri: str


class Recommendations(msgspec.Struct, frozen=True):
    tracks: list[TrackRef]


class TrackPage(msgspec.Struct, frozen=True):
    items: list[TrackRef] = []


class SearchResult(msgspec.Struct, frozen=True):
    tracks: TrackPage = TrackPage()


class Spotify:
    """One process's client: its access token (kept until shortly before it expires, renewed once on a 401), the
    rate limit Spotify set (no call until it is over), the last read of the player."""

    def __init__(self, settings: Settings) -> None:
        self.api = settings.spotify_api_url.rstrip("/")
        self.accounts = settings.spotify_accounts_url.rstrip("/")
        self.client_id = settings.spotify_client_id
        self.client_secret = settings.spotify_client_secret
        self.refresh_token = settings.spotify_refresh_token
        self.missing = [env for name, env in SETTINGS.items() if not getattr(settings, name)]
        self.settle_s = 0.4  # Spotify's player state lags a command by a few hundred ms: wait before reading it
        self.fresh_s = PLAYER_FRESH_S
        self._token = ""
        self._token_until = 0.0
        self._blocked_until = 0.0
        self._renewing = asyncio.Lock()
        self._player: tuple[float, Player | None] | None = None
        self._client: httpx.AsyncClient | None = None

    async def close(self) -> None:
        """Close the connections."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def player(self) -> Player | None:
        """What plays, on which device (None: nothing is playing anywhere)."""
        if self._player is not None and time.monotonic() - self._player[0] < self.fresh_s:
            return self._player[1]
        body = await self.call("GET", "/v1/me/player")
        found = None if body is None else decode(body, Player)
        self._player = (time.monotonic(), found)
        return found

    async def command(self, method: str, path: str, **request: Any) -> None:
        """A player command (play, pause, next, volume…); the next read of the player waits for it to settle."""
        await self.call(method, path, **request)
        self._player = None
        await asyncio.sleep(self.settle_s)

    async def recommended(self, genres: tuple[str, ...], targets: dict[str, float], limit: int) -> list[str]:
        """Track URIs Spotify recommends for seed genres and target audio features."""
        params: dict[str, str | int | float] = {"seed_genres": ",".join(genres), "limit": limit}
        params.update({f"target_{name}": value for name, value in targets.items()})
        body = await self.call("GET", "/v1/recommendations", params=params)
        return [t.uri for t in decode(body or b"", Recommendations).tracks]

    async def by_genre(self, genre: str, limit: int) -> list[str]:
        """Track URIs that search finds under a genre."""
        body = await self.call("GET", "/v1/search", params={"q": f'genre:"{genre}"', "type": "track", "limit": limit})
        return [t.uri for t in decode(body or b"", SearchResult).tracks.items]

    async def call(self, method: str, path: str, **request: Any) -> bytes | None:
        """One Web API call with the access token: renewed and tried again once on a 401, tried again once after
        a short Retry-After; the body, or None for an empty answer (204)."""
        self._check_not_blocked()
        renewed = waited = False
        while True:
            token = await self.access_token()
            response = await self._send(
                method, self.api + path, headers={"Authorization": f"Bearer {token}"}, **request
            )
            if response.status_code == 401 and not renewed:
                renewed = True
                self._forget(token)
                continue
            if response.status_code == 429 and not waited:
                waited = True
                await self._wait_out(response)
                continue
            if response.status_code == 429:
                self._block(response)
            if response.status_code >= 400:
                raise failure(response)
            return response.content or None

    async def access_token(self) -> str:
        """The access token, renewed with the refresh token when there is none or it is about to expire (one
        renewal at a time: callers waiting meanwhile take the new token)."""
        async with self._renewing:
            if self._token and time.monotonic() < self._token_until:
                return self._token
            response = await self._send(
                "POST", self.accounts + "/api/token", auth=(self.client_id, self.client_secret),
                data={"grant_type": "refresh_token", "refresh_token": self.refresh_token},
            )  # fmt: skip
            if response.status_code == 429:
                self._block(response)
            if response.status_code >= 400:
                raise token_failure(response)
            token = decode(response.content, Token)
            self._token = token.access_token
            self._token_until = time.monotonic() + max(token.expires_in - RENEW_BEFORE_S, 0)
            self.refresh_token = token.refresh_token or self.refresh_token
            return self._token

    def _forget(self, token: str) -> None:
        """A 401 for `token`: the next call renews it (unless another call already did)."""
        if self._token == token:
            self._token = ""

    async def _wait_out(self, response: httpx.Response) -> None:
        wait = retry_after(response)
        if wait > SHORT_WAIT_S:
            self._block(response)
            raise failure(response)
        await asyncio.sleep(wait)

    def _block(self, response: httpx.Response) -> None:
        self._blocked_until = time.monotonic() + retry_after(response)

    def _check_not_blocked(self) -> None:
        left = self._blocked_until - time.monotonic()
        if left > 0:
            raise SpotifyError(f"Spotify asks us to wait {max(round(left), 1)} s before asking again.", 429)

    async def _send(self, method: str, url: str, **request: Any) -> httpx.Response:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=TIMEOUT_S)
        try:
            return await self._client.request(method, url, **request)
        except httpx.TimeoutException:
            raise SpotifyError(f"Spotify did not answer within {TIMEOUT_S:g} s: try again in a moment.") from None
        except httpx.HTTPError as exc:  # its text may carry the URL: only its kind
            raise SpotifyError(f"Spotify cannot be reached ({type(exc).__name__}): is this machine online?") from None


def decode(body: bytes, kind: type[Any]) -> Any:
    """Spotify's JSON as `kind`, or a SpotifyError that says it was not what was expected."""
    try:
        return msgspec.json.decode(body, type=kind)
    except (msgspec.DecodeError, msgspec.ValidationError):
        raise SpotifyError("Spotify sent an answer Mission Control cannot read (not the JSON it expected).") from None


def retry_after(response: httpx.Response) -> float:
    """Seconds a 429 asks us to wait (Retry-After in seconds; 1 when it says nothing usable)."""
    try:
        return min(max(float(response.headers.get("retry-after", "1")), 0.0), 86_400.0)
    except ValueError:
        return 1.0


class ApiError(msgspec.Struct, frozen=True):
    status: int = 0
    message: str = ""
    reason: str = ""


class ApiErrorBody(msgspec.Struct, frozen=True):
    error: ApiError | str = ""
    error_description: str = ""


def said_by(response: httpx.Response) -> ApiErrorBody:
    """What an error answer says about itself (nothing when it is not Spotify's JSON)."""
    try:
        return msgspec.json.decode(response.content, type=ApiErrorBody)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return ApiErrorBody()


def failure(response: httpx.Response) -> SpotifyError:
    """A Web API error answer as a sentence."""
    status = response.status_code
    if status == 429:
        return SpotifyError(
            f"Spotify asks us to wait {max(round(retry_after(response)), 1)} s before asking again.", 429
        )
    if status >= 500:
        return SpotifyError(f"Spotify is having trouble (HTTP {status}): try again in a moment.", status)
    body = said_by(response).error
    reason, message = (body.reason, body.message[:200]) if isinstance(body, ApiError) else ("", body[:200])
    if reason == "NO_ACTIVE_DEVICE":
        text = "No Spotify device is active: start playing on a phone, computer or speaker, then try again."
    elif reason == "PREMIUM_REQUIRED":
        text = "Controlling playback needs Spotify Premium on this account."
    elif status == 401:
        text = "Spotify refused the access token even after renewing it: check the app's settings in Spotify."
    else:
        text = f"Spotify answered HTTP {status}" + (f": {message}" if message else ".")
    return SpotifyError(text, status)


def token_failure(response: httpx.Response) -> SpotifyError:
    """The accounts service refused to renew the access token: which setting to look at."""
    status = response.status_code
    if status == 429 or status >= 500:
        return failure(response)
    body = said_by(response)
    code = body.error if isinstance(body.error, str) else ""
    if code == "invalid_client":
        return SpotifyError("Spotify refused the client id or secret: check MC_SPOTIFY_CLIENT_ID and _SECRET.", status)
    if code == "invalid_grant":
        return SpotifyError(
            "Spotify refused the refresh token (revoked, or made for another app): get a new one and set "
            "MC_SPOTIFY_REFRESH_TOKEN.", status
        )  # fmt: skip
    return SpotifyError(f"Spotify would not renew the access token (HTTP {status} {code}).".replace(" )", ")"), status)

"""Radio's moods, and what the page shows of the player: each mood a set of seed genres and target audio features
that start a matching queue; the track playing as a person reads it ("1:23 / 3:45")."""

from __future__ import annotations

from itertools import zip_longest
from urllib.parse import urlencode, urlsplit

import msgspec

from app.security import CSP
from app.spotify import Player, Spotify, SpotifyError

QUEUE_LENGTH = 30  # tracks a mood queues (Spotify's recommendations give at most 100)
PER_GENRE = 10  # tracks asked of search per genre when recommendations are closed to the app
# Spotify's image hosts (album art); the API's own host is added (a proxy, or the tests' fake, serves its art).
ART_HOSTS = (".scdn.co", ".spotifycdn.com")
# Where Spotify sends the browser after "Agree" while getting a refresh token: nothing needs to listen there (the
# code is copied from the address bar), and Spotify takes http redirect URIs only on a loopback IP.
REDIRECT_URI = "http://127.0.0.1:8888/callback"
SCOPES = "user-read-playback-state user-modify-playback-state"  # reading the player, and controlling it


class Mood(msgspec.Struct, frozen=True):
    """A preset: Spotify's seed genres (at most five) and target_* audio features (0-1, tempo in BPM)."""

    name: str
    label: str
    blurb: str
    genres: tuple[str, ...]
    targets: dict[str, float]


MOODS = (
    Mood("focus", "Focus", "Wordless and steady", ("study", "ambient", "piano"),
         {"energy": 0.3, "instrumentalness": 0.85, "valence": 0.4, "speechiness": 0.05}),
    Mood("energy", "Energy", "Fast and loud", ("work-out", "edm", "dance"),
         {"energy": 0.9, "danceability": 0.8, "tempo": 128}),
    Mood("calm", "Calm", "Soft and acoustic", ("chill", "acoustic", "new-age"),
         {"energy": 0.2, "acousticness": 0.8, "valence": 0.5}),
    Mood("happy", "Happy", "Bright and danceable", ("happy", "pop", "funk"),
         {"valence": 0.9, "energy": 0.7, "danceability": 0.75}),
    Mood("late", "Late night", "Slow grooves", ("trip-hop", "jazz", "soul"),
         {"energy": 0.4, "valence": 0.35, "tempo": 90}),
)  # fmt: skip
MOODS_BY_NAME = {m.name: m for m in MOODS}


class NowPlaying(msgspec.Struct, frozen=True):
    """The playing track as the page shows it."""

    title: str
    artists: str
    album: str
    art_url: str  # "" when there is none, or it is not on a host the page's CSP lets images come from
    playing: bool
    progress: str  # "1:23"
    duration: str  # "3:45"
    progress_ms: int
    duration_ms: int
    device: str
    volume: int | None  # None: the device does not take a volume
    uri: str


def clock(ms: int | None) -> str:
    """Milliseconds as a player shows them: 0:07, 3:45, 1:02:09."""
    seconds = max(ms or 0, 0) // 1000
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def art_allowed(url: str, api_url: str) -> bool:
    """An image the page may show: https on Spotify's image hosts, or on the API's own origin."""
    parts, api = urlsplit(url), urlsplit(api_url)
    if parts.scheme == "https" and (parts.hostname or "").endswith(ART_HOSTS):
        return True
    return bool(parts.netloc) and (parts.scheme, parts.netloc) == (api.scheme, api.netloc)


def authorize_url(accounts_url: str, client_id: str) -> str:
    """Spotify's consent page for this app (CLIENT_ID in it until the client id is set)."""
    query = {
        "response_type": "code",
        "client_id": client_id or "CLIENT_ID",
        "scope": SCOPES,
        "redirect_uri": REDIRECT_URI,
    }
    return f"{accounts_url.rstrip('/')}/authorize?{urlencode(query)}"


def radio_csp(api_url: str) -> str:
    """The app's CSP, with images also from Spotify's image hosts and the API's origin (album art)."""
    api = urlsplit(api_url)
    hosts = " ".join(f"https://*{host}" for host in ART_HOSTS)
    return CSP.replace("img-src 'self' data:", f"img-src 'self' data: {hosts} {api.scheme}://{api.netloc}")


def now_playing(player: Player | None, api_url: str) -> NowPlaying | None:
    """What the page shows of the player (None: nothing is playing on any device)."""
    if player is None or player.item is None:
        return None
    item = player.item
    images = item.album.images if item.album and item.album.images else item.images
    art = next((i.url for i in images if art_allowed(i.url, api_url)), "")
    device = player.device
    return NowPlaying(
        title=item.name or "Untitled",
        artists=", ".join(a.name for a in item.artists if a.name) or (item.show.name if item.show else ""),
        album=item.album.name if item.album else "",
        art_url=art,
        playing=player.is_playing,
        progress=clock(player.progress_ms),
        duration=clock(item.duration_ms),
        progress_ms=min(max(player.progress_ms or 0, 0), item.duration_ms),
        duration_ms=item.duration_ms,
        device=device.name if device else "",
        volume=device.volume_percent if device and device.supports_volume else None,
        uri=item.uri,
    )


async def start_mood(spotify: Spotify, mood: Mood) -> str:
    """Fill the queue with tracks for `mood` and play them; what to tell the person. Spotify closed its
    recommendations to apps made after November 2024 (404): those play what search finds under the mood's genres,
    without its audio targets, and are told so."""
    note = ""
    try:
        uris = await spotify.recommended(mood.genres, mood.targets, QUEUE_LENGTH)
    except SpotifyError as exc:
        if exc.status != 404:
            raise
        found = [await spotify.by_genre(genre, PER_GENRE) for genre in mood.genres]
        uris = list(dict.fromkeys(uri for group in zip_longest(*found) for uri in group if uri))  # interleaved
        note = " (found by genre: Spotify gives this app no recommendations, so the mood's audio targets are not used)"
    if not uris:
        raise SpotifyError(f"Spotify found no tracks for {mood.label}: try another mood.")
    await spotify.command("PUT", "/v1/me/player/play", json={"uris": uris})
    return f"Playing {mood.label}: {len(uris)} tracks{note}."

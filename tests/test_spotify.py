"""Radio: the Spotify client against a fake Spotify on loopback (token refresh, a 401 renewed once, 429 with
Retry-After, outages and garbage as sentences) and /spotify (now playing, the forms reaching the fake with the right
method, path and body, CSRF, page or fragment, the unconfigured page)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from litestar.testing import TestClient

from app.main import create_app
from app.radio import MOODS_BY_NAME, clock, start_mood
from app.settings import Settings, load_settings
from app.spotify import Spotify, SpotifyError
from tests.conftest import TEST_HOST, Harness, soup, text_of
from tests.fakes.spotify import CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN, FakeSpotify
from tests.test_apps import closed_port
from tests.test_fragments import strict  # noqa: F401 - a fixture: templates render with StrictUndefined

HTMX = {"HX-Request": "true"}
BOOSTED = {"HX-Request": "true", "HX-Boosted": "true"}


def spotify_settings(tmp_path: Path, base_url: str, **overrides: object) -> Settings:
    options: dict[str, object] = {
        "data_dir": str(tmp_path / "data"), "allowed_hosts": TEST_HOST, "spotify_api_url": base_url,
        "spotify_accounts_url": base_url, "spotify_client_id": CLIENT_ID, "spotify_client_secret": CLIENT_SECRET,
        "spotify_refresh_token": REFRESH_TOKEN,
    }  # fmt: skip
    return load_settings({}, **(options | overrides))


@pytest.fixture
def fake() -> Iterator[FakeSpotify]:
    with FakeSpotify() as spotify:
        yield spotify


@pytest.fixture
def client_of(tmp_path: Path, fake: FakeSpotify) -> Spotify:
    """The client alone, on the fake."""
    return Spotify(spotify_settings(tmp_path, fake.base_url))


@contextmanager
def started(settings: Settings) -> Iterator[Harness]:
    with TestClient(create_app(settings), base_url=f"http://{TEST_HOST}") as client, client.portal() as portal:
        harness = Harness(client, portal)
        spotify = harness.client.app.state.mc.spotify
        spotify.settle_s = spotify.fresh_s = 0  # the fake's player has no lag to wait for; each view reads it
        yield harness


@pytest.fixture
def radio(tmp_path: Path, fake: FakeSpotify) -> Iterator[tuple[Harness, str]]:
    """A logged-in app on the fake Spotify, and the page's CSRF token."""
    with started(spotify_settings(tmp_path, fake.base_url)) as harness:
        yield harness, harness.login()


# The client


async def test_the_access_token_is_fetched_with_the_refresh_token_and_kept(
    client_of: Spotify, fake: FakeSpotify
) -> None:
    await client_of.call("GET", "/v1/me/player")
    await client_of.call("GET", "/v1/me/player")
    (token,) = fake.token_calls()
    assert token.method == "POST" and token.form() == {"grant_type": "refresh_token", "refresh_token": REFRESH_TOKEN}
    assert token.headers["authorization"].startswith("Basic ")
    assert [c.headers["authorization"] for c in fake.api_calls()] == ["Bearer access-1", "Bearer access-1"]
    await client_of.close()


async def test_a_token_near_its_expiry_is_renewed_before_use(client_of: Spotify, fake: FakeSpotify) -> None:
    fake.expires_in = 30  # inside the minute before expiry: renewed at every use
    await client_of.call("GET", "/v1/me/player")
    await client_of.call("GET", "/v1/me/player")
    assert len(fake.token_calls()) == 2
    await client_of.close()


async def test_a_401_renews_the_token_once_and_tries_again(client_of: Spotify, fake: FakeSpotify) -> None:
    await client_of.call("GET", "/v1/me/player")
    fake.expire_tokens()  # Spotify revoked it before its time
    assert await client_of.call("GET", "/v1/me/player")
    assert len(fake.token_calls()) == 2
    assert [c.headers["authorization"] for c in fake.api_calls()] == ["Bearer access-1"] * 2 + ["Bearer access-2"]
    await client_of.close()


async def test_a_second_401_is_a_message_not_a_loop(client_of: Spotify, fake: FakeSpotify) -> None:
    for _ in range(3):
        fake.answer_next("/v1/me/player", 401, {"error": {"status": 401, "message": "Bad token"}})
    with pytest.raises(SpotifyError, match="refused the access token even after renewing it"):
        await client_of.call("GET", "/v1/me/player")
    assert len(fake.api_calls()) == 2 and len(fake.token_calls()) == 2
    await client_of.close()


async def test_a_short_retry_after_is_waited_out_once(client_of: Spotify, fake: FakeSpotify) -> None:
    fake.answer_next("/v1/me/player", 429, b"", retry_after="1")
    began = time.monotonic()
    assert await client_of.call("GET", "/v1/me/player")
    assert time.monotonic() - began >= 1 and len(fake.api_calls()) == 2
    await client_of.close()


async def test_a_long_retry_after_is_told_and_kept_to(client_of: Spotify, fake: FakeSpotify) -> None:
    fake.answer_next("/v1/me/player", 429, b"", retry_after="120")
    with pytest.raises(SpotifyError, match=r"^Spotify asks us to wait 120 s"):
        await client_of.call("GET", "/v1/me/player")
    with pytest.raises(SpotifyError, match=r"Spotify asks us to wait 1[12][0-9] s"):
        await client_of.call("PUT", "/v1/me/player/pause")
    assert len(fake.api_calls()) == 1, "no call reaches Spotify until its wait is over"
    await client_of.close()


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (503, b"<html>Service Unavailable</html>", "Spotify is having trouble (HTTP 503): try again in a moment."),
        (200, b"{not json", "Spotify sent an answer Mission Control cannot read"),
        (200, b'{"is_playing": "very"}', "Spotify sent an answer Mission Control cannot read"),
        (404, b'{"error": {"status": 404, "message": "No active device", "reason": "NO_ACTIVE_DEVICE"}}',
         "No Spotify device is active"),
        (403, b'{"error": {"status": 403, "message": "Premium", "reason": "PREMIUM_REQUIRED"}}',
         "Controlling playback needs Spotify Premium"),
        (400, b'{"error": {"status": 400, "message": "Invalid id"}}', "Spotify answered HTTP 400: Invalid id"),
    ],
)  # fmt: skip
async def test_failures_become_a_sentence(
    client_of: Spotify, fake: FakeSpotify, status: int, body: bytes, message: str
) -> None:
    fake.answer_next("/v1/me/player", status, body)
    with pytest.raises(SpotifyError) as caught:
        await client_of.player()
    assert str(caught.value).startswith(message)
    await client_of.close()


async def test_a_refused_refresh_token_names_the_setting(tmp_path: Path, fake: FakeSpotify) -> None:
    spotify = Spotify(spotify_settings(tmp_path, fake.base_url, spotify_refresh_token="revoked"))
    with pytest.raises(SpotifyError, match="MC_SPOTIFY_REFRESH_TOKEN"):
        await spotify.player()
    wrong_secret = Spotify(spotify_settings(tmp_path, fake.base_url, spotify_client_secret="nope"))
    with pytest.raises(SpotifyError, match="client id or secret"):
        await wrong_secret.player()
    assert not fake.api_calls()
    await spotify.close()
    await wrong_secret.close()


async def test_spotify_out_of_reach_is_a_sentence(tmp_path: Path) -> None:
    spotify = Spotify(spotify_settings(tmp_path, f"http://127.0.0.1:{closed_port()}"))
    with pytest.raises(SpotifyError, match=r"^Spotify cannot be reached \(ConnectError\)"):
        await spotify.player()
    await spotify.close()


async def test_a_mood_plays_recommendations_or_falls_back_to_search(client_of: Spotify, fake: FakeSpotify) -> None:
    focus = MOODS_BY_NAME["focus"]
    said = await start_mood(client_of, focus)
    assert said == "Playing Focus: 30 tracks."
    asked, played = fake.api_calls()
    assert (asked.method, asked.path) == ("GET", "/v1/recommendations")
    assert asked.query["seed_genres"] == "study,ambient,piano" and asked.query["limit"] == "30"
    assert asked.query["target_energy"] == "0.3" and asked.query["target_instrumentalness"] == "0.85"
    assert (played.method, played.path) == ("PUT", "/v1/me/player/play")
    assert played.json() == {"uris": [f"spotify:track:rec{n}" for n in range(30)]}
    fake.requests.clear()
    fake.recommendations_closed = True  # Spotify's answer to apps made after November 2024
    said = await start_mood(client_of, focus)
    assert said.startswith("Playing Focus: 30 tracks (found by genre")
    searches = [c for c in fake.api_calls() if c.path == "/v1/search"]
    assert [s.query["q"] for s in searches] == ['genre:"study"', 'genre:"ambient"', 'genre:"piano"']
    assert fake.api_calls()[-1].json()["uris"][:3] == ["spotify:track:study0", "spotify:track:ambient0",
                                                       "spotify:track:piano0"], "interleaved by genre"  # fmt: skip
    await client_of.close()


async def test_views_share_a_read_of_the_player_until_a_command(client_of: Spotify, fake: FakeSpotify) -> None:
    client_of.settle_s = 0
    first = await client_of.player()
    assert await client_of.player() is first
    await client_of.command("PUT", "/v1/me/player/pause")
    assert (await client_of.player()) is not None
    reads = [c for c in fake.api_calls() if c.path == "/v1/me/player"]
    assert len(reads) == 2, "one read for two views; a command makes the next view read again"
    await client_of.close()


def test_progress_reads_like_a_player() -> None:
    assert [clock(ms) for ms in (0, 7_000, 83_000, 225_999, 3_729_000, None)] == [
        "0:00", "0:07", "1:23", "3:45", "1:02:09", "0:00",
    ]  # fmt: skip


# The page


def test_unconfigured_page_names_the_settings_and_how_to_get_a_refresh_token(harness: Harness) -> None:
    csrf = harness.login()
    response = harness.client.get("/spotify")
    assert response.status_code == 200
    page = soup(response.text)
    assert page.select_one("main h1").get_text() == "Radio"
    setup = page.select_one("#radio-setup")
    assert [c.get_text() for c in setup.select("p code")][:3] == [
        "MC_SPOTIFY_CLIENT_ID", "MC_SPOTIFY_CLIENT_SECRET", "MC_SPOTIFY_REFRESH_TOKEN",
    ]  # fmt: skip
    consent = setup.select_one("a.radio-authorize")["href"]
    assert consent.startswith("https://accounts.spotify.com/authorize?") and "client_id=CLIENT_ID" in consent
    assert "user-modify-playback-state" in consent.replace("+", " ")
    assert "grant_type=authorization_code" in setup.select_one("pre").get_text()
    assert not page.select("form[action^='/spotify']"), "no controls before Spotify is connected"
    refused = harness.client.post("/spotify/player/next", data={"_csrf": csrf}, follow_redirects=False)
    assert refused.status_code == 200 and soup(refused.text).select_one("#radio-setup")
    assert text_of(refused.text, "#radio-error") == "Spotify is not connected yet: set the settings below first."


@pytest.mark.usefixtures("strict")
def test_now_playing_shows_track_artist_art_progress_and_volume(radio: tuple[Harness, str], fake: FakeSpotify) -> None:
    harness, _ = radio
    response = harness.client.get("/spotify")
    assert response.status_code == 200
    now = soup(response.text).select_one("#radio-now")
    assert now.select_one(".radio-title").get_text() == "Weightless"
    assert now.select_one(".radio-artist").get_text() == "Marconi Union"
    assert now.select_one(".radio-album").get_text() == "Ambient Transmissions"
    assert now.select_one(".radio-time").get_text(" ", strip=True) == "Played 1:23 / 3:45"
    assert now.select_one("img.radio-art")["src"] == f"{fake.base_url}/art.svg"
    assert "on Kitchen speaker" in now.select_one(".radio-state").get_text()
    assert now.select_one("#radio-toggle").get_text(" ", strip=True).endswith("Pause")
    assert now.select_one("input#radio-volume")["value"] == "60"
    csp = response.headers["content-security-policy"]
    assert f"img-src 'self' data: https://*.scdn.co https://*.spotifycdn.com {fake.base_url}" in csp
    assert "script-src 'self';" in csp, "only images are let in from elsewhere"


def test_the_page_is_whole_for_a_visit_and_a_fragment_for_a_swap(radio: tuple[Harness, str]) -> None:
    harness, _ = radio
    plain, swap, boosted = (harness.client.get("/spotify", headers=h) for h in ({}, HTMX, BOOSTED))
    for response in (plain, swap, boosted):
        assert response.status_code == 200 and response.headers["vary"].startswith("HX-Request")
    assert soup(plain.text).select_one("html main #radio") and soup(boosted.text).select_one("html main #radio")
    fragment = soup(swap.text)
    assert fragment.select_one("html") is None and fragment.find().get("id") == "radio"
    poller = fragment.select_one("#radio-now > div[hidden][hx-get]")
    assert (poller["hx-get"], poller["hx-select"], poller["hx-trigger"]) == ("/spotify", "#radio-now", "every 15s")


@pytest.mark.parametrize(
    ("form", "data", "method", "path", "query"),
    [
        ("/spotify/player/pause", {}, "PUT", "/v1/me/player/pause", {}),
        ("/spotify/player/play", {}, "PUT", "/v1/me/player/play", {}),
        ("/spotify/player/next", {}, "POST", "/v1/me/player/next", {}),
        ("/spotify/player/previous", {}, "POST", "/v1/me/player/previous", {}),
        ("/spotify/volume", {"volume": "35"}, "PUT", "/v1/me/player/volume", {"volume_percent": "35"}),
    ],
)
def test_player_forms_reach_spotify_and_come_back_to_the_page(
    radio: tuple[Harness, str], fake: FakeSpotify, form: str, data: dict[str, str], method: str, path: str,
    query: dict[str, str],
) -> None:  # fmt: skip
    harness, csrf = radio
    response = harness.client.post(form, data={"_csrf": csrf, **data}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/spotify"
    sent = [c for c in fake.api_calls() if c.path != "/v1/me/player"]
    assert [(c.method, c.path, c.query, c.body) for c in sent] == [(method, path, query, b"")]


def test_a_mood_form_starts_its_queue(radio: tuple[Harness, str], fake: FakeSpotify) -> None:
    harness, csrf = radio
    response = harness.client.post("/spotify/mood", data={"_csrf": csrf, "mood": "energy"}, headers=HTMX)
    assert response.status_code == 200
    assert text_of(response.text, "#radio-said") == "Playing Energy: 30 tracks."
    asked, played = [c for c in fake.api_calls() if c.path != "/v1/me/player"]
    assert asked.query["seed_genres"] == "work-out,edm,dance" and asked.query["target_tempo"] == "128"
    assert played.method == "PUT" and len(played.json()["uris"]) == 30
    assert harness.client.post("/spotify/mood", data={"_csrf": csrf, "mood": "rage"}).status_code == 400


def test_an_htmx_form_answers_with_the_fragment_saying_what_happened(
    radio: tuple[Harness, str], fake: FakeSpotify
) -> None:
    harness, csrf = radio
    response = harness.client.post("/spotify/player/pause", data={"_csrf": csrf}, headers=HTMX)
    assert response.status_code == 200 and response.headers["vary"].startswith("HX-Request")
    page = soup(response.text)
    assert page.find().get("id") == "radio" and page.select_one("#radio-said").get_text() == "Paused."
    assert page.select_one("#radio-toggle").get_text(" ", strip=True).endswith("Play"), "the fake now reads paused"


def test_spotifys_refusal_is_shown_on_the_page_never_a_500(radio: tuple[Harness, str], fake: FakeSpotify) -> None:
    harness, csrf = radio
    fake.player = None  # no device is active
    page = harness.client.get("/spotify")
    assert "Nothing is playing" in text_of(page.text, "#radio-now")
    swap = harness.client.post("/spotify/player/play", data={"_csrf": csrf}, headers=HTMX)
    assert swap.status_code == 200
    assert text_of(swap.text, "#radio-error").startswith("No Spotify device is active")
    plain = harness.client.post("/spotify/player/next", data={"_csrf": csrf}, follow_redirects=False)
    assert plain.status_code == 200 and soup(plain.text).select_one("html")
    assert text_of(plain.text, "#radio-error").startswith("No Spotify device is active")
    fake.answer_next("/v1/me/player", 500, b"oops")
    broken = harness.client.get("/spotify")
    assert broken.status_code == 200
    assert text_of(broken.text, "#radio-now .radio-problem") == (
        "Spotify is having trouble (HTTP 500): try again in a moment."
    )


def test_forms_need_the_csrf_token(radio: tuple[Harness, str], fake: FakeSpotify) -> None:
    harness, _ = radio
    for form in ("/spotify/player/pause", "/spotify/volume", "/spotify/mood"):
        response = harness.client.post(form, data={"volume": "10", "mood": "calm"}, follow_redirects=False)
        assert response.status_code == 403, form
    assert not [c for c in fake.api_calls() if c.method != "GET"], "nothing reached Spotify"


def test_an_unknown_command_is_a_404(radio: tuple[Harness, str], fake: FakeSpotify) -> None:
    harness, csrf = radio
    assert harness.client.post("/spotify/player/shuffle", data={"_csrf": csrf}).status_code == 404
    assert harness.client.post("/spotify/volume", data={"_csrf": csrf, "volume": "101"}).status_code == 400
    assert not [c for c in fake.api_calls() if c.method != "GET"]

"""Apps and Radio in a real Chromium against `mc serve`: the apps' cards with statuses checked live (this server's own
/healthz and a fake dashboard), Radio on a fake Spotify (pause by keyboard, a mood), and Radio unconfigured; each at
1280 and 375 px, nothing sideways on a phone, axe-core clean."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser.conftest import real_errors, serious_violations, watch_console
from tests.fakes.dashboard import FakeDashboard
from tests.fakes.spotify import CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN, FakeSpotify, playing
from tests.server import Server, free_port, start_server
from tests.test_streams import admin_token

pytestmark = pytest.mark.browser
WIDTHS = (1280, 375)


@pytest.fixture(scope="module")
def fakes() -> Iterator[tuple[FakeDashboard, FakeSpotify]]:
    with FakeDashboard(slow_s=0.3) as dashboard, FakeSpotify() as spotify:
        yield dashboard, spotify


@pytest.fixture(scope="module")
def hub(
    tmp_path_factory: pytest.TempPathFactory, fakes: tuple[FakeDashboard, FakeSpotify]
) -> Iterator[tuple[Server, str]]:
    """`mc serve` with an apps file (itself, a fake dashboard up and down) and Radio on the fake Spotify."""
    dashboard, spotify = fakes
    tmp = tmp_path_factory.mktemp("apps-radio")
    port = free_port()
    (tmp / "apps.toml").write_text(f"""
[[apps]]
name = "Mission Control"
url = "http://127.0.0.1:{port}/"
description = "This hub, checked at its /healthz"
icon = "🛰️"
health_url = "http://127.0.0.1:{port}/healthz"

[[apps]]
name = "Smart Money"
url = "{dashboard.base_url}/ok"
description = "Portfolio signals and insider trades"
icon = "💰"

[[apps]]
name = "Price Watch"
url = "{dashboard.base_url}/"
description = "Price alerts for what you follow"
icon = "PW"
health_url = "{dashboard.base_url}/error"
""")  # fmt: skip
    env = {
        "MC_APPS_FILE": str(tmp / "apps.toml"), "MC_APPS_CHECK_INTERVAL_S": "2",
        "MC_SPOTIFY_API_URL": spotify.base_url, "MC_SPOTIFY_ACCOUNTS_URL": spotify.base_url,
        "MC_SPOTIFY_CLIENT_ID": CLIENT_ID, "MC_SPOTIFY_CLIENT_SECRET": CLIENT_SECRET,
        "MC_SPOTIFY_REFRESH_TOKEN": REFRESH_TOKEN,
    }  # fmt: skip
    db = tmp / "mc.db"
    token = admin_token(db)
    server = start_server(db, env=env, port=port)
    yield server, token
    server.stop()


@pytest.fixture(scope="module")
def bare_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, str]]:
    """`mc serve` with neither an apps file nor Spotify settings."""
    db = tmp_path_factory.mktemp("bare") / "mc.db"
    token = admin_token(db)
    server = start_server(db)
    yield server, token
    server.stop()


def logged_in(browser: Browser, server: Server, token: str, width: int) -> BrowserContext:
    context = browser.new_context(base_url=server.base_url, viewport={"width": width, "height": 900})
    context.set_default_timeout(10_000)
    context.request.post("/login", form={"token": token})
    return context


def fits(page: Page) -> bool:
    """Nothing wider than the window (no sideways scrolling)."""
    return bool(page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth"))


def audited(page: Page) -> list[str]:
    """axe-core's serious violations on the page as it is now, in a twin context that lets the injected script run
    (the page itself keeps the app's real CSP, so a blocked image or script shows); light at 1280 px, dark on a
    phone, so each scheme is audited once per page."""
    size = page.viewport_size or {"width": 1280, "height": 900}
    scheme = "light" if size["width"] > 400 else "dark"
    context = page.context.browser.new_context(  # type: ignore[union-attr]
        base_url=page.url, bypass_csp=True, storage_state=page.context.storage_state(), viewport=size,
        color_scheme=scheme,
    )  # fmt: skip
    try:
        twin = context.new_page()
        twin.goto(page.url)
        twin.wait_for_load_state("networkidle")
        return serious_violations(twin, f"{page.url} ({scheme})")
    finally:
        context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_apps_show_live_statuses_and_open_in_a_new_tab(browser: Browser, hub: tuple[Server, str], width: int) -> None:
    server, token = hub
    context = logged_in(browser, server, token, width)
    page = context.new_page()
    errors: list[str] = []
    watch_console(page, errors)
    page.goto("/apps")
    expect(page.get_by_role("heading", level=1)).to_have_text("Apps")
    cards = page.locator("li.app-card")
    expect(cards).to_have_count(3)
    # Checked by the server itself within a second or two of start; the page fetches its cards again meanwhile.
    expect(page.locator("#app-1 .badge")).to_have_text("Up", timeout=15_000)
    expect(page.locator("#app-2 .badge")).to_have_text("Up")
    expect(page.locator("#app-3 .badge")).to_have_text("Down")
    expect(page.locator("#app-3 .app-health")).to_contain_text("HTTP 503")
    expect(page.locator("#app-1 .app-health time")).to_have_text("just now")  # app.js reads it relative
    link = page.get_by_role("link", name="Smart Money (opens in a new tab)")
    assert link.get_attribute("target") == "_blank" and link.get_attribute("rel") == "noopener noreferrer"
    with context.expect_page() as opened:
        link.click()
    assert opened.value.url.endswith("/ok")
    opened.value.close()
    assert fits(page), "sideways scrolling at this width"
    assert not audited(page)
    assert not real_errors(errors)
    context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_radio_plays_pauses_and_starts_a_mood(
    browser: Browser, hub: tuple[Server, str], fakes: tuple[FakeDashboard, FakeSpotify], width: int
) -> None:
    server, token = hub
    _, spotify = fakes
    spotify.player = playing(spotify.base_url)  # as the fake started, whatever the other width's run did
    context = logged_in(browser, server, token, width)
    page = context.new_page()
    errors: list[str] = []
    watch_console(page, errors)
    page.goto("/spotify")
    expect(page.locator(".radio-title")).to_have_text("Weightless")
    expect(page.locator(".radio-time")).to_have_text("Played 1:23 / 3:45")
    assert page.locator("img.radio-art").evaluate("img => img.complete && img.naturalWidth > 0"), "art loads"
    page.locator("#radio-toggle").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#radio-said")).to_have_text("Paused.")
    expect(page.locator("#radio-toggle")).to_contain_text("Play")
    expect(page.locator("#radio-toggle")).to_be_focused()  # htmx gives focus back to the control pressed
    assert ("PUT", "/v1/me/player/pause") in [(c.method, c.path) for c in spotify.api_calls()]
    page.get_by_role("button", name="Calm").click()
    expect(page.locator("#radio-said")).to_have_text("Playing Calm: 30 tracks.")
    assert fits(page), "sideways scrolling at this width"
    assert not audited(page)
    assert not real_errors(errors)
    context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_unconfigured_radio_and_apps_say_how_to_connect(
    browser: Browser, bare_hub: tuple[Server, str], width: int
) -> None:
    server, token = bare_hub
    context = logged_in(browser, server, token, width)
    page = context.new_page()
    for path, heading, how in (
        ("/spotify", "Connect Spotify", "MC_SPOTIFY_REFRESH_TOKEN"),
        ("/apps", None, "[[apps]]"),
    ):
        page.goto(path)
        if heading:
            expect(page.get_by_role("heading", level=2, name=heading)).to_be_visible()
        expect(page.locator("main")).to_contain_text(how)
        assert fits(page), f"{path}: sideways scrolling at this width"
        assert not audited(page), path
    context.close()

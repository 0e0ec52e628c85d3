"""Apps: the apps file (what is right is kept, what is wrong is a problem on the page), the health checks against a
fake dashboard on loopback (up, slow, down, timeout, refused; latency; a bounded number at once), and /apps."""

from __future__ import annotations

import asyncio
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar.testing import TestClient

from app.apps import App, HealthChecker, current_apps, load_apps
from app.demo.apps import write_sample_apps
from app.main import create_app
from app.settings import Settings, load_settings
from tests.conftest import TEST_HOST, Harness, soup, text_of
from tests.fakes.dashboard import FakeDashboard
from tests.test_fragments import strict  # noqa: F401 - a fixture: templates render with StrictUndefined

HTMX = {"HX-Request": "true"}
BOOSTED = {"HX-Request": "true", "HX-Boosted": "true"}


def write(path: Path, text: str) -> str:
    path.write_text(text, encoding="utf-8")
    return str(path)


def closed_port() -> int:
    """A loopback port nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def checker(tmp_path: Path, **overrides: object) -> HealthChecker:
    options: dict[str, object] = {"apps_check_timeout_s": 1, "apps_slow_ms": 300, **overrides}
    return HealthChecker(load_settings({}, data_dir=str(tmp_path), **options))


@pytest.fixture
def site() -> Iterator[FakeDashboard]:
    with FakeDashboard(slow_s=0.6, hang_s=3) as fake:
        yield fake


@pytest.fixture
def apps_harness(tmp_path: Path) -> Iterator[Harness]:
    """A started app whose apps file is tmp_path/apps.toml (written by the test), checked every minute."""
    settings = load_settings(
        {}, data_dir=str(tmp_path / "data"), allowed_hosts=TEST_HOST, apps_file=str(tmp_path / "apps.toml")
    )
    with TestClient(create_app(settings), base_url=f"http://{TEST_HOST}") as client, client.portal() as portal:
        yield Harness(client, portal)


def test_the_apps_file_keeps_what_is_right_and_says_what_is_wrong(tmp_path: Path) -> None:
    path = write(tmp_path / "apps.toml", """
[[apps]]
name = "Smart Money"
url = "https://money.example.org/"
description = "Portfolio signals"
icon = "💰"
health_url = "https://money.example.org/healthz"

[[apps]]
name = "Script"
url = "javascript:alert(1)"

[[apps]]
name = "Files"
url = "file:///etc/passwd"

[[apps]]
name = "Sneaky health"
url = "https://ok.example.org/"
health_url = "ftp://ok.example.org/"

[[apps]]
name = "Smart Money"
url = "https://twice.example.org/"

[[apps]]
url = "https://nameless.example.org/"

[[apps]]
name = "Typo"
url = "https://typo.example.org/"
descripton = "a key the file does not know"

[[apps]]
name = "Half an address"
url = "http://[::1"

[[apps]]
name = "With a password"
url = "https://me:secret@example.org/"

[[apps]]
name = "Price Watch"
url = "http://127.0.0.1:8502/"
""")  # fmt: skip
    found = load_apps(path)
    assert [a.name for a in found.apps] == ["Smart Money", "Price Watch"]
    money = found.apps[0]
    assert (money.icon, money.description, money.check_url) == ("💰", "Portfolio signals", money.health_url)
    assert found.apps[1].check_url == "http://127.0.0.1:8502/", "no health_url: the url itself is checked"
    assert len(found.problems) == 8, found.problems
    assert "'javascript:alert(1)' is not an http:// or https:// address" in found.problems[0]
    assert "file:///etc/passwd" in found.problems[1] and "ftp://ok.example.org/" in found.problems[2]
    assert "named twice" in found.problems[3] and "name" in found.problems[4] and "descripton" in found.problems[5]
    assert "'http://[::1' is not an http:// or https:// address" in found.problems[6]
    assert "carries a user name or password" in found.problems[7] and "secret" not in found.problems[7]


def test_a_missing_file_is_no_problem_and_a_broken_one_is(tmp_path: Path) -> None:
    missing = load_apps(str(tmp_path / "nope.toml"))
    assert (missing.exists, missing.apps, missing.problems) == (False, [], [])
    broken = load_apps(write(tmp_path / "broken.toml", "[[apps]\nname = 'x'\n"))
    assert broken.exists and "is not valid TOML" in broken.problems[0]
    wrong_shape = load_apps(write(tmp_path / "shape.toml", 'apps = "everything"\n'))
    assert "array of tables" in wrong_shape.problems[0]


def test_the_file_is_read_again_only_when_it_changes(tmp_path: Path) -> None:
    path = write(tmp_path / "apps.toml", '[[apps]]\nname = "One"\nurl = "http://127.0.0.1:1/"\n')
    first = current_apps(path)
    assert current_apps(path) is first, "unchanged: the same object, not a new read"
    write(tmp_path / "apps.toml", '[[apps]]\nname = "Two"\nurl = "http://127.0.0.1:2/"\n')
    os.utime(path, ns=(time.time_ns() + 1_000_000_000,) * 2)  # a later mtime, even on a coarse clock
    assert [a.name for a in current_apps(path).apps] == ["Two"]


async def test_checks_say_up_slow_down_timeout_and_refused_with_latency(tmp_path: Path, site: FakeDashboard) -> None:
    health = checker(tmp_path)
    base = site.base_url
    refused = f"http://127.0.0.1:{closed_port()}/"
    apps = [App(name, url) for name, url in [
        ("ok", f"{base}/ok"), ("slow", f"{base}/slow"), ("error", f"{base}/error"), ("hang", f"{base}/hang"),
        ("gone", refused), ("moved", f"{base}/redirect"),
    ]]  # fmt: skip
    await health.check(f"{base}/ok")  # a fresh client's first request also sets itself up: not what is measured
    began = time.monotonic()
    await health.check_all(apps)
    assert time.monotonic() - began < 2.5, "the hanging site costs one timeout, checked beside the others"
    got = {a.name: health.health_of(a) for a in apps}
    assert all(got.values())
    ok, slow, error, hang, gone, moved = (got[n] for n in ("ok", "slow", "error", "hang", "gone", "moved"))
    assert (ok.state, ok.http_status, ok.detail) == ("up", 200, "HTTP 200") and ok.latency_ms is not None
    assert ok.latency_ms < 300 and ok.checked_at.endswith("Z")
    assert slow.state == "slow" and slow.latency_ms is not None and slow.latency_ms >= 600
    assert (error.state, error.http_status, error.detail) == ("down", 503, "HTTP 503")
    assert (hang.state, hang.latency_ms, hang.detail) == ("timeout", None, "no answer in 1 s")
    assert (gone.state, gone.detail) == ("down", "connection refused")
    assert (moved.state, moved.http_status) == ("up", 200), "a redirect is followed"
    await health.stop()


async def test_checks_run_a_bounded_number_at_once_and_forget_removed_apps(tmp_path: Path, site: FakeDashboard) -> None:
    health = checker(tmp_path, apps_check_concurrency=2, apps_slow_ms=900)
    apps = [App(f"app {n}", f"{site.base_url}/slow?{n}") for n in range(6)]
    await health.check_all(apps)
    assert site.most_in_flight == 2
    assert {h.state for h in health.results.values()} == {"up"} and len(health.results) == 6
    await health.check_all(apps[:1])
    assert list(health.results) == [apps[0].check_url]
    await health.stop()


async def test_the_background_checker_checks_soon_after_start_then_on_its_interval(
    tmp_path: Path, site: FakeDashboard
) -> None:
    path = write(tmp_path / "apps.toml", f'[[apps]]\nname = "ok"\nurl = "{site.base_url}/ok"\n')
    health = checker(tmp_path, apps_file=path, apps_check_interval_s=1)
    health.start()
    try:
        for _ in range(40):
            if site.hits.get("/ok", 0) >= 2:
                break
            await asyncio.sleep(0.1)
    finally:
        await health.stop()
    assert site.hits["/ok"] == 2, "one check a second after start, one a second later"
    assert health.results[f"{site.base_url}/ok"].state == "up"


def test_unconfigured_page_says_how_to_write_the_file(harness: Harness, settings: Settings) -> None:
    harness.login()
    response = harness.client.get("/apps")
    assert response.status_code == 200
    page = soup(response.text)
    assert page.select_one("main h1").get_text() == "Apps"
    how = text_of(response.text, ".apps-empty")
    assert "No apps yet" in how and str(settings.apps_path) in how and "MC_APPS_FILE" in how
    assert "[[apps]]" in page.select_one(".apps-empty pre").get_text()
    assert not page.select(".app-card")


@pytest.mark.usefixtures("strict")
def test_cards_show_each_app_with_its_status_and_open_in_a_new_tab(
    apps_harness: Harness, tmp_path: Path, site: FakeDashboard
) -> None:
    write(tmp_path / "apps.toml", f"""
[[apps]]
name = "Smart Money"
url = "{site.base_url}/ok"
description = "Portfolio signals"
icon = "💰"

[[apps]]
name = "Price Watch"
url = "{site.base_url}/"
health_url = "{site.base_url}/error"

[[apps]]
name = "Broken"
url = "javascript:alert(document.cookie)"
""")  # fmt: skip
    harness = apps_harness
    harness.login()
    mc = harness.client.app.state.mc
    harness.call(mc.apps.check_all, current_apps(str(tmp_path / "apps.toml")).apps)
    page = soup(harness.client.get("/apps").text)
    cards = page.select("li.app-card")
    assert [c.select_one(".app-name a").get_text(" ", strip=True) for c in cards] == [
        "Smart Money (opens in a new tab)", "Price Watch (opens in a new tab)",
    ]  # fmt: skip
    money, watch = cards
    link = money.select_one(".app-name a")
    assert link["href"] == f"{site.base_url}/ok" and link["target"] == "_blank"
    assert set(link["rel"]) == {"noopener", "noreferrer"}
    assert money.select_one(".app-icon").get_text() == "💰" and "Portfolio signals" in money.get_text()
    assert "app-up" in money["class"] and money.select_one(".badge").get_text() == "Up"
    assert (
        "HTTP 200" in money.select_one(".app-health").get_text() and " ms" in money.select_one(".app-health").get_text()
    )
    assert money.select_one(".app-health time")["datetime"].endswith("Z")
    assert "app-down" in watch["class"] and "HTTP 503" in watch.get_text()
    assert watch.select_one(".app-icon").get_text() == "P", "no icon: the name's first letter"
    problems = page.select_one('.apps-problems[role="alert"]')
    assert problems is not None and "javascript:alert(document.cookie)" in problems.get_text()
    assert not page.select('a[href^="javascript:"]'), "a refused address is never a link"
    assert page.select_one(".apps-summary").get_text(" ", strip=True) == "1 up · 1 down"


def test_the_page_is_whole_for_a_visit_and_a_fragment_for_a_swap(apps_harness: Harness, tmp_path: Path) -> None:
    write(tmp_path / "apps.toml", '[[apps]]\nname = "One"\nurl = "http://127.0.0.1:9/"\n')
    apps_harness.login()
    client = apps_harness.client
    plain, swap, boosted = (client.get("/apps", headers=h) for h in ({}, HTMX, BOOSTED))
    for response in (plain, swap, boosted):
        assert response.status_code == 200 and response.headers["vary"].startswith("HX-Request")
    assert soup(plain.text).select_one("html main #apps") and soup(boosted.text).select_one("html main #apps")
    fragment = soup(swap.text)
    assert fragment.select_one("html") is None and fragment.find().get("id") == "apps"
    poller = fragment.select_one("#apps-now > div[hidden][hx-get]")
    assert poller["hx-get"] == "/apps" and poller["hx-select"] == "#apps-now" and poller["hx-target"] == "#apps-now"
    first = soup(plain.text).select_one("#apps-now > div[hidden][hx-get]")
    assert first["hx-trigger"] == "every 3s", "an app not checked yet: the page looks again soon"


def test_a_broken_file_is_a_problem_on_the_page_not_an_error(apps_harness: Harness, tmp_path: Path) -> None:
    write(tmp_path / "apps.toml", "[[apps]\nthis is not toml")
    apps_harness.login()
    response = apps_harness.client.get("/apps")
    assert response.status_code == 200
    assert "is not valid TOML" in text_of(response.text, '.apps-problems[role="alert"]')


def test_a_new_file_is_checked_at_once_when_the_page_is_seen(apps_harness: Harness, tmp_path: Path) -> None:
    apps_harness.login()
    with FakeDashboard() as fake:
        write(tmp_path / "apps.toml", f'[[apps]]\nname = "ok"\nurl = "{fake.base_url}/ok"\n')
        first = soup(apps_harness.client.get("/apps").text)
        assert first.select_one(".app-card .badge").get_text() == "Not checked yet"
        for _ in range(50):  # the page woke the checker: no minute's wait
            if fake.hits.get("/ok"):
                break
            time.sleep(0.05)
        time.sleep(0.1)
        again = soup(apps_harness.client.get("/apps").text)
        assert again.select_one(".app-card .badge").get_text() == "Up"


def test_the_demo_writes_a_sample_file_only_when_there_is_none(tmp_path: Path) -> None:
    settings = load_settings({}, db=str(tmp_path / "mc.db"), port=8123)
    said = write_sample_apps(settings)
    assert said.startswith(f"Wrote a sample apps file to {tmp_path / 'apps.toml'}"), "beside the database"
    sample = load_apps(str(tmp_path / "apps.toml"))
    assert not sample.problems
    assert [a.name for a in sample.apps] == ["Mission Control", "Smart Money", "Price Watch"]
    assert sample.apps[0].check_url == "http://127.0.0.1:8123/healthz", "this hub's own health: a true status"
    assert all(a.url.startswith("http://127.0.0.1:") for a in sample.apps), "loopback only: nothing invented"
    write(tmp_path / "apps.toml", "# mine\n")
    assert write_sample_apps(settings).startswith("Left ")
    assert (tmp_path / "apps.toml").read_text() == "# mine\n"

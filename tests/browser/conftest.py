"""Browser fixtures: a real `mc serve` on demo data, Debian's chromium through Playwright, logged-in pages.

The browser tests skip when /usr/bin/chromium is missing, unless MC_REQUIRE_BROWSER is set: then they fail.
"""

from __future__ import annotations

import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Playwright, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
BIN = Path(sys.executable).parent
MC = str(BIN / "mc") if (BIN / "mc").exists() else (shutil.which("mc") or "mc")
LOGIN_LINE = re.compile(
    r"Log in \(this link works once, for 24 hours\): (?P<url>http://127\.0\.0\.1:\d+/login\?token=\S+)"
)
START_TIMEOUT_S = 20.0
DEMO_TIMEOUT_S = 120.0
STOP_TIMEOUT_S = 10.0


@dataclass
class Server:
    """A running `mc serve`: where it listens, its database, and the one-time login link it printed."""

    base_url: str
    login_url: str
    db_path: Path
    output: list[str] = field(default_factory=list)
    # The logged-in browser state, saved the first time the login link is used.
    storage_state: dict[str, Any] | None = None

    def token(self, scope: str = "admin") -> str:
        """A new raw token of `scope`, made by `mc token create` (the token is its last stdout line)."""
        done = run_mc("token", "create", "--scope", scope, "--db", str(self.db_path))
        return done.stdout.strip().splitlines()[-1].strip()


def mc_env() -> dict[str, str]:
    """The environment for `mc`: this one without MC_* settings (the command line says everything)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MC_")}
    env["PYTHONUNBUFFERED"] = "1"
    return env


def run_mc(*args: str, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
    """Run one `mc` command to completion; fail the test with its output when it fails."""
    done = subprocess.run([MC, *args], capture_output=True, text=True, timeout=timeout, env=mc_env(), check=False)
    if done.returncode != 0:
        pytest.fail(f"`mc {' '.join(args)}` exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return done


def free_port() -> int:
    """A port on 127.0.0.1 nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_healthy(base_url: str, deadline: float) -> None:
    """Poll /healthz until it answers 200 or the deadline passes."""
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base_url}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
                last = f"HTTP {response.status}"
        except (urllib.error.URLError, OSError) as exc:
            last = str(exc)
        time.sleep(0.1)
    raise TimeoutError(f"{base_url}/healthz did not answer 200 in time ({last})")


def wait_for_login_link(lines: queue.Queue[str | None], deadline: float) -> str:
    """Read `mc serve`'s stdout lines until the login link; fail on exit or at the deadline."""
    while True:
        try:
            line = lines.get(timeout=max(deadline - time.monotonic(), 0.01))
        except queue.Empty:
            raise TimeoutError("`mc serve` printed no login link in time") from None
        if line is None:
            raise RuntimeError("`mc serve` exited before printing a login link")
        if found := LOGIN_LINE.search(line):
            return found["url"]


def stop(process: subprocess.Popen[str]) -> None:
    """SIGTERM, then SIGKILL when it has not exited after STOP_TIMEOUT_S."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT_S)


@pytest.fixture(scope="session")
def chromium_executable() -> Path:
    """Debian's chromium: skip without it, or fail when MC_REQUIRE_BROWSER is set."""
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is not installed (apt-get install chromium)"
        if os.environ.get("MC_REQUIRE_BROWSER"):
            pytest.fail(f"MC_REQUIRE_BROWSER is set but {message}", pytrace=False)
        pytest.skip(message)
    return CHROMIUM


@contextmanager
def serve_demo() -> Iterator[Server]:
    """Run a real `mc serve` on 127.0.0.1 over a new database filled by `mc demo`; stop it on the way out."""
    with tempfile.TemporaryDirectory(prefix="mc-browser-") as tmp:
        db_path = Path(tmp) / "mc.db"
        run_mc("demo", "--db", str(db_path), timeout=DEMO_TIMEOUT_S)
        port = free_port()
        stderr_path = Path(tmp) / "serve.stderr"
        with stderr_path.open("w") as stderr:
            process = subprocess.Popen(
                [MC, "serve", "--db", str(db_path), "--port", str(port), "--quiet"],
                stdout=subprocess.PIPE,
                stderr=stderr,
                text=True,
                env=mc_env(),
            )
            lines: queue.Queue[str | None] = queue.Queue()
            output: list[str] = []

            def pump() -> None:
                assert process.stdout is not None
                for line in process.stdout:  # keep draining so the pipe never fills
                    output.append(line.rstrip("\n"))
                    lines.put(line)
                lines.put(None)

            threading.Thread(target=pump, name="mc-serve-stdout", daemon=True).start()
            base_url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + START_TIMEOUT_S
            try:
                login_url = wait_for_login_link(lines, deadline)
                assert login_url.startswith(base_url + "/"), login_url
                wait_healthy(base_url, deadline)
            except (TimeoutError, RuntimeError, AssertionError) as exc:
                stop(process)
                pytest.fail(f"{exc}\nstdout: {output}\nstderr: {stderr_path.read_text()}", pytrace=False)
            try:
                yield Server(base_url, login_url, db_path, output)
            finally:
                stop(process)


@pytest.fixture(scope="session")
def server(chromium_executable: Path) -> Iterator[Server]:
    """A real `mc serve` on 127.0.0.1 over a database filled by `mc demo`."""
    with serve_demo() as running:
        yield running


# Playwright's sync driver keeps an event loop marked running in this thread while it is open, which breaks
# asyncio.run() in later test modules: so the driver and its browser live for one module, not the session.
@pytest.fixture(scope="module")
def playwright_instance(chromium_executable: Path) -> Iterator[Playwright]:
    """Playwright's sync driver for one test module."""
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="module")
def browser(playwright_instance: Playwright, chromium_executable: Path) -> Iterator[Browser]:
    """Headless Debian chromium (never Playwright's own download)."""
    browser = playwright_instance.chromium.launch(
        executable_path=str(chromium_executable), headless=True, args=CHROMIUM_ARGS
    )
    yield browser
    browser.close()


@pytest.fixture(scope="module")
def login_state(browser: Browser, server: Server) -> dict[str, Any]:
    """The cookies of a login made with the printed link, once per session (the link works only once)."""
    if server.storage_state is None:
        context = browser.new_context(base_url=server.base_url)
        try:
            page = context.new_page()
            response = page.goto(server.login_url)
            assert response is not None and response.ok, f"the login link answered {response and response.status}"
            assert not page.url.startswith(f"{server.base_url}/login"), f"the link did not log in: {page.url}"
            server.storage_state = dict(context.storage_state())
        finally:
            context.close()
    return server.storage_state


ContextFactory = Callable[..., BrowserContext]


@pytest.fixture
def new_context(browser: Browser, server: Server, login_state: dict[str, Any]) -> Iterator[ContextFactory]:
    """Make browser contexts on the server (logged in unless logged_in=False); closed after the test."""
    made: list[BrowserContext] = []

    def make(logged_in: bool = True, **options: Any) -> BrowserContext:
        if logged_in:
            options.setdefault("storage_state", login_state)
        context = browser.new_context(base_url=server.base_url, **options)
        context.set_default_timeout(10_000)
        made.append(context)
        return context

    yield make
    for context in made:
        context.close()


@pytest.fixture
def console_errors() -> list[str]:
    """Console errors and uncaught exceptions of the test's `page` (CSP violations show up here)."""
    return []


def watch_console(page: Page, errors: list[str]) -> None:
    """Collect the page's console errors and uncaught exceptions into `errors`."""

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(f"{message.text} ({message.location.get('url', '')})")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: errors.append(f"uncaught: {exc}"))


def real_errors(errors: list[str]) -> list[str]:
    """The console errors that matter (a missing favicon does not)."""
    return [e for e in errors if "favicon" not in e]


@pytest.fixture
def page(new_context: ContextFactory, console_errors: list[str]) -> Page:
    """A page in a fresh, logged-in 1280x800 context, its console errors collected."""
    page = new_context(viewport={"width": 1280, "height": 800}).new_page()
    watch_console(page, console_errors)
    return page


# Inside the window, and the point at its centre shows the element itself: not a sticky header or the top bar.
SHOWN_WHOLE = """selector => {
    const el = document.querySelector(selector);
    if (!el) return false;
    const r = el.getBoundingClientRect();
    if (!r.width || r.left < 0 || r.top < 0 || r.right > innerWidth || r.bottom > innerHeight) return false;
    const seen = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
    return Boolean(seen && (seen === el || el.contains(seen)));
}"""


def shown_whole(page: Page, selector: str) -> bool:
    """A person sees the whole element `selector` in the window, nothing covering its centre."""
    return bool(page.evaluate(SHOWN_WHOLE, selector))


AXE = Path(__file__).parent / "vendor" / "axe-4.14.1.min.js"
BLOCKING_IMPACTS = ("serious", "critical")


def serious_violations(page: Page, where: str | None = None) -> list[str]:
    """Run axe on the page as it is now; one line per serious or critical violation, with up to 3 nodes."""
    if not page.evaluate("() => typeof axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    found = []
    for violation in result["violations"]:
        if violation.get("impact") not in BLOCKING_IMPACTS:
            continue
        nodes = "; ".join(f"{node['target']} {node['html'][:160]!r}" for node in violation["nodes"][:3])
        found.append(
            f"{where or page.url} [{violation['impact']}] {violation['id']}: {violation['help']} "
            f"({len(violation['nodes'])} nodes) e.g. {nodes}"
        )
    return found

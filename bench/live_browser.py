"""POST -> browser: how long until a posted event shows in a real Chromium's activity panel.

Runs `mc serve` with one and with two processes (and two rung by a throwaway redis-server, when one is
installed), opens the ticket page in Debian's chromium, posts 20 events (each on a new connection, so with two
processes either may take it) and times each from sending the POST to the row being in the page (a
MutationObserver stamps it with the browser's clock; both clocks are this machine's wall clock). Prints median
and max against the issue's budgets (250 ms, 500 ms across two). Only
127.0.0.1; nothing here passes or fails on speed.
"""

from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from playwright.sync_api import sync_playwright

from tests.redis_server import start_redis
from tests.server import start_server
from tests.test_streams import admin_token

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
WATCH = """() => { window.seen = {}; new MutationObserver((changes) => { for (const c of changes)
  for (const n of c.addedNodes) if (n.id && n.id.startsWith("event-")) window.seen[n.id] = Date.now(); })
  .observe(document.getElementById("activity-log"), {childList: true}); }"""


def measure(workers: int, redis_url: str = "", rounds: int = 20) -> list[float]:
    """Milliseconds from POST to the row in the page, per round."""
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "mc.db"
        token = admin_token(db)
        server = start_server(db, "--workers", str(workers), env={"MC_REDIS_URL": redis_url} if redis_url else None)
        auth = {"Authorization": f"Bearer {token}"}
        try:
            httpx.post(f"{server.base_url}/api/v1/tickets", json={"title": "Timing"}, headers=auth).raise_for_status()
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=ARGS)
                context = browser.new_context(base_url=server.base_url)
                context.request.post("/login", form={"token": token})
                page = context.new_page()
                page.goto("/ticket/MC-1")
                page.evaluate(WATCH)
                page.wait_for_timeout(500)  # the stream connects
                times = []
                for n in range(rounds):
                    sent = time.time() * 1000
                    seq = httpx.post(f"{server.base_url}/api/v1/tickets/MC-1/events", headers=auth,
                                     json={"type": "assistant", "n": n}).json()["seq"]  # fmt: skip
                    page.wait_for_function(f"() => window.seen['event-{seq}']", timeout=10_000)
                    times.append(page.evaluate(f"() => window.seen['event-{seq}']") - sent)
                    page.wait_for_timeout(100)
                browser.close()
            return times
        finally:
            server.stop()


def main() -> None:
    """Measure on one and on two server processes (polling SQLite, then rung by Redis) and print the figures."""
    print(f"{'processes':<22}{'median ms':>10}{'max ms':>10}{'budget ms':>11}  verdict")
    with tempfile.TemporaryDirectory() as tmp:
        redis = start_redis(Path(tmp)) if shutil.which("redis-server") else None
        try:
            runs = [(1, "", 250), (2, "", 500)] + ([(2, redis.url, 500)] if redis else [])
            for workers, redis_url, budget in runs:
                times = measure(workers, redis_url)
                median = statistics.median(times)
                verdict = "MET" if median < budget else "NOT MET"
                label = f"{workers}" + (" (Redis)" if redis_url else "")
                print(f"{label:<22}{median:>10.1f}{max(times):>10.1f}{budget:>11}  {verdict}")
        finally:
            if redis:
                redis.stop()
        if redis is None:
            print("(no redis-server here: the Redis row is left out)")


if __name__ == "__main__":
    main()

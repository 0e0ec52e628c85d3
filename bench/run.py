"""Benchmark the real `mc serve` on loopback: every scenario's req/s and latency as a ratio to /healthz.

Usage: python bench/run.py [--duration S] [--concurrency C] [--scenario NAME ...] [--tickets N]
                           [--client auto|wrk|python] [--json [PATH]]

The machine is small and shared, so absolute numbers wander: /healthz is measured first and last in the
same run, their mean is the baseline, and their drift says how noisy the run was. Nothing here passes or
fails on speed; the exit status is non-zero only when the server did not start or a scenario had more than
1% errors.
"""

from __future__ import annotations

import argparse
import html
import json
import math
import os
import platform
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as `python bench/run.py`: make the `bench` package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from bench.client import Result, run_python, run_wrk, wrk_path, wrk_version
from bench.server import (
    LONG_RUN,
    LONG_TICKET,
    ROOT,
    BenchSetupError,
    Server,
    count_events,
    count_tickets,
    create_admin_token,
    get,
    prepare_database,
    wait_for_search_index,
)

MAX_ERROR_RATE = 0.01
LOAD_MORE = "<the Done column's load-more link>"
BOARD_TARGET_BYTES = 60 * 1024


@dataclass(frozen=True)
class Scenario:
    """One request to repeat: method, path, and headers (the bearer token added when `auth`)."""

    name: str
    path: str
    auth: bool = False
    headers: dict[str, str] = field(default_factory=dict)
    method: str = "GET"

    def headers_for(self, token: str) -> dict[str, str]:
        """The request headers, with the bearer token when the page needs a login."""
        return {**self.headers, **({"Authorization": f"Bearer {token}"} if self.auth else {})}


SCENARIOS = {
    s.name: s
    for s in (
        Scenario("healthz", "/healthz"),
        Scenario("static", "/static/app.css"),
        Scenario("board", "/board", auth=True),
        Scenario("board_fragment", "/board", auth=True, headers={"HX-Request": "true"}),
        # The path is found at run time: the Done column's real "Load more" link on the board.
        Scenario("load_more", LOAD_MORE, auth=True, headers={"HX-Request": "true"}),
        Scenario("ticket", "/ticket/MC-1", auth=True),
        # With --events: a ticket whose run has 5,000 events (the page shows the newest 200 of them).
        Scenario("ticket_long", f"/ticket/{LONG_TICKET}", auth=True),
        Scenario("overview", "/", auth=True),
        Scenario("activity", "/activity", auth=True),
        Scenario("activity_comments", "/activity?kind=comment", auth=True),
        Scenario("tasks", "/tasks", auth=True),
        Scenario("team", "/team", auth=True),
        Scenario("logs", "/logs", auth=True),
        Scenario("logs_heartbeats", "/logs/heartbeats", auth=True),
        Scenario("search", "/search?q=fix+test", auth=True),
        Scenario("life_manager", "/life-manager", auth=True),
        Scenario("f1", "/f1", auth=True),
        # The demo's folders and files beside the database (mc demo writes them); Radio unconfigured (its setup page).
        Scenario("reports", "/reports", auth=True),
        Scenario("skills", "/skills", auth=True),
        Scenario("apps", "/apps", auth=True),
        Scenario("radio", "/spotify", auth=True),
    )
}


@dataclass(frozen=True)
class Measured:
    """A scenario's result in this run, with the status of the one request made before measuring it."""

    label: str
    scenario: Scenario
    preflight_status: int
    result: Result

    def problem(self) -> str | None:
        """Why this measurement counts as failed (too many errors, or a non-2xx first response)."""
        if not 200 <= self.preflight_status < 300:
            return f"{self.label}: the first request answered {self.preflight_status}, not 2xx"
        if self.result.error_rate > MAX_ERROR_RATE:
            return f"{self.label}: {self.result.errors} errors in {self.result.requests} requests"
        return None


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="bench/run.py", description="Benchmark `mc serve` on loopback, relative to /healthz."
    )
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per scenario (default 5)")
    parser.add_argument("--concurrency", type=int, default=16, help="concurrent connections (default 16)")
    parser.add_argument(
        "--scenario",
        action="append",
        choices=list(SCENARIOS),
        metavar="NAME",
        help=f"a scenario to run, repeatable (default all: {', '.join(SCENARIOS)}); healthz always runs",
    )
    parser.add_argument(
        "--tickets", type=int, default=0, help="top the demo database up to N tickets (default: demo's only)"
    )
    parser.add_argument(
        "--events",
        type=int,
        default=0,
        help=f"top the database up to N worker events, {LONG_RUN:,} of them one run on {LONG_TICKET} (default: none)",
    )
    parser.add_argument(
        "--client",
        choices=("auto", "wrk", "python"),
        default="auto",
        help="load generator: wrk if on PATH (auto), or the asyncio/httpx fallback (python)",
    )
    parser.add_argument(
        "--json",
        nargs="?",
        const="",
        default=None,
        metavar="PATH",
        help="also write the results as JSON (default path bench/out/bench-<UTC time>.json)",
    )
    args = parser.parse_args(argv)
    if not args.duration > 0:
        parser.error("--duration must be positive")
    if args.concurrency < 1:
        parser.error("--concurrency must be at least 1")
    if args.tickets < 0 or args.events < 0:
        parser.error("--tickets and --events cannot be negative")
    return args


def choose_client(name: str) -> tuple[str, Callable[[str, dict[str, str], int, float], Result]]:
    """The load generator's description and function."""
    if name == "wrk" or (name == "auto" and wrk_path()):
        if not wrk_path():
            raise BenchSetupError("--client wrk, but wrk is not on PATH")
        return wrk_version(), run_wrk
    return f"python asyncio + httpx {httpx.__version__} (per-request timing)", run_python


def machine_facts() -> dict[str, Any]:
    """Facts about this machine that explain its numbers."""
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "cpu": cpu or platform.processor() or "unknown",
        "loadavg": [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None,
        "platform": platform.platform(),
        "python": f"{platform.python_implementation()} {platform.python_version()} ({sys.executable})",
        "sqlite": sqlite3.sqlite_version,
    }


def print_header(
    machine: dict[str, Any], settings: dict[str, Any], fixture: dict[str, Any], health: dict[str, Any]
) -> None:
    """Machine facts, fixture and settings: what a reader needs to compare two runs."""
    print("== Mission Control benchmark ==")
    print(f"machine:  nproc {machine['nproc']} (usable {machine['usable_cpus']}), {machine['cpu']}")
    print(f"          load average {machine['loadavg']}, {machine['platform']}")
    print(f"python:   {machine['python']}")
    print(f"sqlite:   {machine['sqlite']} (Python's sqlite3 module)")
    print(f"server:   {settings['base_url']}  /healthz -> {json.dumps(health, sort_keys=True)}")
    print(f"fixture:  {fixture['demo']}")
    print(
        f"          tickets: {fixture['tickets']:,} in all, {fixture['added']:,} bulk-added;"
        f" events: {fixture['events']:,}; fixture ready in {fixture['setup_s']:.1f} s"
    )
    print(f"client:   {settings['client']}")
    print(
        f"settings: duration {settings['duration']:g} s per scenario, concurrency {settings['concurrency']}, "
        f"tickets {settings['tickets'] or 'demo only'}, scenarios {', '.join(settings['scenarios'])}"
    )
    print()


def measure(
    server: Server,
    token: str,
    names: list[str],
    concurrency: int,
    duration: float,
    drive: Callable[[str, dict[str, str], int, float], Result],
) -> list[Measured]:
    """healthz first, each chosen scenario, healthz again last; one checked request before each."""
    plan = [("healthz (first)", "healthz"), *((n, n) for n in names), ("healthz (last)", "healthz")]
    # An unreported warm-up, so the first baseline does not also measure connection set-up and cold caches.
    healthz = SCENARIOS["healthz"]
    drive(server.base_url + healthz.path, healthz.headers_for(token), concurrency, min(1.0, duration))
    measured = []
    for label, name in plan:
        scenario = SCENARIOS[name]
        url = server.base_url + resolve_path(scenario, server, token)
        headers = scenario.headers_for(token)
        status, _ = get(url, headers)
        run = run_python if scenario.method != "GET" else drive  # wrk sends GETs only
        measured.append(Measured(label, scenario, status, run(url, headers, concurrency, duration)))
        m = measured[-1].result
        print(f"  measured {label}: {m.rps:.0f} req/s", file=sys.stderr, flush=True)
    return measured


def resolve_path(scenario: Scenario, server: Server, token: str) -> str:
    """The scenario's path; for load_more, the Done column's load-more link as the board draws it."""
    if scenario.path != LOAD_MORE:
        return scenario.path
    _, body = get(server.base_url + "/board", {"Authorization": f"Bearer {token}"})
    match = re.search(r'href="(/board/columns/done\?[^"]+)"', body.decode())
    if not match:
        raise BenchSetupError("the board has no load-more link for Done (too few tickets?)")
    return html.unescape(match.group(1))


def fmt_ms(value: float) -> str:
    """Milliseconds with two decimals, or n/a."""
    return "n/a" if math.isnan(value) else f"{value:.2f}"


def report(measured: list[Measured]) -> dict[str, float]:
    """Print one line per scenario with its ratio to the healthz baseline; return baseline and drift."""
    first, last = measured[0].result.rps, measured[-1].result.rps
    baseline = (first + last) / 2
    drift = (last - first) / first * 100 if first else math.nan
    print(f"{'scenario':<18}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'errors':>9}{'vs healthz':>12}")
    for m in measured:
        r = m.result
        ratio = f"{r.rps / baseline * 100:.1f}%" if baseline else "n/a"
        note = "" if 200 <= m.preflight_status < 300 else f"  (first request: HTTP {m.preflight_status})"
        latency = f"{fmt_ms(r.p50_ms):>10}{fmt_ms(r.p99_ms):>10}"
        print(f"{m.label:<18}{r.rps:>10.1f}{latency}{r.errors:>9}{ratio:>12}{note}")
    print()
    print(
        f"baseline: healthz mean {baseline:.1f} req/s (first {first:.1f}, last {last:.1f}); "
        f"drift last vs first {drift:+.1f}% (noise indicator)"
    )
    return {"baseline_rps": baseline, "drift_pct": drift}


def page_sizes(server: Server, token: str) -> dict[str, int]:
    """Bytes of one board page and one board fragment, fetched with urllib."""
    sizes = {}
    for name in ("board", "board_fragment"):
        scenario = SCENARIOS[name]
        _, body = get(server.base_url + scenario.path, scenario.headers_for(token))
        sizes[name] = len(body)
    print(
        f"board page: {sizes['board']} bytes ({sizes['board'] / 1024:.1f} KiB; the issue wants it under "
        f"{BOARD_TARGET_BYTES // 1024} KB)"
    )
    print(f"board fragment (HX-Request): {sizes['board_fragment']} bytes")
    return sizes


def write_json(target: str, data: dict[str, Any]) -> Path:
    """Write the results; an empty target means bench/out/bench-<UTC time>.json."""
    stamp = data["started_at"].replace(":", "")
    path = Path(target) if target else ROOT / "bench" / "out" / f"bench-{stamp}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")
    return path


def main(argv: list[str] | None = None) -> int:
    """Set up the fixture, start the server, measure, report, and always stop the server."""
    args = parse_args(argv)
    # A plain `kill` should still stop the server: turn SIGTERM into SystemExit so the finally blocks run.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    names = [n for n in dict.fromkeys(args.scenario or SCENARIOS) if n != "healthz"]
    started_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    try:
        client_name, drive = choose_client(args.client)
    except BenchSetupError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="mc-bench-") as tmp:
        db_path = Path(tmp) / "mc.db"
        print(f"bench: preparing the fixture in {tmp} ...", file=sys.stderr, flush=True)
        try:
            began = time.perf_counter()
            demo, added = prepare_database(db_path, args.tickets, args.events)
            fixture = {
                "demo": demo,
                "added": added,
                "setup_s": time.perf_counter() - began,
                "tickets": count_tickets(db_path),
                "events": count_events(db_path),
            }
            token = create_admin_token(db_path)
        except (BenchSetupError, OSError, sqlite3.Error, subprocess.SubprocessError) as exc:
            print(f"bench: setup failed: {exc}", file=sys.stderr)
            return 2
        server = Server(db_path, Path(tmp) / "server.log")
        try:
            try:
                health = server.start()
                waited = wait_for_search_index(db_path)
            except (BenchSetupError, OSError) as exc:
                print(f"bench: the server failed to start: {exc}", file=sys.stderr)
                return 2
            fixture["search_index_s"] = waited
            print(
                f"bench: the server indexed {fixture['events']:,} events for search in {waited:.1f} s", file=sys.stderr
            )
            settings = {
                "duration": args.duration,
                "concurrency": args.concurrency,
                "tickets": args.tickets,
                "client": client_name,
                "scenarios": ["healthz", *names, "healthz"],
                "base_url": server.base_url,
            }
            machine = machine_facts()
            print_header(machine, settings, fixture, health)
            measured = measure(server, token, names, args.concurrency, args.duration, drive)
            summary = report(measured)
            sizes = page_sizes(server, token)
        finally:
            server.stop()
    problems = [p for p in (m.problem() for m in measured) if p]
    for problem in problems:
        print(f"ERRORS: {problem}")
    if args.json is not None:
        data = {
            "started_at": started_at,
            "machine": machine,
            "settings": settings,
            "fixture": fixture,
            "healthz": health,
            **summary,
            "page_bytes": sizes,
            "results": [
                {
                    "label": m.label,
                    "scenario": m.scenario.name,
                    "path": m.scenario.path,
                    "preflight_status": m.preflight_status,
                    **m.result.as_dict(),
                }
                for m in measured
            ],
        }
        print(f"results written to {write_json(args.json, data)}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark the live path of a real `mc serve` on loopback: ingest, fan-out, delivery and starvation (issue 4).

Usage: python -m bench.live [--quick] [--only PART ...] [--client auto|wrk|python] [--streams N] [--subscribers N]
                            [--rounds N]

Every figure is a ratio measured in this one run, because the machine is small, shared and noisy:
  1. ingest     single-event POSTs/s vs the same server's /healthz req/s; batched events/s vs raw SQLite
                inserting the same rows in batches of 100 into an identical table (WAL, synchronous=FULL)
  2. fan-out    server RSS (VmRSS) before and after opening N idle ticket streams: bytes per stream
  3. delivery   N subscribers on one ticket stream, one event posted: time to the first and the last
  4. starvation every stream and tail slot taken and 2x as many clients knocking (503s): /board p50/p99 vs
                its unloaded p99, and how long the 503s take a client that knocks about once a second from
                another address; knockers retrying at once (a stress test) and about once a second
For information (no target): delivery while the fan-out server also holds its idle streams, and (not with
--quick) how long a hung-up stream keeps its slot. Each part runs its own `mc serve` on the same database, so
one part's leftovers (dead streams, a grown heap) do not weigh on the next; `--only ingest` (repeatable) runs
just the parts named, to check one figure quickly.
Nothing here passes or fails on speed: MET / NOT MET are printed, and the exit status is non-zero only when
something did not work (a server that would not start, a stream that did not open, wrong statuses).
"""

from __future__ import annotations

import argparse
import math
import signal
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

if __package__ in (None, ""):  # run as `python bench/live`: make the `bench` package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent))

import httpx

from bench.client import wrk_path, wrk_version
from bench.live.delivery import delivery
from bench.live.fanout import fanout
from bench.live.ingest import ingest
from bench.live.load import last_seqs
from bench.live.plan import (
    BATCH,
    HEARTBEAT_S,
    MIN_NOFILE,
    PARTS,
    STARVE_TAIL,
    STARVE_TOTAL,
    Line,
    Plan,
    T,
    Trouble,
    progress,
)
from bench.live.procfs import nofile_limit, raise_nofile
from bench.live.starvation import slot_return, starvation
from bench.live.streams import run_async
from bench.run import machine_facts
from bench.server import BenchSetupError, Server, create_admin_token, prepare_database, run_mc

try:  # the server runs on uvloop; so does the client side here when it is installed (a lighter client)
    import uvloop
except ImportError:  # pragma: no cover - uvloop ships with uvicorn[standard]
    uvloop = None  # type: ignore[assignment]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m bench.live", description="Benchmark the live path of `mc serve`.")
    parser.add_argument("--quick", action="store_true", help="shorter and smaller (under a minute)")
    parser.add_argument("--only", action="append", choices=PARTS, metavar="PART",
                        help=f"run only this part ({', '.join(PARTS)}); repeat for several (default: all)")  # fmt: skip
    parser.add_argument("--client", choices=("auto", "wrk", "python"), default="auto",
                        help="HTTP load generator: wrk if on PATH (auto), or the asyncio/httpx fallback")  # fmt: skip
    parser.add_argument("--streams", type=int, help="idle streams for the fan-out figure (default 5000)")
    parser.add_argument("--subscribers", type=int, help="subscribers for the delivery figure (default 1000)")
    parser.add_argument("--rounds", type=int, help="delivery repeats (default 10, --quick 5)")
    args = parser.parse_args(argv)
    for name in ("streams", "subscribers", "rounds"):
        if getattr(args, name) is not None and getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    return args


def make_plan(args: argparse.Namespace) -> Plan:
    """The sizes for this run."""
    quick = bool(args.quick)
    return Plan(
        quick=quick,
        parts=tuple(part for part in PARTS if part in (args.only or PARTS)),
        duration=2.0 if quick else 5.0,
        concurrency=16,
        posters=4,
        streams=args.streams or 5000,
        subscribers=args.subscribers or 1000,
        rounds=args.rounds or (5 if quick else 10),
        board_s=2.0 if quick else 5.0,
    )


def start(server: Server) -> None:
    """Start a server, turning failure into Trouble."""
    try:
        server.start()
    except (BenchSetupError, OSError) as exc:
        raise Trouble(f"the server failed to start: {exc}") from None


def with_server(db: Path, tmp: Path, name: str, env: dict[str, str], work: Callable[[Server], T]) -> T:
    """Start a server with `env`, run `work`, always stop the server."""
    server = Server(db, tmp / f"server-{name}.log", env)
    try:
        start(server)
        return work(server)
    finally:
        server.stop()


def print_report(lines: list[Line]) -> None:
    """One row per figure, notes indented under it."""
    width = max(len(line.figure) for line in lines) + 2
    print(f"{'figure':<{width}}{'measured':>16}  {'compared with':<28}{'ratio':>9}  {'target':<9}verdict")
    for line in lines:
        ratio = "n/a" if math.isnan(line.ratio) or math.isinf(line.ratio) else f"{line.ratio * 100:.1f}%"
        if line.target.startswith("<") and "x" in line.target and not math.isnan(line.ratio):
            ratio = f"{line.ratio:.2f}x"
        print(f"{line.figure:<{width}}{line.measured:>16}  {line.against:<28}{ratio:>9}  {line.target:<9}"
              f"{line.verdict()}")  # fmt: skip
        for note in line.notes:
            print(f"{'':<{width}}  - {note}")


def main(argv: list[str] | None = None) -> int:
    """Fixture, three servers (ingest; fan-out + delivery; starvation), report; always clean up."""
    args = parse_args(argv)
    plan = make_plan(args)
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    use_wrk = args.client == "wrk" or (args.client == "auto" and wrk_path() is not None)
    if args.client == "wrk" and wrk_path() is None:
        print("bench: --client wrk, but wrk is not on PATH", file=sys.stderr)
        return 2
    wanted = plan.streams + plan.subscribers + 1000
    nofile = raise_nofile(max(MIN_NOFILE, wanted))
    started_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    fanout_total = max(6000, plan.streams + plan.subscribers + 200)
    fanout_env = {
        "MC_SSE_MAX_TOTAL_CLIENTS": str(fanout_total),
        "MC_SSE_MAX_TAIL_CLIENTS": "200",
        # Connections above the stream caps together, or `mc serve` refuses to start (pages must get in).
        "MC_MAX_CONNECTIONS": str(fanout_total + 200 + 256),
    }
    delivery_env = {"MC_SSE_MAX_TOTAL_CLIENTS": str(max(2000, plan.subscribers + 100))}
    starve_env = {
        "MC_SSE_MAX_TOTAL_CLIENTS": str(STARVE_TOTAL),
        "MC_SSE_MAX_TAIL_CLIENTS": str(STARVE_TAIL),
        "MC_SSE_HEARTBEAT_S": str(HEARTBEAT_S),
    }
    lines: list[Line] = []
    with tempfile.TemporaryDirectory(prefix="mc-bench-live-") as tmp_name:
        tmp = Path(tmp_name)
        db = tmp / "mc.db"
        try:
            progress(f"preparing the fixture in {tmp}")
            demo, _ = prepare_database(db, 0)
            admin = create_admin_token(db)
            worker = run_mc("token", "create", "--scope", "worker", "--name", "bench-worker", "--db", str(db))
            worker = worker.strip().splitlines()[-1].strip()
            seqs = last_seqs(db)
            machine = machine_facts()
            print(f"== Mission Control live-path benchmark ({'quick' if plan.quick else 'full'}) {started_at} ==")
            print(f"machine:  nproc {machine['nproc']} (usable {machine['usable_cpus']}), {machine['cpu']}")
            print(f"          load average {machine['loadavg']}, {machine['platform']}")
            print(f"python:   {machine['python']}; sqlite {machine['sqlite']}")
            loop_name = f"uvloop {uvloop.__version__}" if uvloop is not None else "asyncio"
            client = wrk_version() if use_wrk else f"python asyncio + httpx {httpx.__version__}"
            print(f"clients:  HTTP load {client}; streams: raw sockets on {loop_name}")
            print(f"fixture:  {demo}; tokens: worker (POSTs), admin (pages, streams)")
            print(f"limits:   RLIMIT_NOFILE here {nofile[0]} (hard {nofile[1]}), inherited by the servers")
            print(f"plan:     {plan.duration:g} s per throughput measurement; single POSTs c={plan.concurrency};"
                  f" batched c={plan.posters} x {BATCH} events; fan-out {plan.streams:,} streams;"
                  f" delivery {plan.subscribers:,} subscribers x {plan.rounds} rounds;"
                  f" /board {plan.board_s:g} s per probe on 1 connection; parts: {', '.join(plan.parts)}")  # fmt: skip
            print("servers:  one `mc serve` per part, on the same database, every other MC_* setting default:")
            print(f"          ingest {{}}; fan-out {fanout_env}; delivery {delivery_env}; starvation {starve_env}")

            def ingest_work(server: Server) -> list[Line]:
                print(f"          ingest server pid {server.pid}, Max open files {nofile_limit(server.pid or 0)}")
                return ingest(server, worker, plan, use_wrk, tmp, db)

            def fanout_work(server: Server) -> None:
                soft, hard = nofile_limit(server.pid or 0)
                print(f"          fan-out server pid {server.pid}, Max open files {soft} (hard {hard})")
                if soft.isdigit() and int(soft) < plan.streams + 100:
                    print(f"          WARNING: the server's open-file limit {soft} is below {plan.streams:,} streams")
                run_async(fanout(server, admin, plan, seqs, lines))

            def delivery_work(server: Server) -> None:
                print(f"          delivery server pid {server.pid}")
                run_async(delivery(server, admin, plan, seqs, lines))

            def starve_work(server: Server) -> None:
                print(f"          starvation server pid {server.pid}")
                run_async(starvation(server, admin, plan, use_wrk, seqs, lines))
                if not plan.quick:
                    run_async(slot_return(server, admin, HEARTBEAT_S, lines))

            sys.stdout.flush()
            if "ingest" in plan.parts:
                lines += with_server(db, tmp, "ingest", {}, ingest_work)
                seqs = last_seqs(db)
            if "fanout" in plan.parts:
                with_server(db, tmp, "fanout", fanout_env, fanout_work)
                seqs = last_seqs(db)
            if "delivery" in plan.parts:
                with_server(db, tmp, "delivery", delivery_env, delivery_work)
                seqs = last_seqs(db)
            if "starvation" in plan.parts:
                with_server(db, tmp, "starve", starve_env, starve_work)
        except (Trouble, BenchSetupError, OSError, sqlite3.Error, subprocess.SubprocessError) as exc:
            print(f"bench: {exc}", file=sys.stderr)
            if lines:
                print()
                print_report(lines)
            return 2
    print()
    print_report(lines)
    met = [line for line in lines if line.met is not None]
    print()
    print(f"{sum(bool(line.met) for line in met)} of {len(met)} figures MET (speed is never a failure here).")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Soak: faults and load against a real `mc serve` on loopback; one table, scenario | figure | verdict.

Usage: python bench/soak.py [--quick] [--only NAME ...] [--keep]

Faults: kill9_ingest, sigterm_inflight, lock_held, disk_full, wal_bounded, reaper_twice_and_killed.
Load:   slots_full_pages, disconnects, writers, markdown_stall.
Every scenario starts its own `mc serve` (free loopback port, fresh copy of one demo database, its own folder),
stops it and cleans up. Each pass condition is checked from data (responses, the database, /proc, ss, logs);
relative thresholds compare with a baseline measured in the same run. Details go to stderr as the run goes.
Exit status: 0 when nothing FAILed (SKIP is not a failure), 1 otherwise, 2 when the fixture could not be made.
"""

from __future__ import annotations

import argparse
import resource
import signal
import sys
import tempfile
import textwrap
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

if __package__ in (None, ""):  # run as `python bench/soak.py`: make the `bench` package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import soak_faults, soak_load
from bench.soak_common import FAIL, SKIP, Context, Fixture, Outcome, cleanup_processes, note

SCENARIOS: dict[str, Callable[[Context], Outcome]] = {
    "kill9_ingest": soak_faults.kill9_ingest,
    "sigterm_inflight": soak_faults.sigterm_inflight,
    "lock_held": soak_faults.lock_held,
    "disk_full": soak_faults.disk_full,
    "wal_bounded": soak_faults.wal_bounded,
    "reaper_twice_and_killed": soak_faults.reaper_twice_and_killed,
    "slots_full_pages": soak_load.slots_full_pages,
    "disconnects": soak_load.disconnects,
    "writers": soak_load.writers,
    "markdown_stall": soak_load.markdown_stall,
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="bench/soak.py", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter runs (about 3-4 minutes in all)")
    parser.add_argument(
        "--only",
        action="append",
        choices=list(SCENARIOS),
        metavar="NAME",
        help="run only this scenario; repeat for several (default: all)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (databases, server logs)")
    return parser.parse_args(argv)


def print_table(rows: list[Outcome]) -> None:
    """One table: scenario | figure | verdict; long figures wrap inside their column."""
    name_w = max(len("scenario"), *(len(r.scenario) for r in rows))
    fig_w = 150
    rule = f"+-{'-' * name_w}-+-{'-' * fig_w}-+-{'-' * 6}-+"
    print(rule)
    print(f"| {'scenario':<{name_w}} | {'figure':<{fig_w}} | {'result':<6} |")
    print(rule)
    for row in rows:
        lines = textwrap.wrap(f"{row.figure} [{row.seconds:.0f} s]", fig_w) or [""]
        for n, line in enumerate(lines):
            first = n == 0
            print(
                f"| {row.scenario if first else '':<{name_w}} | {line:<{fig_w}} | {row.verdict if first else '':<6} |"
            )
    print(rule)


def main(argv: list[str] | None = None) -> int:
    """Make the fixture, run the scenarios in order, print the table; never leave a process behind."""
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < 16_384:  # 500+ streams here; inherited by the servers
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(16_384, hard), hard))
    names = [n for n in SCENARIOS if n in (args.only or SCENARIOS)]
    started = time.monotonic()
    rows: list[Outcome] = []
    tmp = Path(tempfile.mkdtemp(prefix="mc-soak-"))
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    print(f"== Mission Control soak ({'quick' if args.quick else 'full'}) {stamp}: {', '.join(names)} ==", flush=True)
    try:
        note(f"fixture: a demo database and tokens in {tmp}")
        try:
            fixture = Fixture(tmp)
        except Exception as exc:
            print(f"soak: the fixture could not be made: {exc}", file=sys.stderr)
            return 2
        note(fixture.summary)
        for name in names:
            note(f"--- {name} ---")
            began = time.monotonic()
            try:
                outcome = SCENARIOS[name](Context(fixture, tmp / name, args.quick))
            except Exception as exc:  # a scenario that cannot finish is a failure, with its reason
                traceback.print_exc(file=sys.stderr)
                outcome = Outcome(name, f"FAILED: the scenario broke: {type(exc).__name__}: {exc}", FAIL)
            finally:
                stray = cleanup_processes()
                if stray:
                    note(f"{name}: killed {len(stray)} process(es) left running: {stray}")
            outcome.seconds = time.monotonic() - began
            note(f"{name}: {outcome.verdict} ({outcome.seconds:.0f} s): {outcome.figure}")
            rows.append(outcome)
    finally:
        cleanup_processes()
        soak_faults.unmount_all()
        if args.keep:
            note(f"kept {tmp}")
        else:
            import shutil

            shutil.rmtree(tmp, ignore_errors=True)
    print()
    print_table(rows)
    failed = [r.scenario for r in rows if r.verdict == FAIL]
    skipped = [r.scenario for r in rows if r.verdict == SKIP]
    print(
        f"{len(rows) - len(failed) - len(skipped)} passed, {len(failed)} failed, {len(skipped)} skipped"
        f" in {time.monotonic() - started:.0f} s{': FAIL ' + ', '.join(failed) if failed else ''}"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

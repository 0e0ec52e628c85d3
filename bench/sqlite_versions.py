"""Python's own SQLite against the bundled fixed one (pysqlite3), in one run, as ratios.

    .venv/bin/python bench/sqlite_versions.py [--rows 100000]

Each library works on its own file (WAL, synchronous=FULL, as app/db.py sets them): rows inserted in one
transaction, batches of 100 rows each committed (the event writer's shape), point reads by primary key, and a
JSON extraction over every row. Rounds alternate between the two; best of each; a ratio above 1 means the
bundled one is slower.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any


def scenarios(module: ModuleType, folder: Path, rows: int) -> dict[str, Callable[[], None]]:
    """The timed pieces of work for one SQLite library, on a file of its own."""
    path = folder / f"{module.__name__.replace('.', '_')}.db"
    conn: Any = module.connect(str(path), isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, ticket INTEGER, payload TEXT)")
    payload = json.dumps({"type": "assistant", "message": {"content": [{"type": "text", "text": "x" * 200}]}})

    def one_transaction() -> None:
        conn.execute("DELETE FROM events")
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany("INSERT INTO events (ticket, payload) VALUES (?, ?)", ((i % 50, payload) for i in range(rows)))
        conn.execute("COMMIT")

    def batches() -> None:
        for start in range(0, rows // 10, 100):
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany("INSERT INTO events (ticket, payload) VALUES (?, ?)", ((start, payload),) * 100)
            conn.execute("COMMIT")

    def point_reads() -> None:
        for i in range(1, rows // 10 + 1):
            conn.execute("SELECT payload FROM events WHERE id = ?", (i,)).fetchone()

    def json_scan() -> None:
        conn.execute("SELECT count(*) FROM events WHERE json_extract(payload, '$.type') = 'assistant'").fetchone()

    return {
        "insert in one transaction": one_transaction,
        "commits of 100 rows (fsync each)": batches,
        "point reads": point_reads,
        "json_extract over every row": json_scan,
    }


def timed(work: Callable[[], None]) -> float:
    """Seconds `work` took."""
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def main() -> None:
    """Run both libraries and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    try:
        from pysqlite3 import dbapi2 as bundled
    except ImportError:
        raise SystemExit("pysqlite3 is not installed: pip install --only-binary=pysqlite3 pysqlite3") from None
    with tempfile.TemporaryDirectory() as tmp:
        system, fixed = scenarios(sqlite3, Path(tmp), args.rows), scenarios(bundled, Path(tmp), args.rows)
        best: dict[str, list[float]] = {}
        for name in system:
            # Rounds alternate between the two, so a busy moment of this shared machine hits both alike.
            rounds = [(timed(system[name]), timed(fixed[name])) for _ in range(args.rounds)]
            best[name] = [min(r[0] for r in rounds), min(r[1] for r in rounds)]
    print(f"Python's sqlite3: SQLite {sqlite3.sqlite_version}; pysqlite3: SQLite {bundled.sqlite_version}")
    print(f"{'scenario (best of ' + str(args.rounds) + ')':<36} {'system':>10} {'bundled':>10} {'ratio':>7}")
    for name, (a, b) in best.items():
        print(f"{name:<36} {a * 1000:>8.1f}ms {b * 1000:>8.1f}ms {b / a:>7.2f}")


if __name__ == "__main__":
    main()

"""Which SQLite this process uses, and whether it has the WAL-reset corruption bug.

SQLite 3.7.0 through 3.51.2 can corrupt a WAL database when two connections write or checkpoint at the same
moment (fixed in 3.51.3, and in the 3.44.6 and 3.50.7 backports). Mission Control never lets two of its
connections write or checkpoint at once (app/db.py holds a file lock around both), which closes the race
for its own processes; any other program writing the same file does not take that lock.

The Python here links SQLite 3.40.1. The `pysqlite3` wheel (installed by `make install`, or
`pip install 'mission-control[sqlite]'`) bundles a fixed SQLite (3.53.4) behind the same DB-API as the
standard library's `sqlite3`: when it is installed, every connection uses it (aiosqlite drives it through its
connector). MC_SQLITE=system keeps Python's own.
"""

from __future__ import annotations

import os
import sqlite3
from types import ModuleType

# Versions from which a release line carries the fix: the line's own backport, else 3.51.3.
_FIXED_IN = {(3, 44): (3, 44, 6), (3, 50): (3, 50, 7)}
_FIRST_AFFECTED = (3, 7, 0)
_FIRST_FIXED = (3, 51, 3)


def parse_version(text: str) -> tuple[int, ...]:
    """'3.40.1' -> (3, 40, 1)."""
    return tuple(int(part) for part in text.split(".")[:3] if part.isdigit())


def has_wal_reset_bug(version: str) -> bool:
    """Whether SQLite `version` is inside the WAL-reset bug's range."""
    parsed = parse_version(version)
    if parsed < _FIRST_AFFECTED or parsed >= _FIRST_FIXED:
        return False
    backport = _FIXED_IN.get((parsed[0], parsed[1]))
    return backport is None or parsed < backport


def load_driver(choice: str | None = None) -> ModuleType:
    """The DB-API module connections are made with: the bundled fixed SQLite when it is installed and not
    turned off (MC_SQLITE=system), else Python's own sqlite3."""
    choice = choice if choice is not None else os.environ.get("MC_SQLITE", "auto")
    if choice not in ("auto", "bundled", "system"):
        raise ValueError(f"MC_SQLITE is auto, bundled or system, not {choice!r}")
    if choice == "system":
        return sqlite3
    try:
        from pysqlite3 import dbapi2
    except ImportError:
        if choice == "bundled":
            raise ValueError("MC_SQLITE=bundled, but pysqlite3 is not installed: pip install pysqlite3") from None
        return sqlite3
    return dbapi2


# Read once per process: every connection, error class and row type comes from this module.
driver: ModuleType = load_driver()


def linked_version() -> str:
    """The SQLite library this process's connections use."""
    return str(driver.sqlite_version)


def library_name() -> str:
    """Where that SQLite comes from, for /healthz and the Overview."""
    return "Python's sqlite3" if driver is sqlite3 else "bundled pysqlite3"


def sqlite_warnings() -> list[str]:
    """What `mc serve` says at start about the SQLite it links (empty when nothing is wrong)."""
    version = linked_version()
    if not has_wal_reset_bug(version):
        return []
    return [
        f"this Python links SQLite {version}, which has the WAL-reset corruption bug (3.7.0-3.51.2; fixed in "
        "3.51.3, 3.50.7 and 3.44.6). Mission Control serialises its own writes and checkpoints, but do not let "
        "other programs write this database while it runs; see README, 'SQLite versions'."
    ]

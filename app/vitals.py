"""The Overview's health strip: each vital sign as a person reads it, and whether it is wrong. Quiet while all is
well (the strip turns red only for a sign that is wrong, and says why)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import msgspec

from app import sqlite
from app.live import Bucket
from app.reaper import ProcessLock
from app.run_view import seconds_between
from app.store.overview import LastTaskRun, QueueWaiting
from app.templates import duration

# Past these a sign is wrong.
WAL_TOO_BIG = 256 * 1024 * 1024  # the housekeeper truncates it every minute: this size means it cannot
CHECKPOINT_LATE_S = 300.0  # five housekeeping rounds missed
DISK_LOW_BYTES = 1024**3
DISK_LOW_SHARE = 0.05
QUEUE_WAIT_LONG_S = 900.0  # a message nobody has taken for a quarter of an hour


class Vital(msgspec.Struct, frozen=True):
    """One sign: its name, its value, a detail, and whether it is wrong (then `detail` says what to do)."""

    name: str
    value: str
    detail: str = ""
    wrong: bool = False
    at: str = ""  # a time the value refers to (shown as "5 min ago"), if any
    href: str = ""  # where it is looked into


def byte_size(n: float) -> str:
    """Bytes as a person reads them: "812 KB", "1.3 GB"."""
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit in ("bytes", "KB") else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TB"  # pragma: no cover - the loop returns at GB


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def database_vitals(path: Path, last_checkpoint: str, now: str, started: str) -> list[Vital]:
    """Database and WAL size, the last checkpoint, the disk's free space."""
    wal = _size(Path(f"{path}-wal"))
    big = wal > WAL_TOO_BIG
    detail = f"WAL {byte_size(wal)}" + (
        ": checkpoints are not keeping up (a long read holds them back?)" if big else ""
    )
    signs = [Vital("Database", byte_size(_size(path)), detail, wrong=big)]
    since = seconds_between(last_checkpoint or started, now) or 0.0
    late = since > CHECKPOINT_LATE_S
    signs.append(
        Vital(
            "Last checkpoint",
            "" if last_checkpoint else "not yet",
            "housekeeping has not run for a while: see the server's log" if late else "every minute",
            wrong=late,
            at=last_checkpoint,
        )
    )
    try:
        disk = shutil.disk_usage(path.parent)
    except OSError:
        signs.append(Vital("Disk free", "unknown", "the database's folder cannot be read", wrong=True))
    else:
        low = disk.free < DISK_LOW_BYTES or disk.free < disk.total * DISK_LOW_SHARE
        detail = f"of {byte_size(disk.total)}" + (": writes fail when it runs out" if low else "")
        signs.append(Vital("Disk free", byte_size(disk.free), detail, wrong=low))
    return signs


def sqlite_vital(version: str) -> Vital:
    """The SQLite in use, wrong when it has the WAL-reset bug."""
    bad = sqlite.has_wal_reset_bug(version)
    fix = ": has the WAL-reset bug, install pysqlite3 (README, SQLite versions)"
    detail = sqlite.library_name() + (fix if bad else "")
    return Vital("SQLite", version, detail, wrong=bad)


def process_vitals(db_path: Path, tasks_file: str, reaper_every_s: float, up_s: float) -> list[Vital]:
    """This server process, and whether a reaper and a scheduler run (each in one process, by its lock). `up_s`: how
    long this process has run (a reaper takes its lock at its first pass, one interval after the start)."""
    signs = [Vital("Process", f"pid {os.getpid()}", f"up {duration(up_s)}")]
    roles = [("Reaper", "reaper", reaper_every_s, "leases that run out are not taken back", "")]
    if tasks_file:
        roles.append(("Scheduler", "scheduler", 5.0, "tasks will not run: start mc serve or mc scheduler", "/tasks"))
    for name, role, first_after_s, harm, href in roles:
        if ProcessLock(db_path, role).taken_elsewhere():
            signs.append(Vital(name, "running", href=href))
        elif up_s < 2 * first_after_s + 5:
            signs.append(Vital(name, "starting", href=href))
        else:
            signs.append(Vital(name, "not running", harm, wrong=True, href=href))
    return signs


def stream_vital(buckets: dict[str, Bucket]) -> Vital:
    """Open live streams per bucket against their caps, wrong when one is full (new pages go without live news)."""
    full = [b.name for b in buckets.values() if b.open >= b.cap]
    value = " · ".join(f"{b.name} {b.open}/{b.cap}" for b in buckets.values())
    detail = f"{', '.join(full)} full: new viewers are turned away" if full else ""
    return Vital("Live streams", value, detail, wrong=bool(full))


def queue_vital(waiting: QueueWaiting, now: str) -> Vital:
    """Messages waiting for workers and how long the oldest has, wrong past QUEUE_WAIT_LONG_S."""
    age = seconds_between(waiting.oldest, now) if waiting.oldest else None
    long = age is not None and age > QUEUE_WAIT_LONG_S
    detail = f"oldest waiting {duration(age)}" if age is not None else "nothing waiting"
    if long:
        detail += ": no worker is taking messages"
    return Vital("Queue", f"{waiting.depth:,} waiting", detail, wrong=long)


def task_vital(last: LastTaskRun | None) -> Vital:
    """The newest task run."""
    if last is None:
        return Vital("Last task run", "none yet", href="/tasks")
    failed = last.status == "error"
    detail = "failed" if failed else last.status
    return Vital("Last task run", last.task_name, detail, wrong=failed, at=last.started_at, href="/tasks")

"""The Overview's health strip: each sign reads as a person would say it, and is wrong only when something is."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from app.clock import stamp, stamp_ago
from app.live import Bucket
from app.reaper import ProcessLock
from app.store.overview import LastTaskRun, QueueWaiting
from app.vitals import byte_size, database_vitals, process_vitals, queue_vital, stream_vital, task_vital


def test_sizes_read_as_a_person_says_them() -> None:
    assert [byte_size(n) for n in (512, 2048, 5 * 1024**2, 3 * 1024**3)] == ["512 bytes", "2 KB", "5.0 MB", "3.0 GB"]


def test_a_wal_that_is_not_copied_back_is_wrong(tmp_path: Path) -> None:
    db = tmp_path / "mc.db"
    db.write_bytes(b"x" * 4096)
    now = stamp()
    database, checkpoint, disk = database_vitals(db, now, now, now)
    assert (database.value, database.wrong, checkpoint.wrong, disk.name) == ("4 KB", False, False, "Disk free")
    with open(f"{db}-wal", "wb") as wal:
        wal.truncate(300 * 1024**2)  # sparse: no disk is used
    database = database_vitals(db, now, now, now)[0]
    assert database.wrong and "checkpoints are not keeping up" in database.detail


def test_no_checkpoint_for_long_is_wrong(tmp_path: Path) -> None:
    db = tmp_path / "mc.db"
    db.write_bytes(b"")
    long_ago = stamp_ago(timedelta(minutes=30))
    assert database_vitals(db, "", stamp(), stamp())[1].wrong is False, "a process just started: not yet"
    late = database_vitals(db, long_ago, stamp(), long_ago)[1]
    assert late.wrong and late.at == long_ago


def test_a_queue_nobody_takes_from_is_wrong() -> None:
    fresh = queue_vital(QueueWaiting(3, stamp_ago(timedelta(minutes=2))), stamp())
    assert (fresh.value, fresh.wrong) == ("3 waiting", False) and "2 min" in fresh.detail
    stuck = queue_vital(QueueWaiting(40, stamp_ago(timedelta(hours=2))), stamp())
    assert stuck.wrong and "no worker is taking messages" in stuck.detail
    assert queue_vital(QueueWaiting(0, None), stamp()).detail == "nothing waiting"


def test_a_full_stream_bucket_is_wrong() -> None:
    streams, tails = Bucket("streams", 2), Bucket("tails", 1)
    assert stream_vital({"streams": streams, "tails": tails}).value == "streams 0/2 · tails 0/1"
    tails.acquire()
    full = stream_vital({"streams": streams, "tails": tails})
    assert full.wrong and full.detail.startswith("tails full")


def test_a_reaper_nobody_runs_is_wrong_once_it_should_have_started(tmp_path: Path) -> None:
    db = tmp_path / "mc.db"
    starting = {v.name: v for v in process_vitals(db, "", 30, up_s=10)}
    assert starting["Reaper"].value == "starting" and not starting["Reaper"].wrong
    assert "Scheduler" not in starting, "no tasks file: no scheduler to miss"
    missing = {v.name: v for v in process_vitals(db, "tasks.toml", 30, up_s=600)}
    assert missing["Reaper"].wrong and missing["Scheduler"].wrong
    holder = ProcessLock(db, "reaper")
    assert holder.acquire()
    try:
        assert {v.name: v for v in process_vitals(db, "", 30, up_s=600)}["Reaper"].value == "running"
    finally:
        holder.release()


def test_a_failed_task_run_is_wrong() -> None:
    assert task_vital(None).value == "none yet"
    assert not task_vital(LastTaskRun("backup", stamp(), "ok")).wrong
    assert task_vital(LastTaskRun("backup", stamp(), "error")).wrong

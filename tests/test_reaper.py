"""The reaper: run-out leases, stuck messages, retries, dead letters, one alert each, and one reaper at a time."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app import clock
from app.db import Database
from app.notify import LogNotifier, TelegramNotifier, notifier_for
from app.reaper import ProcessLock, Reaper, ReaperBusy, reap_once, run_standalone
from app.settings import Settings, load_settings
from app.sqlite import driver as sqlite3
from app.store import queue
from tests.fakes.telegram import FakeTelegram
from tests.server import free_port, start_server

T0 = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


@pytest.fixture
def telegram() -> Iterator[FakeTelegram]:
    """A fake Bot API on loopback."""
    with FakeTelegram() as fake:
        yield fake


def settings_for(fake: FakeTelegram | None = None, **fields: object) -> Settings:
    """Settings whose alerts go to `fake` (or to the log)."""
    if fake is not None:
        fields |= {"telegram_api_base": fake.base_url, "telegram_bot_token": fake.token, "telegram_chat_id": "42"}
    return load_settings({}, **fields)


async def state(db: Database, message_id: int) -> queue.QueueItem:
    """A message as stored."""
    item = await queue.get_message(db, message_id)
    assert item is not None
    return item


async def test_a_run_out_lease_goes_back_to_the_queue_and_counts_as_an_attempt(db: Database) -> None:
    message_id = await queue.enqueue(db, None, None, "work", T0)
    await queue.claim(db, "worker-1", 60, T0)
    report = await reap_once(db, settings_for(), LogNotifier(), T0 + timedelta(seconds=59))
    assert report.requeued == 0 and (await state(db, message_id)).status == "leased"
    report = await reap_once(db, settings_for(), LogNotifier(), T0 + timedelta(seconds=60))
    item = await state(db, message_id)
    assert report.requeued == 1 and (item.status, item.attempts, item.lease_owner) == ("queued", 1, None)
    assert item.last_error == "the lease of worker-1 ran out at 2026-09-01T12:01:00.000Z"
    assert await queue.claim(db, "worker-2", 60, T0 + 2 * MINUTE) is not None


async def test_a_lease_that_runs_out_at_the_last_attempt_is_dead(db: Database) -> None:
    message_id = await queue.enqueue(db, None, None, "work", T0)
    now = T0
    for _ in range(3):
        assert await queue.claim(db, "worker-1", 60, now) is not None
        now += 2 * MINUTE
        await reap_once(db, settings_for(queue_max_attempts=3), LogNotifier(), now)
    item = await state(db, message_id)
    assert (item.status, item.attempts) == ("dead", 3)


async def test_a_message_nobody_claims_expires_after_the_stuck_threshold(db: Database) -> None:
    stale = await queue.enqueue(db, None, "worker-gone", "work", T0)
    fresh = await queue.enqueue(db, None, "worker-gone", "work", T0 + 2 * MINUTE)
    held = await queue.enqueue(db, None, None, "work", T0)
    await queue.claim(db, "worker-slow", 3600, T0)  # a long lease is still cut off by the threshold
    report = await reap_once(db, settings_for(), LogNotifier(), T0 + 30 * MINUTE)
    assert report.expired == 0
    report = await reap_once(db, settings_for(), LogNotifier(), T0 + 30 * MINUTE + timedelta(milliseconds=1))
    assert report.expired == 2
    assert (await state(db, stale)).status == "expired" and (await state(db, fresh)).status == "queued"
    item = await state(db, held)
    assert item.status == "expired"
    assert item.last_error == "held by worker-slow since 2026-09-01T12:00:00.000Z without an answer"


async def test_a_failed_message_is_retried_when_due_and_dead_lettered_at_the_limit(db: Database) -> None:
    message_id = await queue.enqueue(db, None, None, "work", T0)
    await queue.claim(db, "worker-1", 60, T0)
    await queue.fail(db, message_id, "worker-1", "boom", 5, T0)
    report = await reap_once(db, settings_for(), LogNotifier(), T0 + timedelta(seconds=30))
    assert report.retried == 1 and (await state(db, message_id)).status == "queued"
    await queue.claim(db, "worker-1", 60, T0 + MINUTE)
    await queue.fail(db, message_id, "worker-1", "boom", 5, T0 + MINUTE)
    # The limit was lowered meanwhile: a due retry past it is dead-lettered rather than offered again.
    report = await reap_once(db, settings_for(queue_max_attempts=2), LogNotifier(), T0 + 3 * MINUTE)
    assert (report.retried, report.dead) == (0, 1) and (await state(db, message_id)).status == "dead"


async def make_dead_and_expired(db: Database, when: datetime = T0) -> list[int]:
    """One message failed to death and one nobody claims (stuck 30 minutes after `when`): both due an alert."""
    dead = await queue.enqueue(db, None, "worker-1", "deploy the board", when)
    await queue.claim(db, "worker-1", 60, when)
    await queue.fail(db, dead, "worker-1", "exit code 2", 1, when)
    return [dead, await queue.enqueue(db, None, None, "nobody came", when)]


async def test_each_dead_or_expired_message_is_alerted_once_however_often_the_reaper_runs(
    db: Database, telegram: FakeTelegram
) -> None:
    dead, stuck = await make_dead_and_expired(db)
    settings = settings_for(telegram)
    notifier = notifier_for(settings)
    first = await reap_once(db, settings, notifier, T0 + 31 * MINUTE)
    again = await reap_once(db, settings, notifier, T0 + 32 * MINUTE)
    assert (first.alerted, again.alerted) == (2, 0)
    assert [m["chat_id"] for m in telegram.sent] == ["42", "42"]
    dead_text, stuck_text = telegram.texts()
    assert f"#{dead} (for worker-1) is dead after 1 attempt." in dead_text and "exit code 2" in dead_text
    assert f"#{stuck} (for any worker) expired" in stuck_text and "nobody came" in stuck_text
    assert (await state(db, dead)).alerted_at == clock.stamp(T0 + 31 * MINUTE)


async def test_two_reapers_racing_send_one_alert_per_message(db: Database, telegram: FakeTelegram) -> None:
    await make_dead_and_expired(db)
    settings = settings_for(telegram)
    reports = await asyncio.gather(
        *(reap_once(db, settings, notifier_for(settings), T0 + 31 * MINUTE) for _ in range(4))
    )
    assert sum(r.alerted for r in reports) == 2 and len(telegram.sent) == 2


async def test_an_alert_telegram_refuses_is_sent_by_the_next_pass(db: Database, telegram: FakeTelegram) -> None:
    dead, _ = await make_dead_and_expired(db)
    settings = settings_for(telegram)
    telegram.failing = True
    report = await reap_once(db, settings, notifier_for(settings), T0 + 31 * MINUTE)
    assert (report.alerted, report.not_sent, telegram.refused) == (0, 2, 2)
    assert (await state(db, dead)).alerted_at is None
    telegram.failing = False
    report = await reap_once(db, settings, notifier_for(settings), T0 + 32 * MINUTE)
    assert (report.alerted, report.not_sent, len(telegram.sent)) == (2, 0, 2)


async def test_an_unreachable_telegram_is_not_sent_and_does_not_crash(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    await make_dead_and_expired(db)
    settings = settings_for(
        telegram_api_base=f"http://127.0.0.1:{free_port()}", telegram_bot_token="9:secret", telegram_chat_id="1"
    )
    report = await reap_once(db, settings, notifier_for(settings), T0 + 31 * MINUTE)
    assert (report.alerted, report.not_sent) == (0, 2)
    assert "ConnectError" in caplog.text and "secret" not in caplog.text


async def test_alerts_go_to_the_log_without_a_telegram_bot(db: Database, caplog: pytest.LogCaptureFixture) -> None:
    assert isinstance(notifier_for(settings_for(telegram_bot_token="1:x")), LogNotifier)  # no chat id
    assert isinstance(notifier_for(settings_for(telegram_bot_token="1:x", telegram_chat_id="2")), TelegramNotifier)
    dead, _ = await make_dead_and_expired(db)
    with caplog.at_level(logging.WARNING, logger="mc.notify"):
        report = await reap_once(db, settings_for(), notifier_for(settings_for()), T0 + 31 * MINUTE)
    assert report.alerted == 2 and f"ALERT Mission Control: queued message #{dead}" in caplog.text


# --- one reaper at a time ---------------------------------------------------------------------------------------


async def until(condition: Callable[[], bool], timeout: float = 10) -> None:
    """Wait until `condition` holds (polling), or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.01)


async def test_of_two_server_reapers_only_the_lock_holder_reaps_and_the_other_takes_over(db: Database) -> None:
    settings = settings_for(reaper_interval_s=0.02)
    first, second = Reaper(db, settings, LogNotifier()), Reaper(db, settings, LogNotifier())
    await first.start()
    await until(lambda: first.passes > 0)  # the first takes the lock at its first pass
    await second.start()
    await until(lambda: first.passes > 10)
    assert second.passes == 0 and first.lock.held and not second.lock.held
    await first.stop()  # as if its process ended: the lock is free again
    await until(lambda: second.passes > 0)
    assert second.lock.held
    await second.stop()
    assert not second.lock.held


async def test_a_standalone_reaper_refuses_while_another_holds_the_lock(db: Database) -> None:
    holder = ProcessLock(db.path)
    assert holder.acquire()
    try:
        with pytest.raises(ReaperBusy, match=r"another reaper is running on .*mc\.db\.reaper\.lock"):
            await run_standalone(db, settings_for(), True, print)
    finally:
        holder.release()
    said: list[str] = []
    await run_standalone(db, settings_for(), True, said.append)
    assert said[0].startswith(f"Reaped {db.path}: 0 leases returned")


# --- the command and the server -------------------------------------------------------------------------------


def seed(path: Path) -> list[int]:
    """A migrated database file with a dead and a stuck message (both due an alert now)."""

    async def fill() -> list[int]:
        database = Database(path, readers=1)
        await database.open()
        try:
            old = datetime.now(UTC) - timedelta(hours=2)
            return await make_dead_and_expired(database, old)
        finally:
            await database.close()

    return asyncio.run(fill())


def reaper_env(fake: FakeTelegram, **extra: str) -> dict[str, str]:
    """The environment for `mc reaper` alerting to `fake`."""
    settings = {"MC_TELEGRAM_API_BASE": fake.base_url, "MC_TELEGRAM_BOT_TOKEN": fake.token, "MC_TELEGRAM_CHAT_ID": "7"}
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("MC_")}  # only the settings given here
    return {**inherited, **settings, **extra}


def run_mc(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run `mc` in a new process."""
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args], capture_output=True, text=True, env=env, timeout=30, check=False
    )


def test_mc_reaper_once_reaps_a_real_database_file(tmp_path: Path, telegram: FakeTelegram) -> None:
    path = tmp_path / "mc.db"
    dead, stuck = seed(path)
    done = run_mc("reaper", "--once", "--db", str(path), env=reaper_env(telegram))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("1 expired, 0 dead; 2 alerts sent, 0 not sent (alerts to Telegram).")
    assert len(telegram.sent) == 2
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT id, status, alerted_at IS NOT NULL FROM queued_messages ORDER BY id").fetchall()
    assert rows == [(dead, "dead", 1), (stuck, "expired", 1)]
    assert run_mc("reaper", "--once", "--db", str(path), env=reaper_env(telegram)).returncode == 0
    assert len(telegram.sent) == 2


def test_a_second_mc_reaper_says_so_and_exits_while_one_runs(tmp_path: Path, telegram: FakeTelegram) -> None:
    path = tmp_path / "mc.db"
    seed(path)
    env = reaper_env(telegram, PYTHONUNBUFFERED="1")
    command = [sys.executable, "-m", "app.cli", "reaper", "--db", str(path)]
    running = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        assert running.stdout is not None
        assert running.stdout.readline().startswith(f"Reaping {path} every 30 s, alerts to Telegram")
        second = run_mc("reaper", "--once", "--db", str(path), env=env)
        assert second.returncode == 1 and second.stdout == ""
        assert second.stderr.startswith("mc: error: another reaper is running on") and second.stderr.count("\n") == 1
        running.send_signal(signal.SIGTERM)
        assert running.wait(10) == 0
        rest = running.stdout.read()
        assert rest.rstrip().endswith("Reaper stopped.") and "Traceback" not in rest
    finally:
        if running.poll() is None:
            running.kill()
            running.wait()
    assert len(telegram.sent) == 2


@pytest.mark.server
def test_the_server_reaps_in_the_background_and_stops_cleanly(tmp_path: Path, telegram: FakeTelegram) -> None:
    path = tmp_path / "mc.db"
    seed(path)
    settings = {k: v for k, v in reaper_env(telegram, MC_REAPER_INTERVAL_S="0.2").items() if k.startswith("MC_")}
    server = start_server(path, "--workers", "2", env=settings)
    try:
        deadline = time.monotonic() + 10
        while len(telegram.sent) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)  # a few more passes, in both processes: still one alert each
        assert len(telegram.sent) == 2
    finally:
        took = server.stop()
    assert took < 8 and server.process.stdout is not None
    output = "".join(server.output) + server.process.stdout.read()
    assert "Traceback" not in output and "ERROR" not in output

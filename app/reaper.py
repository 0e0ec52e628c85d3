"""The queue's reaper: returns run-out leases, retries, expires stuck messages, alerts once; one process at a time."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import signal
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import msgspec

from app.background import stop_task
from app.db import Database
from app.notify import LogNotifier, Notifier, notifier_for
from app.settings import Settings
from app.store import queue

log = logging.getLogger("mc.reaper")
ALERTS_PER_PASS = 50  # a backlog of alerts goes out over several passes rather than one long one


class ReaperBusy(Exception):
    """Another process holds the reaper lock; the message says which file."""


class Report(msgspec.Struct, frozen=True):
    """What one pass did."""

    requeued: int = 0  # leases that ran out, back in the queue
    retried: int = 0  # failed messages offered again after their backoff
    expired: int = 0  # stuck messages given up on
    dead: int = 0  # messages out of attempts
    alerted: int = 0
    not_sent: int = 0  # alerts that failed to go out; the next pass tries again

    def summary(self) -> str:
        """One line for a person."""
        return (
            f"{self.requeued} leases returned, {self.retried} retried, {self.expired} expired, {self.dead} dead; "
            f"{self.alerted} alerts sent, {self.not_sent} not sent"
        )


def alert_text(alert: queue.Alert) -> str:
    """The alert a person reads: which message, why, and its start."""
    where = ", ".join(filter(None, (alert.ticket, f"for {alert.worker}" if alert.worker else "for any worker")))
    why = "is dead after " + (f"{alert.attempts} attempts" if alert.attempts != 1 else "1 attempt")
    if alert.status == "expired":
        why = "expired: nobody finished it in time"
    body = alert.body if len(alert.body) <= 200 else alert.body[:199] + "…"
    reason = f"\nLast error: {alert.last_error}" if alert.last_error else ""
    return f"Mission Control: queued message #{alert.id} ({where}) {why}.{reason}\n\n{body}"


async def send_alerts(db: Database, notifier: Notifier, now: datetime | None = None) -> tuple[int, int]:
    """Alert each newly expired or dead message once; return (sent, not sent)."""
    claimed_at, alerts = await queue.claim_alerts(db, ALERTS_PER_PASS, now)
    unsent = [a.id for a in alerts]
    try:
        for alert in alerts:
            if await notifier.send(alert_text(alert)):
                unsent.remove(alert.id)
    finally:
        # Unsent ones (a failure, or a shutdown mid-way) are unmarked, so the next pass sends them.
        await asyncio.shield(queue.release_alerts(db, unsent, claimed_at))
    return len(alerts) - len(unsent), len(unsent)


async def reap_once(db: Database, settings: Settings, notifier: Notifier, now: datetime | None = None) -> Report:
    """One pass: sweep the queue's states in one transaction, then send the alerts it is due."""
    swept = await queue.sweep(db, settings.queue_max_attempts, settings.queue_stuck_minutes, now)
    changes = [*swept.leases, *swept.retries, *swept.stuck]
    sent, not_sent = await send_alerts(db, notifier, now)
    return Report(
        requeued=sum(c.status == "queued" for c in swept.leases),
        retried=sum(c.status == "queued" for c in swept.retries),
        expired=len(swept.stuck),
        dead=sum(c.status == "dead" for c in changes),
        alerted=sent,
        not_sent=not_sent,
    )


class ProcessLock:
    """A non-blocking flock on `<db>.<role>.lock`: whoever holds it is the one process in that role (the reaper, the
    scheduler)."""

    def __init__(self, db_path: Path, role: str = "reaper") -> None:
        self.path = Path(f"{db_path}.{role}.lock")
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        """Whether this object holds the lock."""
        return self._fd is not None

    def acquire(self) -> bool:
        """Take the lock if free (True), or leave it to its holder (False); never waits."""
        if self._fd is not None:
            return True
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def taken_elsewhere(self) -> bool:
        """Whether another holder has the lock now (this one does not): asked without keeping it."""
        if self._fd is not None:
            return False
        if not self.acquire():
            return True
        self.release()
        return False

    def release(self) -> None:
        """Let another process become the reaper (closing the file drops the lock; so does dying)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class Reaper:
    """The server's background reaper: every interval, take the lock if free, and reap while holding it."""

    def __init__(self, db: Database, settings: Settings, notifier: Notifier | None = None) -> None:
        self.db = db
        self.settings = settings
        self.notifier = notifier or notifier_for(settings)
        self.lock = ProcessLock(db.path)
        self.passes = 0
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start the background task (nothing when MC_REAPER_INTERVAL_S is 0)."""
        if self.settings.reaper_interval_s <= 0:
            log.info("The queue reaper is off (MC_REAPER_INTERVAL_S=0).")
            return
        if isinstance(self.notifier, LogNotifier):
            log.warning("Queue alerts go to the log: set MC_TELEGRAM_BOT_TOKEN and MC_TELEGRAM_CHAT_ID for Telegram.")
        else:
            log.info("Queue alerts go to Telegram.")
        self._task = asyncio.create_task(self._run(), name="mc-reaper")

    async def _run(self) -> None:
        # The first pass waits one interval, so a starting server is not busy reaping while it comes up. A
        # process that does not hold the lock tries again every interval: if the holder dies, one takes over.
        while True:
            await asyncio.sleep(self.settings.reaper_interval_s)
            try:
                if not self.lock.acquire():
                    continue
                report = await reap_once(self.db, self.settings, self.notifier)
                self.passes += 1
                if report != Report():
                    log.info("Reaper: %s", report.summary())
            except Exception:
                # A failed pass (a locked database, a bad row) must not end the reaper: the next one retries.
                log.exception("A reaper pass failed; the next one retries")

    async def stop(self) -> None:
        """Cancel the task, wait for it to end, and give up the lock."""
        await stop_task(self._task)
        self._task = None
        self.lock.release()


async def run_standalone(db: Database, settings: Settings, once: bool, say: Callable[[str], None]) -> None:
    """`mc reaper`: one pass with `once`, else a pass every interval until SIGINT or SIGTERM; ReaperBusy if taken."""
    lock = ProcessLock(db.path)
    if not lock.acquire():
        raise ReaperBusy(
            f"another reaper is running on {db.path} (it holds {lock.path}): a `mc serve` with"
            " MC_REAPER_INTERVAL_S above 0, or another `mc reaper`"
        )
    notifier = notifier_for(settings)
    try:
        if once:
            say(f"Reaped {db.path}: {(await reap_once(db, settings, notifier)).summary()} (alerts to {notifier.name}).")
            return
        await _loop(db, settings, notifier, say)
    finally:
        lock.release()


async def _loop(db: Database, settings: Settings, notifier: Notifier, say: Callable[[str], None]) -> None:
    """A pass every interval until a signal asks to stop (between passes, never in the middle of one)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    interval = settings.reaper_interval_s or 30.0  # 0 turns off the server's reaper, not this command
    say(f"Reaping {db.path} every {interval:g} s, alerts to {notifier.name}; Ctrl-C stops.")
    try:
        while not stop.is_set():
            report = await reap_once(db, settings, notifier)
            if report != Report():
                say(report.summary())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    say("Reaper stopped.")

"""The scheduler: runs the tasks of MC_TASKS_FILE when their cron says, and the runs people ask for ("Run now"),
each as a real process (through the shell, as cron does: the file is the owner's), one at a time per task, with
its timeout, its output's tail and exit status kept in task_runs.

One process schedules: whoever holds `<db>.scheduler.lock` (the reaper's kind of lock) — one `mc serve` process,
or `mc scheduler` on its own. The others leave it be and try again each tick, so if the holder dies another takes
over. Runs missed while no scheduler ran are not made up (cron's way); a run left 'running' by a scheduler that
died is closed as an error when the next one starts."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import signal
import time
from collections.abc import Callable

from app.background import Periodic
from app.clock import stamp, utcnow
from app.db import Database
from app.reaper import ProcessLock
from app.settings import Settings
from app.store import tasks as store
from app.tasks import Task, TaskFile, current_tasks

log = logging.getLogger("mc.scheduler")

OUTPUT_TAIL = 64 * 1024  # bytes of a run's output kept: its end, where the errors are
KILL_GRACE_S = 5.0  # after a timeout's SIGTERM, SIGKILL follows this much later
DRAIN_S = 1.0  # after the process exits, how long its output may still take (a child that kept the pipe)


class Scheduler(Periodic):
    """Every tick: take the lock if free; while holding it, start what is due and what people asked for."""

    def __init__(self, db: Database, settings: Settings) -> None:
        super().__init__("mc-scheduler", settings.scheduler_tick_s, self.tick, log)
        self.db = db
        self.path = settings.tasks_file
        self.lock = ProcessLock(db.path, "scheduler")
        self.tasks = TaskFile(self.path, [], [])
        self._next: dict[str, dt.datetime] = {}
        self._runs: dict[str, asyncio.Task[None]] = {}
        self.started = 0  # runs started (skipped ones not counted)

    async def tick(self) -> None:
        """One look: due tasks and requests are started (never waited for)."""
        if not self.lock.held:
            if not self.lock.acquire():
                return
            await store.abandon_running(self.db, stamp())  # a scheduler before this one died mid-run
        self.reload()
        now = utcnow()
        for task in self.tasks.tasks:
            if not task.enabled:
                continue
            due = self._next.setdefault(task.name, task.next_run(now))
            if now >= due:
                self._next[task.name] = task.next_run(now)
                await self.run_task(task, "schedule")
        for request in await store.take_requests(self.db, stamp()):
            asked = self.tasks.named(request.task_name)
            if asked is not None:
                await self.run_task(asked, "manual")

    def reload(self) -> None:
        """Take the tasks file as it is now (a task whose schedule changed is planned afresh)."""
        found = current_tasks(self.path)
        if found is self.tasks:
            return
        before = {t.name: t for t in self.tasks.tasks}
        self.tasks = found
        for problem in self.tasks.problems:
            log.warning("tasks file: %s", problem)
        for task in self.tasks.tasks:
            if before.get(task.name) != task:
                self._next.pop(task.name, None)

    async def run_task(self, task: Task, trigger: str) -> bool:
        """Start a run of `task` unless one is under way (then the refusal is recorded as a skipped run)."""
        going = self._runs.get(task.name)
        if going is not None and not going.done():
            run_id = await store.start_run(self.db, task.name, trigger, stamp())
            note = "Not started: the run before was still going (one run at a time per task)."
            await store.finish_run(self.db, run_id, "skipped", stamp(), 0, None, note)
            return False
        run_id = await store.start_run(self.db, task.name, trigger, stamp())
        self.started += 1
        self._runs[task.name] = asyncio.create_task(self._execute(task, run_id), name=f"mc-task-{task.name}")
        return True

    async def wait(self) -> None:
        """Wait for every run under way to end (tests, and `mc scheduler --once`)."""
        await asyncio.gather(*self._runs.values(), return_exceptions=True)

    async def stop(self) -> None:
        """Stop scheduling; a run under way is stopped (its process group ended) and recorded so."""
        await super().stop()
        for run in list(self._runs.values()):
            run.cancel()
        await asyncio.gather(*self._runs.values(), return_exceptions=True)
        self._runs.clear()
        self.lock.release()

    async def _execute(self, task: Task, run_id: int) -> None:
        began = time.monotonic()
        tail = bytearray()
        cut = False
        status, code, note = "error", None, ""
        process: asyncio.subprocess.Process | None = None
        try:
            process = await asyncio.create_subprocess_shell(
                task.command, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip

            async def read() -> None:
                nonlocal cut
                assert process is not None and process.stdout is not None
                while chunk := await process.stdout.read(65_536):
                    tail.extend(chunk)
                    if len(tail) > OUTPUT_TAIL:
                        del tail[: len(tail) - OUTPUT_TAIL]
                        cut = True

            reader = asyncio.create_task(read())
            try:
                code = await asyncio.wait_for(process.wait(), task.timeout)
                status = "ok" if code == 0 else "error"
            except TimeoutError:
                code = await _end(process)
                note = f"\n[Stopped: still running after its timeout of {task.timeout:g} s.]"
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(reader), DRAIN_S)
            reader.cancel()
        except OSError as exc:
            note = f"[Could not start: {exc}]"
        except asyncio.CancelledError:
            if process is not None and process.returncode is None:
                code = await _end(process)
            note = "\n[Stopped: the scheduler was stopped.]"
            await self._finish(run_id, "error", began, code, tail, cut, note)
            raise
        await self._finish(run_id, status, began, code, tail, cut, note)

    async def _finish(
        self, run_id: int, status: str, began: float, code: int | None, tail: bytearray, cut: bool, note: str
    ) -> None:
        text = tail.decode("utf-8", errors="replace")
        if cut:
            text = "[… earlier output not kept]\n" + text
        duration = round((time.monotonic() - began) * 1000)
        await store.finish_run(self.db, run_id, status, stamp(), duration, code, (text + note).strip("\n"))


async def _end(process: asyncio.subprocess.Process) -> int | None:
    """Stop a run's whole process group: SIGTERM, then SIGKILL after KILL_GRACE_S."""
    for sig, wait_s in ((signal.SIGTERM, KILL_GRACE_S), (signal.SIGKILL, KILL_GRACE_S)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        with contextlib.suppress(TimeoutError):
            return await asyncio.wait_for(process.wait(), wait_s)
    return process.returncode


class SchedulerBusy(Exception):
    """Another process schedules (holds the scheduler lock)."""


async def run_standalone(db: Database, settings: Settings, once: bool, say: Callable[[str], None]) -> None:
    """`mc scheduler`: with `once`, start what is due and asked for now and wait for it; else tick until SIGINT or
    SIGTERM (a run under way is then stopped and recorded). SchedulerBusy when another process schedules."""
    scheduler = Scheduler(db, settings)
    if not scheduler.lock.acquire():
        raise SchedulerBusy(
            f"another scheduler is running on {db.path} (it holds {scheduler.lock.path}): a `mc serve` with"
            " MC_TASKS_FILE set, or another `mc scheduler`"
        )
    await store.abandon_running(db, stamp())
    scheduler.reload()
    for problem in scheduler.tasks.problems:
        say(f"warning: {problem}")
    if once:  # what this minute is due for, and what people asked for (cron can run this every minute)
        now = utcnow()
        for task in scheduler.tasks.tasks:
            if task.enabled and task.due_in_minute(now):
                await scheduler.run_task(task, "schedule")
        await scheduler.tick()
        await scheduler.wait()
        scheduler.lock.release()
        say(f"Started {scheduler.started} runs; each is on /tasks.")
        return
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    say(f"Scheduling {len(scheduler.tasks.tasks)} tasks from {settings.tasks_file} on {db.path}; Ctrl-C stops.")
    scheduler.start()
    try:
        await stop.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        await scheduler.stop()
    say("Scheduler stopped.")

"""Scheduled tasks as the owner writes them (MC_TASKS_FILE, TOML), and when each runs next (croniter).

    [[tasks]]
    name = "backup"
    cron = "15 3 * * *"        # five fields, the machine's local time (as cron has it)
    command = "mc backup --keep 14"
    enabled = true             # default true
    timeout = 600              # seconds, default 300

A file that cannot be read or a task that is wrong (a bad cron, a name twice) is a problem to show on /tasks, never
a reason for the server not to start: the tasks that are right still run."""

from __future__ import annotations

import datetime as dt
import os
import tomllib
from pathlib import Path
from typing import Annotated

import msgspec
from croniter import croniter

NAME = r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,99}$"


class Task(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One scheduled task."""

    name: Annotated[str, msgspec.Meta(pattern=NAME)]
    cron: str
    command: Annotated[str, msgspec.Meta(min_length=1, max_length=4096)]
    enabled: bool = True
    timeout: Annotated[float, msgspec.Meta(gt=0, le=86_400)] = 300.0

    def due_in_minute(self, at: dt.datetime) -> bool:
        """Whether its cron names the minute of `at` (for a scheduler run once a minute from outside)."""
        return bool(croniter.match(self.cron, at.astimezone()))

    def next_run(self, after: dt.datetime) -> dt.datetime:
        """When it runs next after `after` (an aware time; the cron fields are in the machine's local time)."""
        local = after.astimezone()
        return croniter(self.cron, local).get_next(dt.datetime).astimezone(dt.UTC)


class TaskFile(msgspec.Struct, frozen=True):
    """What the tasks file holds: the tasks that are right, and what is wrong with the rest."""

    path: str
    tasks: list[Task]
    problems: list[str]

    def named(self, name: str) -> Task | None:
        """The task called `name`, if the file has it."""
        return next((t for t in self.tasks if t.name == name), None)


_read: dict[str, tuple[tuple[int, int] | None, TaskFile]] = {}


def current_tasks(path: str) -> TaskFile:
    """The tasks in `path` as the file is now: read again only when it changed (by modification time and size),
    so the pages and the scheduler's every tick ask for it freely; the same TaskFile while it has not."""
    try:
        info = os.stat(path) if path else None
        stamp = (info.st_mtime_ns, info.st_size) if info else None
    except OSError:
        stamp = None
    known = _read.get(path)
    if known is not None and known[0] == stamp:  # (a missing file stays missing until it appears)
        return known[1]
    found = load_tasks(path)
    _read[path] = (stamp, found)
    return found


def tasks_version(path: str) -> tuple[int, int] | None:
    """What current_tasks last found of the file (modification time and size): a kept page's key holds it."""
    known = _read.get(path)
    return known[0] if known else None


def load_tasks(path: str) -> TaskFile:
    """The tasks in `path` ("" or a missing file: none, and for a missing file a problem saying so)."""
    if not path:
        return TaskFile("", [], [])
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return TaskFile(path, [], [f"{path} does not exist."])
    except (OSError, UnicodeDecodeError) as exc:
        return TaskFile(path, [], [f"{path} cannot be read: {exc}."])
    except tomllib.TOMLDecodeError as exc:
        return TaskFile(path, [], [f"{path} is not valid TOML: {exc}."])
    entries = data.get("tasks", [])
    if not isinstance(entries, list):
        return TaskFile(path, [], [f"{path}: `tasks` must be an array of tables ([[tasks]])."])
    tasks: list[Task] = []
    problems: list[str] = []
    for n, entry in enumerate(entries, 1):
        try:
            task = msgspec.convert(entry, Task)
        except msgspec.ValidationError as exc:
            problems.append(f"Task {n}: {exc}.")
            continue
        if not croniter.is_valid(task.cron) or len(task.cron.split()) != 5:
            problems.append(f"Task {task.name!r}: {task.cron!r} is not a cron schedule of five fields.")
        elif any(t.name == task.name for t in tasks):
            problems.append(f"Task {task.name!r} is named twice: only the first is used.")
        else:
            tasks.append(task)
    return TaskFile(path, tasks, problems)
